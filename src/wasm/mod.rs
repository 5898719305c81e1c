//! The JavaScript bindings: a thin shell over the core and bundles (feature `wasm`).
//!
//! On the hot path records and contexts cross as slot values (only what the compiled policy
//! reads, in the order of `recordPaths()` / `contextPaths()`) written by JS straight into a
//! scratch buffer in wasm memory (see [`slots`]); state codes come back the same way. Errors
//! cross as one shape, `{ code, message, path?, errors? }`, made in [`error`]; the npm wrapper
//! turns them into `FieldgateError`.

// No panics in the evaluator's paths: each justified exception says why (`#[expect(…, reason = …)]`).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod error;
mod slots;

use crate::bundle::{format_rfc3339, BundleCode, Freshness, PublicKey, TrustedKeys, VerifyOptions};
use crate::core::members::{self, required, Members};
use crate::core::{Code, Input, Mode, Policy, ResourceId, Session, Subject};
use crate::prelude::*;
use alloc::sync::Arc;
use error::{from_bundle, from_request, js_error, json_text};
use serde_json::Value;
use wasm_bindgen::prelude::*;

/// The package's module has no standard library: a panic (a bug) traps at once, without the
/// message formatting and printing machinery that a panic in `std` drags into the module.
#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The package's allocator (the one `std` uses on this target).
#[cfg(not(feature = "std"))]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// Options of `Engine.load`, as JSON.
struct LoadOptions {
    trusted_keys: Vec<String>,
    threshold: Option<u64>,
    app: Option<String>,
    min_version: Option<u64>,
    now: f64,
    skew_ms: Option<f64>,
    grace_ms: Option<f64>,
    max_bytes: Option<u64>,
    user: Option<String>,
    /// Positions in `toCheck`'s list of the signatures the host verified (WebCrypto).
    checked: Option<Vec<usize>>,
}

impl<'de> serde::Deserialize<'de> for LoadOptions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<LoadOptions, D::Error> {
        members::deserialize(d, |v| {
            let m = Members::of(v)?;
            Ok(LoadOptions {
                trusted_keys: required("trustedKeys", m.strings("trustedKeys")?)?,
                threshold: m.u64("threshold")?,
                app: m.string("app")?,
                min_version: m.u64("minVersion")?,
                now: required("now", m.f64("now")?)?,
                skew_ms: m.f64("skewMs")?,
                grace_ms: m.f64("graceMs")?,
                max_bytes: m.u64("maxBytes")?,
                user: m.string("user")?,
                checked: match m.array("checked")? {
                    None => None,
                    Some(list) => Some(
                        list.map(|v| v.as_u64().and_then(|n| usize::try_from(n).ok()))
                            .collect::<Option<Vec<usize>>>()
                            .ok_or("`checked` lists positions")?,
                    ),
                },
            })
        })
    }
}

/// Load options from their JSON.
fn load_options(json: &str) -> Result<LoadOptions, JsValue> {
    serde_json::from_str(json).map_err(|e| {
        js_error(
            Code::BadRequest.as_str(),
            &format!("bad load options: {e}"),
            None,
        )
    })
}

/// The trusted keys and threshold the options give.
fn trusted_keys(o: &LoadOptions) -> Result<TrustedKeys, JsValue> {
    let keys = o
        .trusted_keys
        .iter()
        .map(|k| PublicKey::from_base64(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| from_bundle(&e))?;
    if keys.is_empty() {
        return Err(js_error(
            BundleCode::BadKey.as_str(),
            "trustedKeys must name at least one key",
            None,
        ));
    }
    let threshold = o
        .threshold
        .map_or(1, |t| usize::try_from(t).unwrap_or(usize::MAX));
    Ok(TrustedKeys::new(keys).with_threshold(threshold))
}

/// A policy document compiled, where the module has the compiler.
#[cfg(feature = "compile")]
fn compile_unverified(json: &str) -> Result<Policy, JsValue> {
    Policy::from_json(json).map_err(|e| error::from_policy(&e))
}

/// The browser's module has no compiler, but the same exports (one glue drives every module).
#[cfg(not(feature = "compile"))]
fn compile_unverified(_: &str) -> Result<Policy, JsValue> {
    Err(js_error(
        BundleCode::NeedsFullModule.as_str(),
        "this module reads binary bundles: load fieldgate_wasm_full_bg.wasm to compile a policy document",
        None,
    ))
}

/// [`WasmEngine::schema`]'s JSON.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Schema<'a> {
    app: &'a str,
    version: u64,
    issued_at: Option<&'a str>,
    expires_at: Option<&'a str>,
    /// `fresh`, `grace` or `stale` when it was loaded.
    freshness: &'a str,
    key_id: Option<&'a str>,
    subject: Option<&'a str>,
    /// The signed person's JSON text (the wrapper parses it).
    person: Option<&'a str>,
    record_paths: Vec<String>,
    context_paths: Vec<String>,
    resources: Vec<&'a str>,
}

