//! Verification: an [`UnverifiedBundle`] becomes a [`VerifiedBundle`] only through every check,
//! in a fixed order, each with its own code.

use super::dsse::pae;
use super::error::{BundleCode, BundleError};
use super::keys::TrustedKeys;
use super::wire::{decode, BinaryBody, Decoded, Encoding};
use crate::core::time::parse_rfc3339;
use crate::core::{Policy, Session, Subject};
use crate::prelude::*;
use alloc::sync::Arc;

/// Default input limit: 8 MiB.
pub const DEFAULT_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Default clock skew allowed on `issued_at` and `expires_at`: 5 minutes.
pub const DEFAULT_SKEW_MS: i64 = 5 * 60 * 1000;

/// What a verifier requires. `now_ms` is a parameter: nothing here reads a clock.
#[derive(Debug, Clone)]
pub struct VerifyOptions<'a> {
    /// The trusted keys and threshold.
    pub keys: &'a TrustedKeys,
    /// The app the bundle must be for (`None`: any).
    pub app: Option<&'a str>,
    /// The lowest acceptable version (the highest seen so far).
    pub min_version: u64,
    /// The current time, Unix milliseconds.
    pub now_ms: i64,
    /// Clock skew allowed on both ends of the validity window.
    pub skew_ms: i64,
    /// Input size limit, checked before any parsing.
    pub max_bytes: usize,
    /// The current user: a bundle bound to anyone else is refused.
    pub subject: Option<&'a str>,
    /// The signatures the host checked itself: positions in [`UnverifiedBundle::to_check`]'s
    /// list of those that verified. `None`: checked here (the `ed25519` feature).
    pub checked: Option<&'a [usize]>,
    /// How long past its expiry a bundle still serves an offline device (opted in; every other
    /// check still runs): `None` refuses an expired bundle (`expired`).
    pub grace_ms: Option<i64>,
}

/// Where a verified bundle stands in time (see [`freshness`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Within its validity window (and the skew).
    Fresh,
    /// Expired, within the grace a device opted into: it serves as it is.
    Grace,
    /// Expired past that grace: it serves in stale mode (view only).
    Stale,
}

impl Freshness {
    /// `fresh`, `grace` or `stale`.
    pub fn as_str(self) -> &'static str {
        match self {
            Freshness::Fresh => "fresh",
            Freshness::Grace => "grace",
            Freshness::Stale => "stale",
        }
    }
}

/// Where a bundle expiring at `expires_at_ms` stands at `now_ms`: fresh until its expiry plus
/// `skew_ms`; then, with `grace_ms`, in grace until its expiry plus the grace, stale after;
/// without, `None` (refused as expired). The one rule the verifier, the browser's bundle store
/// and the Node middleware follow.
pub fn freshness(
    now_ms: i64,
    expires_at_ms: i64,
    skew_ms: i64,
    grace_ms: Option<i64>,
) -> Option<Freshness> {
    if now_ms <= expires_at_ms.saturating_add(skew_ms) {
        return Some(Freshness::Fresh);
    }
    let grace = grace_ms?;
    Some(if now_ms <= expires_at_ms.saturating_add(grace) {
        Freshness::Grace
    } else {
        Freshness::Stale
    })
}

