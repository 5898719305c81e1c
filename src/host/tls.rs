//! TLS for the server's own connections out: to PostgreSQL (`sslmode` and `sslrootcert` in
//! the database URL, read as libpq reads them) and to an `https://` `--alert-webhook`. rustls
//! with the ring provider; trust comes from the Mozilla roots bundled in `webpki-roots` (no
//! system store to depend on), or from a CA file the operator names.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme,
};
use std::path::Path;
use std::sync::Arc;

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Encrypt, but take any certificate (libpq's `prefer` and `require`).
    Nothing,
    /// The chain up to a trusted root, not the host name (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`, and every https webhook).
    Full,
}

/// A database URL as tokio-postgres reads it, and the TLS it asks for.
#[derive(Debug)]
pub struct DatabaseTls {
    /// The URL with libpq's TLS words turned into tokio-postgres's (`verify-ca` and
    /// `verify-full` are `require` to it, checked here; `sslrootcert` is read here).
    pub url: String,
    /// The checks.
    pub verify: Verify,
    /// The CA file (`sslrootcert=`), else the bundled roots.
    pub root: Option<String>,
}

/// Why a TLS setting cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsError {
    /// An `sslmode` libpq does not know.
    Mode(String),
    /// A CA file that cannot be read or holds no certificate (the file, and why).
    CaFile(String, String),
    /// rustls refused the configuration.
    Config(String),
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::Mode(mode) => write!(f, "sslmode `{mode}` is not a libpq mode"),
            TlsError::CaFile(file, why) => write!(f, "the CA file `{file}`: {why}"),
            TlsError::Config(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for TlsError {}

/// The store and the webhook report a TLS problem as its message.
impl From<TlsError> for String {
    fn from(e: TlsError) -> String {
        e.to_string()
    }
}

/// Reads `sslmode` and `sslrootcert` from a database URL (`postgres://…?sslmode=verify-full`)
/// or a key-value string (`host=… sslmode=require`). Without `sslmode` it is libpq's
/// `prefer`: TLS when the server offers it, unchecked.
///
/// # Errors
/// An `sslmode` libpq does not know.
pub fn database(url: &str) -> Result<DatabaseTls, TlsError> {
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let (head, params): (&str, Vec<&str>) = if is_url {
        match url.split_once('?') {
            Some((h, q)) => (h, q.split('&').filter(|p| !p.is_empty()).collect()),
            None => (url, Vec::new()),
        }
    } else {
        ("", url.split_whitespace().collect())
    };
    let mut verify = Verify::Nothing;
    let mut root = None;
    let mut kept = Vec::new();
    for p in params {
        match p.split_once('=') {
            Some(("sslmode", mode)) => {
                let (to, v) = match mode {
                    "disable" | "allow" | "prefer" => (mode, Verify::Nothing),
                    "require" => ("require", Verify::Nothing),
                    "verify-ca" => ("require", Verify::Chain),
                    "verify-full" => ("require", Verify::Full),
                    _ => return Err(TlsError::Mode(mode.to_string())),
                };
                verify = v;
                // tokio-postgres has no `allow`: it is `prefer` there.
                kept.push(format!(
                    "sslmode={}",
                    if to == "allow" { "prefer" } else { to }
                ));
            }
            Some(("sslrootcert", file)) => root = Some(file.to_string()),
            _ => kept.push(p.to_string()),
        }
    }
    let url = if is_url {
        if kept.is_empty() {
            head.to_string()
        } else {
            format!("{head}?{}", kept.join("&"))
        }
    } else {
        kept.join(" ")
    };
    Ok(DatabaseTls { url, verify, root })
}

/// A client configuration that checks what `verify` says against `root` (a PEM file of CA
/// certificates), or the bundled roots.
///
/// # Errors
/// A CA file that cannot be read or holds no certificate.
#[expect(
    deprecated,
    reason = "ring has no post-quantum key exchange, which rustls now prefers; aws-lc-rs would \
              build a C library into every server for connections to our own database and \
              webhook, where classical ECDHE is what the peers offer"
)]
pub fn client_config(verify: Verify, root: Option<&Path>) -> Result<ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    match root {
        Some(file) => {
            let bad = |e: &dyn std::fmt::Display| {
                TlsError::CaFile(file.display().to_string(), e.to_string())
            };
            let certs = CertificateDer::pem_file_iter(file).map_err(|e| bad(&e))?;
            for cert in certs {
                roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            }
            if roots.is_empty() {
                return Err(bad(&"it holds no certificate"));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let config = match verify {
        Verify::Full => builder.with_root_certificates(roots).with_no_client_auth(),
        Verify::Chain | Verify::Nothing => {
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| TlsError::Config(e.to_string()))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Partial {
                    verify,
                    webpki,
                    provider,
                }))
                .with_no_client_auth()
        }
    };
    Ok(config)
}

/// The checks short of the full ones: the chain without the name (`verify-ca`), or nothing
/// (`require`). The handshake's signatures are always checked.
#[derive(Debug)]
struct Partial {
    verify: Verify,
    webpki: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Partial {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if self.verify == Verify::Nothing {
            return Ok(ServerCertVerified::assertion());
        }
        match self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_tls_words_become_tokio_postgres_ones() {
        let t = database(
            "postgres://u@db:5432/app?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x",
        )
        .unwrap();
        assert_eq!(
            t.url,
            "postgres://u@db:5432/app?sslmode=require&application_name=x"
        );
        assert_eq!(
            (t.verify, t.root.as_deref()),
            (Verify::Full, Some("/ca.pem"))
        );
        let t = database("host=db user=u sslmode=verify-ca").unwrap();
        assert_eq!(
            (t.url.as_str(), t.verify),
            ("host=db user=u sslmode=require", Verify::Chain)
        );
        let t = database("postgres://u@db/app").unwrap();
        assert_eq!(
            (t.url.as_str(), t.verify),
            ("postgres://u@db/app", Verify::Nothing)
        );
        assert!(database("postgres://u@db/app?sslmode=maybe").is_err());
    }
}