/// [`WasmEngine::resource_schema`]'s JSON.
#[derive(serde::Serialize)]
struct ResourceSchema<'a> {
    fields: Vec<&'a str>,
    actions: Vec<&'a str>,
    slots: Vec<u32>,
}

/// A loaded policy and what its bundle said about it.
#[wasm_bindgen]
pub struct WasmEngine {
    policy: Arc<Policy>,
    key_ids: Vec<String>,
    issued_at: Option<String>,
    expires_at: Option<String>,
    expires_at_ms: Option<i64>,
    freshness: Freshness,
}

#[wasm_bindgen]
impl WasmEngine {
    /// Verifies a signed bundle (JSON or binary) and compiles it. Without Ed25519 in the module
    /// the options carry `checked`: which of [`WasmEngine::to_check`]'s signatures verified.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "times in milliseconds are far below 2^63, and `as` saturates anything else"
    )]
    pub fn load(bytes: &[u8], options_json: &str) -> Result<WasmEngine, JsValue> {
        let o = load_options(options_json)?;
        let keys = trusted_keys(&o)?;
        let mut opts = VerifyOptions::new(&keys, o.now as i64);
        opts.app = o.app.as_deref();
        opts.min_version = o.min_version.unwrap_or(0);
        opts.subject = o.user.as_deref();
        opts.checked = o.checked.as_deref();
        if let Some(s) = o.skew_ms {
            opts.skew_ms = s as i64;
        }
        opts.grace_ms = o.grace_ms.map(|g| g as i64);
        if let Some(m) = o.max_bytes {
            opts.max_bytes = usize::try_from(m).unwrap_or(usize::MAX);
        }
        let b = crate::bundle::verify(bytes, &opts).map_err(|e| from_bundle(&e))?;
        Ok(WasmEngine {
            policy: Arc::new(b.policy),
            key_ids: b.key_ids,
            issued_at: Some(format_rfc3339(b.issued_at_ms)),
            expires_at: Some(format_rfc3339(b.expires_at_ms)),
            expires_at_ms: Some(b.expires_at_ms),
            freshness: b.freshness,
        })
    }

    /// The signatures the host checks (WebCrypto) before `load`, for the same bytes and
    /// options: a count (little-endian u16), then per signature its position in the list
    /// (what `checked` names), its trusted key's position in `trustedKeys` (u16 each) and its
    /// 64 bytes, then the signed message. A signature that is not 64
    /// bytes long is left out: it cannot verify, and `load` says so.
    #[wasm_bindgen(js_name = toCheck)]
    pub fn to_check(bytes: &[u8], options_json: &str) -> Result<Vec<u8>, JsValue> {
        let o = load_options(options_json)?;
        let keys = trusted_keys(&o)?;
        let max = o.max_bytes.map_or(crate::bundle::DEFAULT_MAX_BYTES, |m| {
            usize::try_from(m).unwrap_or(usize::MAX)
        });
        let c = crate::bundle::UnverifiedBundle::parse(bytes, max)
            .map_err(|e| from_bundle(&e))?
            .to_check(&keys);
        let sigs: Vec<(usize, usize, &[u8])> = c
            .signatures
            .iter()
            .enumerate()
            .filter(|(_, (_, s))| s.len() == 64)
            .map(|(i, (k, s))| (i, *k, s.as_slice()))
            .collect();
        let mut out = Vec::with_capacity(2 + sigs.len() * 68 + c.message.len());
        out.extend_from_slice(&u16::try_from(sigs.len()).unwrap_or(u16::MAX).to_le_bytes());
        for (i, k, s) in sigs.iter().take(usize::from(u16::MAX)) {
            out.extend_from_slice(&u16::try_from(*i).unwrap_or(u16::MAX).to_le_bytes());
            out.extend_from_slice(&u16::try_from(*k).unwrap_or(u16::MAX).to_le_bytes());
            out.extend_from_slice(s);
        }
        out.extend_from_slice(&c.message);
        Ok(out)
    }

    /// Where the bundle stands at `now` (Unix ms) with `skew_ms` and an opted-in `grace_ms`
    /// (negative: none), by the verifier's own rule: 0 fresh, 1 grace, 2 stale, 3 expired
    /// (past the skew without grace). A policy loaded without a signature is always fresh.
    #[wasm_bindgen(js_name = freshnessAt)]
    #[expect(
        clippy::cast_possible_truncation,
        reason = "times in milliseconds are far below 2^63, and `as` saturates anything else"
    )]
    pub fn freshness_at(&self, now: f64, skew_ms: f64, grace_ms: f64) -> u8 {
        let Some(expires) = self.expires_at_ms else {
            return 0;
        };
        let grace = (grace_ms >= 0.0).then_some(grace_ms as i64);
        match crate::bundle::freshness(now as i64, expires, skew_ms as i64, grace) {
            Some(Freshness::Fresh) => 0,
            Some(Freshness::Grace) => 1,
            Some(Freshness::Stale) => 2,
            None => 3,
        }
    }

    /// Whether this module checks signatures itself (the `_full` module: platforms without
    /// Ed25519 in WebCrypto, synchronous loads in a browser).
    #[wasm_bindgen(js_name = checksSignatures)]
    pub fn checks_signatures() -> bool {
        cfg!(feature = "ed25519")
    }

    /// Compiles a policy document with no signature check: previews and tests only.
    #[wasm_bindgen(js_name = fromPolicyUnverified)]
    pub fn from_policy_unverified(json: &str) -> Result<WasmEngine, JsValue> {
        let policy = compile_unverified(json)?;
        let h = policy.header().clone();
        Ok(WasmEngine {
            policy: Arc::new(policy),
            key_ids: Vec::new(),
            issued_at: h.issued_at,
            expires_at: h.expires_at,
            expires_at_ms: None,
            freshness: Freshness::Fresh,
        })
    }

    /// What the wrapper needs to know of the policy, as JSON, in one crossing: `app`,
    /// `version`, `issuedAt`, `expiresAt`, `keyId`, `subject`, the `recordPaths` and
    /// `contextPaths` the policy reads (in slot order), and the `resources` by name in
    /// declaration order (a resource's id is its index). The rest per resource, when first
    /// used: a large policy loads without listing every field.
    pub fn schema(&self) -> Result<String, JsValue> {
        let p = &self.policy;
        let h = p.header();
        let schema = Schema {
            app: &h.app,
            version: h.version,
            issued_at: self.issued_at.as_deref(),
            expires_at: self.expires_at.as_deref(),
            freshness: self.freshness.as_str(),
            key_id: self.key_ids.first().map(String::as_str),
            subject: h.subject.as_deref(),
            person: h.person.as_deref(),
            record_paths: p.record_paths(),
            context_paths: p.context_paths(),
            resources: p.resource_names().collect(),
        };
        json_text(&schema)
    }

    /// One resource, as JSON: its `fields` and `actions` in declaration order, and the record
    /// `slots` decisions about it read (throws `unknown_resource` for an id it does not have).
    #[wasm_bindgen(js_name = resourceSchema)]
    pub fn resource_schema(&self, resource: u32) -> Result<String, JsValue> {
        let p = &self.policy;
        let r = p
            .resource_id_at(resource)
            .ok_or_else(|| js_error(Code::UnknownResource.as_str(), "no such resource id", None))?;
        let name = p
            .resource_names()
            .nth(resource as usize)
            .unwrap_or_default();
        let schema = ResourceSchema {
            fields: p.field_names(name).unwrap_or_default(),
            actions: p.action_names(name).unwrap_or_default(),
            slots: p.record_slots(r),
        };
        json_text(&schema)
    }

    /// The id of a resource (throws `unknown_resource`).
    #[wasm_bindgen(js_name = resourceId)]
    pub fn resource_id(&self, name: &str) -> Result<u32, JsValue> {
        Ok(self.resource(name)?.0)
    }

    /// The id of an action of a resource (throws `unknown_action`).
    #[wasm_bindgen(js_name = actionId)]
    pub fn action_id(&self, resource: u32, name: &str) -> Result<u32, JsValue> {
        let r = self
            .policy
            .resource_id_at(resource)
            .ok_or_else(|| js_error(Code::UnknownResource.as_str(), "no such resource id", None))?;
        self.policy
            .action_id(r, name)
            .map(|a| a.index())
            .map_err(|e| from_request(&e))
    }

    /// A session for one user at `now` (Unix ms: dated access counts inside its dates);
    /// `subject_json` is `{ id, roles?, department?, groups?, attrs?, reports? }` (a per-user
    /// bundle's own `person` when given by id alone).
    #[expect(
        clippy::cast_possible_truncation,
        reason = "times in milliseconds are far below 2^63, and `as` saturates anything else"
    )]
    pub fn session(&self, subject_json: &str, now: f64) -> Result<WasmSession, JsValue> {
        let subject: Subject = serde_json::from_str(subject_json).map_err(|e| {
            js_error(
                Code::BadRequest.as_str(),
                &format!("bad subject: {e}"),
                None,
            )
        })?;
        let session = crate::bundle::session_for(&self.policy, &subject, now as i64)
            .map_err(|e| from_bundle(&e))?;
        Ok(WasmSession { session })
    }

    fn resource(&self, name: &str) -> Result<ResourceId, JsValue> {
        self.policy.resource_id(name).map_err(|e| from_request(&e))
    }
}