impl<'a> VerifyOptions<'a> {
    /// Defaults: any app, no floor, 5 minutes skew, 8 MiB, no subject binding.
    pub fn new(keys: &'a TrustedKeys, now_ms: i64) -> VerifyOptions<'a> {
        VerifyOptions {
            keys,
            app: None,
            min_version: 0,
            now_ms,
            skew_ms: DEFAULT_SKEW_MS,
            max_bytes: DEFAULT_MAX_BYTES,
            subject: None,
            checked: None,
            grace_ms: None,
        }
    }
}

/// A bundle read from untrusted bytes: nothing in it can be used before [`verify`](Self::verify).
pub struct UnverifiedBundle {
    decoded: Decoded,
}

/// A bundle that passed every check, with its compiled policy.
#[derive(Debug)]
pub struct VerifiedBundle {
    /// The compiled policy.
    pub policy: Policy,
    /// Ids of the trusted keys whose signatures verified.
    pub key_ids: Vec<String>,
    /// How it was encoded.
    pub encoding: Encoding,
    /// `issued_at`, Unix milliseconds.
    pub issued_at_ms: i64,
    /// `expires_at`, Unix milliseconds.
    pub expires_at_ms: i64,
    /// Where it stands at the verifier's `now_ms`: only `Fresh` unless grace was opted into.
    pub freshness: Freshness,
    /// The signed body as it was signed: for a JSON bundle, the policy document with its
    /// stamps (what a restore compares stored documents with).
    pub body: Vec<u8>,
}

impl UnverifiedBundle {
    /// Reads the envelope or binary frame (JSON or binary is detected from the bytes).
    ///
    /// # Errors
    /// `too_large` over `max_bytes` (before any parsing), `bad_bundle` on bad framing or base64.
    pub fn parse(bytes: &[u8], max_bytes: usize) -> Result<UnverifiedBundle, BundleError> {
        if bytes.len() > max_bytes {
            let msg = format!("bundle is {} bytes; the limit is {max_bytes}", bytes.len());
            return Err(BundleError::new(BundleCode::TooLarge, msg));
        }
        Ok(UnverifiedBundle {
            decoded: decode(bytes)?,
        })
    }

    /// The signatures a host that checks them itself must check, with the signed message: the
    /// first signature of each trusted key, in the bundle's order (a key counts once, so a
    /// bundle carrying one signature many times costs one check).
    pub fn to_check(&self, keys: &TrustedKeys) -> ToCheck {
        let d = &self.decoded;
        ToCheck {
            message: pae(d.payload_type(), &d.body),
            signatures: candidates(d, keys)
                .map(|(k, s)| (k, s.sig.clone()))
                .collect(),
        }
    }

    /// Runs every check in order: signatures (`untrusted_key`, `bad_signature`), payload
    /// (`bad_policy`), `wrong_app`, `rollback`, `expired`, `not_yet_valid`, `wrong_subject`.
    ///
    /// # Errors
    /// The first check that fails.
    pub fn verify(self, opts: &VerifyOptions<'_>) -> Result<VerifiedBundle, BundleError> {
        let d = self.decoded;
        let key_ids = check_signatures(&d, opts)?;
        let policy = match d.encoding {
            #[cfg(feature = "compile")]
            Encoding::Json => Policy::from_slice(&d.body).map_err(|errors| BundleError {
                code: BundleCode::BadPolicy,
                message: "the signed payload is not a valid policy".into(),
                policy_errors: Some(errors),
            })?,
            // Never decoded without the compiler (`wire::decode` refuses it first).
            #[cfg(not(feature = "compile"))]
            Encoding::Json => return Err(BundleError::new(BundleCode::NeedsFullModule, "")),
            Encoding::Binary => {
                let bad = |why: String| BundleError::new(BundleCode::BadPolicy, why);
                let (body, rest): (BinaryBody, _) =
                    postcard::take_from_bytes(&d.body).map_err(|e| {
                        bad(format!(
                            "the signed body does not decode to a sound policy: {e}"
                        ))
                    })?;
                if !rest.is_empty() {
                    return Err(bad(format!(
                        "the signed body has {} bytes after its end",
                        rest.len()
                    )));
                }
                body.policy
            }
        };
        let h = policy.header();
        if let Some(app) = opts.app {
            if h.app != app {
                let msg = format!("bundle is for app `{}`, not `{app}`", h.app);
                return Err(BundleError::new(BundleCode::WrongApp, msg));
            }
        }
        if h.version < opts.min_version {
            let msg = format!(
                "version {} is below the highest seen, {}",
                h.version, opts.min_version
            );
            return Err(BundleError::new(BundleCode::Rollback, msg));
        }
        let time = |field: &Option<String>, name: &str| {
            field.as_deref().and_then(parse_rfc3339).ok_or_else(|| {
                BundleError::new(
                    BundleCode::BadPolicy,
                    format!("the signed policy has no valid `{name}`"),
                )
            })
        };
        let issued_at_ms = time(&h.issued_at, "issued_at")?;
        let expires_at_ms = time(&h.expires_at, "expires_at")?;
        if expires_at_ms < issued_at_ms {
            let msg = "the signed policy expires before it was issued";
            return Err(BundleError::new(BundleCode::BadPolicy, msg));
        }
        let Some(freshness) = freshness(opts.now_ms, expires_at_ms, opts.skew_ms, opts.grace_ms)
        else {
            let msg = format!("expired at {}", h.expires_at.as_deref().unwrap_or_default());
            return Err(BundleError::new(BundleCode::Expired, msg));
        };
        if opts.now_ms < issued_at_ms.saturating_sub(opts.skew_ms) {
            let msg = format!(
                "issued at {}, in the future",
                h.issued_at.as_deref().unwrap_or_default()
            );
            return Err(BundleError::new(BundleCode::NotYetValid, msg));
        }
        if let (Some(want), Some(bound)) = (opts.subject, h.subject.as_deref()) {
            if want != bound {
                let msg = format!("bundle is bound to user `{bound}`, not `{want}`");
                return Err(BundleError::new(BundleCode::WrongSubject, msg));
            }
        }
        Ok(VerifiedBundle {
            policy,
            key_ids,
            encoding: d.encoding,
            issued_at_ms,
            expires_at_ms,
            freshness,
            body: d.body,
        })
    }
}

/// Parses and verifies in one step.
///
/// # Errors
/// As [`UnverifiedBundle::parse`] and [`UnverifiedBundle::verify`].
pub fn verify(bytes: &[u8], opts: &VerifyOptions<'_>) -> Result<VerifiedBundle, BundleError> {
    UnverifiedBundle::parse(bytes, opts.max_bytes)?.verify(opts)
}

/// What a host checks when it verifies signatures itself: `message`, and each signature with
/// the position of its key among the trusted keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToCheck {
    /// The signed message (DSSE's pre-authentication encoding of the body).
    pub message: Vec<u8>,
    /// (trusted key position, signature bytes), in the bundle's order.
    pub signatures: Vec<(usize, Vec<u8>)>,
}