/// One user's decisions.
#[wasm_bindgen]
pub struct WasmSession {
    session: Session,
}

/// Interns a string (or, with `json`, a list or object given as JSON text) for slot passing.
/// Returns its id, or -1 when the table was full and was cleared: the caller forgets its ids.
#[wasm_bindgen(js_name = internValue)]
pub fn intern_value(text: String, json: bool) -> Result<i32, JsValue> {
    let value = if json {
        parse(&text, "value")?
    } else {
        Value::String(text)
    };
    Ok(slots::intern(value).map_or(-1, |id| id as i32))
}

/// The address of a scratch buffer of at least `len` f64 in wasm memory.
#[wasm_bindgen(js_name = scratchAddress)]
pub fn scratch_address(len: usize) -> usize {
    slots::scratch(len)
}

fn parse(json: &str, what: &str) -> Result<Value, JsValue> {
    crate::core::doc::parse_value(json)
        .map_err(|e| js_error(Code::BadRequest.as_str(), &format!("bad {what}: {e}"), None))
}

fn mode(code: u8) -> Result<Mode, JsValue> {
    Mode::ALL.get(usize::from(code)).copied().ok_or_else(|| {
        js_error(
            Code::BadRequest.as_str(),
            "mode must be view, create or edit",
            None,
        )
    })
}

#[wasm_bindgen]
impl WasmSession {
    /// Whether the action is allowed: 1 or 0, or -1 for an id this policy does not have. The
    /// record's slots are at the start of the scratch buffer (when `flags & 1`), the context's
    /// after all the record slots (when `flags & 2`); `flags & 4` says some slot holds a
    /// number (else none is decoded); only the slots this resource reads are
    /// read. A plain number, not a `Result`: that would come back to JS as a new array per call.
    pub fn can(&self, resource: u32, action: u32, flags: u32) -> i32 {
        let Ok((r, a)) = self.ids(resource, action) else {
            return -1;
        };
        let allow = slots::with_input(self.layout(r, flags), |i| self.session.can_at(r, a, i));
        i32::from(allow)
    }

    /// Writes one state code per field (0 hidden … 3 editable) and returns their address, or 0
    /// for a resource id or mode code this policy does not have (a plain number, as in `can`).
    #[wasm_bindgen(js_name = fieldStates)]
    pub fn field_states(&self, resource: u32, mode_code: u8, flags: u32) -> usize {
        let (Ok(r), Ok(m)) = (self.resource(resource), mode(mode_code)) else {
            return 0;
        };
        let len = self.session.policy().field_count(r);
        slots::write_states(len, |out| {
            slots::with_input(self.layout(r, flags), |i| {
                self.session.fields_into(r, m, i, out)
            })
        })
    }