/// The first signature of each trusted key, in order, with the key's position.
fn candidates<'d>(
    d: &'d Decoded,
    keys: &'d TrustedKeys,
) -> impl Iterator<Item = (usize, &'d super::wire::RawSignature)> {
    let mut seen: Vec<usize> = Vec::new();
    d.signatures.iter().filter_map(move |s| {
        let k = keys.keys().iter().position(|k| k.id() == s.keyid)?;
        if seen.contains(&k) {
            return None;
        }
        seen.push(k);
        Some((k, s))
    })
}

/// The ids of the trusted keys whose signatures verify (checked here, or by the host as
/// `opts.checked` says). Checking stops once the threshold is met.
fn check_signatures(d: &Decoded, opts: &VerifyOptions<'_>) -> Result<Vec<String>, BundleError> {
    let keys = opts.keys;
    let message = match opts.checked {
        None => pae(d.payload_type(), &d.body),
        Some(_) => Vec::new(),
    };
    let mut good: Vec<String> = Vec::new();
    let mut trusted_seen = false;
    for (i, (k, s)) in candidates(d, keys).enumerate() {
        if good.len() >= keys.threshold() {
            break;
        }
        trusted_seen = true;
        let verified = match opts.checked {
            Some(list) => list.contains(&i),
            None => verify_here(keys, k, &message, &s.sig)?,
        };
        if !verified {
            let msg = format!("the signature by key {} does not verify", s.keyid);
            return Err(BundleError::new(BundleCode::BadSignature, msg));
        }
        good.push(s.keyid.clone());
    }
    if !trusted_seen {
        // A plain loop: the library's `join` is a kilobyte of the browser's module.
        let mut ids = String::new();
        for (i, s) in d.signatures.iter().enumerate() {
            if i > 0 {
                ids.push_str(", ");
            }
            ids.push_str(&s.keyid);
        }
        let msg = format!("signed by {ids}, none of them trusted");
        return Err(BundleError::new(BundleCode::UntrustedKey, msg));
    }
    if good.len() < keys.threshold() {
        let msg = format!(
            "{} trusted keys signed; {} are required",
            good.len(),
            keys.threshold()
        );
        return Err(BundleError::new(BundleCode::BadSignature, msg));
    }
    Ok(good)
}