    /// Writes 0/1 per record (record `k` at `k` times the record slots in the scratch buffer,
    /// the context after the last when `with_context`) and returns their address.
    #[wasm_bindgen(js_name = canMany)]
    pub fn can_many(
        &self,
        resource: u32,
        action: u32,
        count: u32,
        with_context: bool,
    ) -> Result<usize, JsValue> {
        let (r, a) = self.ids(resource, action)?;
        let p = self.session.policy();
        let stride = 2 * p.slots.record.len();
        let ctx = with_context.then(|| (count as usize * stride, 2 * p.slots.context.len()));
        let answers: Vec<bool> = (0..count as usize)
            .map(|k| {
                let layout = slots::Layout {
                    record: Some((k * stride, stride)),
                    context: ctx,
                    numbers: true,
                    slots: &self.session.plan(r).slots,
                };
                slots::with_input(layout, |i| self.session.can_at(r, a, i))
            })
            .collect();
        Ok(slots::write_codes(answers.len(), |codes| {
            for (c, ok) in codes.iter_mut().zip(&answers) {
                *c = u8::from(*ok);
            }
        }))
    }

    /// When this session's answers stop holding (Unix ms; infinity: never): a dated entry
    /// reaching the user starts or stops existing then, and the wrapper makes a new session.
    #[wasm_bindgen(js_name = changesAt)]
    #[expect(
        clippy::cast_precision_loss,
        reason = "times in milliseconds are exact in f64 up to 2^53 ms, far past any date"
    )]
    pub fn changes_at(&self) -> f64 {
        self.session
            .changes_at()
            .map_or(f64::INFINITY, |t| t as f64)
    }

    /// Stale mode (see `Session::set_stale`).
    #[wasm_bindgen(js_name = setStale)]
    pub fn set_stale(&mut self, stale: bool) {
        self.session.set_stale(stale);
    }

    /// The record as the mode shows it (JSON in, JSON out).
    pub fn redact(
        &self,
        resource: &str,
        mode_code: u8,
        record: &str,
        context: Option<String>,
    ) -> Result<String, JsValue> {
        let rec = parse(record, "record")?;
        let ctx = context.map(|c| parse(&c, "context")).transpose()?;
        let out = self
            .session
            .redact(resource, mode(mode_code)?, &rec, ctx.as_ref())
            .map_err(|e| from_request(&e))?;
        Ok(out.to_string())
    }

    /// A write's form data (JSON) judged: with `refused` false, only its editable fields (JSON
    /// out); with `refused` true, the paths that may not be written (a JSON list: what a server
    /// refuses). One export for the two answers, which share everything but the last step.
    pub fn writes(
        &self,
        resource: &str,
        mode_code: u8,
        record: Option<String>,
        form: &str,
        context: Option<String>,
        refused: bool,
    ) -> Result<String, JsValue> {
        let rec = record.map(|r| parse(&r, "record")).transpose()?;
        let data = parse(form, "form data")?;
        let ctx = context.map(|c| parse(&c, "context")).transpose()?;
        let (s, mode) = (&self.session, mode(mode_code)?);
        let out = if refused {
            s.forbidden_writes(resource, mode, rec.as_ref(), &data, ctx.as_ref())
                .map(Value::from)
        } else {
            s.writable(resource, mode, rec.as_ref(), &data, ctx.as_ref())
        };
        Ok(out.map_err(|e| from_request(&e))?.to_string())
    }

    /// An export of the records (a JSON list): `{"columns": ["id", …], "rows": [[…], …]}`.
    #[wasm_bindgen(js_name = exportRows)]
    pub fn export_rows(
        &self,
        resource: &str,
        records: &str,
        context: Option<String>,
    ) -> Result<String, JsValue> {
        let Value::Array(list) = parse(records, "records")? else {
            return Err(js_error(
                Code::BadRequest.as_str(),
                "records must be a list",
                None,
            ));
        };
        let ctx = context.map(|c| parse(&c, "context")).transpose()?;
        let (columns, rows) = self
            .session
            .export_table(resource, &list, ctx.as_ref())
            .map_err(|e| from_request(&e))?;
        let mut out = serde_json::Map::new();
        out.insert("columns".into(), Value::from(columns));
        out.insert("rows".into(), Value::from(rows));
        Ok(Value::Object(out).to_string())
    }

    /// The explanation of `action` as JSON; with no action (an empty name), the record's flow
    /// as this person may move it now (a JSON list of transitions). One export for the two
    /// answers about one record: each export costs the module its own glue.
    pub fn explain(
        &self,
        action: &str,
        resource: &str,
        record: Option<String>,
        context: Option<String>,
    ) -> Result<String, JsValue> {
        let rec = record.map(|r| parse(&r, "record")).transpose()?;
        let ctx = context.map(|c| parse(&c, "context")).transpose()?;
        let s = &self.session;
        if action.is_empty() {
            let flow = match &rec {
                Some(r) => s.transitions(resource, r, ctx.as_ref()),
                None => Err(crate::core::RequestError::new(
                    crate::core::Code::BadRequest,
                    "transitions are decided on a record",
                )),
            };
            let flow = flow.map_err(|e| from_request(&e))?;
            return Ok(crate::core::transitions_json(&flow).to_string());
        }
        let e = s
            .explain(action, resource, Input::json(rec.as_ref(), ctx.as_ref()))
            .map_err(|e| from_request(&e))?;
        json_text(&e)
    }

    /// The scope filter as a JSON condition tree.
    #[wasm_bindgen(js_name = scopeFilter)]
    pub fn scope_filter(
        &self,
        resource: &str,
        action: &str,
        context: Option<String>,
    ) -> Result<String, JsValue> {
        let ctx = context.map(|c| parse(&c, "context")).transpose()?;
        let f = self
            .session
            .scope_filter(resource, action, ctx.as_ref())
            .map_err(|e| from_request(&e))?;
        Ok(f.to_json(&self.session).to_string())
    }

    /// Effective role names, sorted, as a JSON list.
    pub fn roles(&self) -> String {
        let names: Vec<Value> = self
            .session
            .roles()
            .into_iter()
            .map(|r| Value::String(r.into()))
            .collect();
        Value::Array(names).to_string()
    }

    fn resource(&self, resource: u32) -> Result<ResourceId, JsValue> {
        self.session
            .policy()
            .resource_id_at(resource)
            .ok_or_else(|| js_error(Code::UnknownResource.as_str(), "no such resource id", None))
    }

    /// Where the record and context are for a decision about `r` (see `can`).
    fn layout(&self, r: ResourceId, flags: u32) -> slots::Layout<'_> {
        let p = self.session.policy();
        let rec = 2 * p.slots.record.len();
        slots::Layout {
            record: (flags & 1 != 0).then_some((0, rec)),
            context: (flags & 2 != 0).then_some((rec, 2 * p.slots.context.len())),
            numbers: flags & 4 != 0,
            slots: &self.session.plan(r).slots,
        }
    }

    fn ids(
        &self,
        resource: u32,
        action: u32,
    ) -> Result<(ResourceId, crate::core::ActionId), JsValue> {
        let r = self.resource(resource)?;
        let a = self
            .session
            .policy()
            .action_at(r, action)
            .ok_or_else(|| js_error(Code::UnknownAction.as_str(), "no such action id", None))?;
        Ok((r, a))
    }
}