/// Whether trusted key `k`'s signature verifies, checked in this crate.
#[cfg(feature = "ed25519")]
#[expect(
    clippy::unnecessary_wraps,
    reason = "the same signature as the build without Ed25519, which refuses"
)]
fn verify_here(
    keys: &TrustedKeys,
    k: usize,
    message: &[u8],
    sig: &[u8],
) -> Result<bool, BundleError> {
    Ok(keys
        .keys()
        .get(k)
        .is_some_and(|key| key.verifies(message, sig)))
}

/// Without Ed25519 in the crate the host checks signatures: asked to check here, it refuses.
#[cfg(not(feature = "ed25519"))]
fn verify_here(_: &TrustedKeys, _: usize, _: &[u8], _: &[u8]) -> Result<bool, BundleError> {
    let msg = "this build checks no signatures itself: the host checks `to_check`'s list";
    Err(BundleError::new(BundleCode::BadSignature, msg))
}

/// A session for `subject` on a verified policy. A minimized bundle answers for its one user
/// only: for anyone else it would decide with that user's grants. A bundle that carries the
/// user as the server resolved them (`person`) decides with exactly that subject: a subject
/// given by id alone becomes it, any other must say the same.
///
/// # Errors
/// `wrong_subject` for a minimized policy and another user, `subject_mismatch` for the same
/// user with other attributes than the bundle's.
pub fn session_for(
    policy: &Arc<Policy>,
    subject: &Subject,
    now: i64,
) -> Result<Session, BundleError> {
    if let Some(bound) = policy.header().subject.as_deref() {
        if bound != subject.id {
            return Err(BundleError::new(
                BundleCode::WrongSubject,
                format!(
                    "this bundle is minimized for `{bound}`, not `{}`",
                    subject.id
                ),
            ));
        }
    }
    let person = match &policy.header().person {
        Some(text) => Some(serde_json::from_str::<Subject>(text).map_err(|e| {
            BundleError::new(BundleCode::BadBundle, format!("the bundle's `person`: {e}"))
        })?),
        None => None,
    };
    match &person {
        Some(person) if subject.only_id() || subject.same_as(person) => {
            Ok(policy.session_at(person, now))
        }
        Some(_) => Err(BundleError::new(
            BundleCode::SubjectMismatch,
            format!(
                "the bundle was made for `{}` as the server knows them; a session may not say \
                 otherwise of their department, groups, roles, attributes or reports",
                subject.id
            ),
        )),
        None => Ok(policy.session_at(subject, now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{seal_unchecked, SecretKey, TrustedKeys};

    #[test]
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a test policy's counts are tiny"
    )]
    fn a_signed_binary_body_that_is_not_sound_is_refused() {
        let text = include_str!("../../examples/acme-erp.policy.json");
        let mut policy = Policy::from_json(text).expect("the sample compiles");
        policy.header.issued_at = Some("2026-11-01T00:00:00Z".into());
        policy.header.expires_at = Some("2026-12-31T00:00:00Z".into());
        let key = SecretKey::from_seed(&[3; 32]);
        let keys = TrustedKeys::new(vec![key.public()]);
        let opts = VerifyOptions::new(&keys, 1_795_341_600_000);
        let seal = |policy: Policy| {
            let body = BinaryBody {
                key_ids: vec![],
                policy,
            };
            let bytes = postcard::to_allocvec(&body).unwrap();
            seal_unchecked(Encoding::Binary, bytes, &[&key])
        };
        let sound = verify(&seal(policy.clone()), &opts);
        assert!(sound.is_ok(), "{:?}", sound.err());
        let roles = policy.roles.len() as u32;
        policy.roles[1].ancestors = vec![roles];
        let e = verify(&seal(policy), &opts).expect_err("refused");
        assert_eq!(e.code, BundleCode::BadPolicy);
        assert!(
            e.message
                .starts_with("the signed body does not decode to a sound policy"),
            "{}",
            e.message
        );
        // Decoding is where the check lives: no public path yields an unchecked policy.
        let mut p2 = Policy::from_json(text).unwrap();
        p2.roles[1].ancestors = vec![roles];
        let bytes = postcard::to_allocvec(&p2).unwrap();
        assert!(postcard::from_bytes::<Policy>(&bytes).is_err());
    }
}
