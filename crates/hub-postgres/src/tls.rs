//! Opening connections as `DATABASE_URL` says, TLS included: libpq's `sslmode` (`disable`,
//! `prefer` — the default —, `require`, `verify-ca`, `verify-full`) and `sslrootcert`, over
//! rustls with the ring provider (no OpenSSL, no libpq).
//!
//! Every connection the adapter opens goes through [`Target::open`]: the pool's, the job
//! locks' dedicated ones, the migrations', the health check's own, the tooling helpers' and
//! `TestDb`'s.
//!
//! | `sslmode` | TLS | server certificate |
//! |---|---|---|
//! | `disable` | never | – |
//! | `prefer` (default) | when the server accepts it, else plaintext | not checked |
//! | `require` | always; a server without TLS is refused | not checked, unless `sslrootcert` is given: then as `verify-ca` (libpq's rule) |
//! | `verify-ca` | always | chain checked against `sslrootcert` (required) |
//! | `verify-full` | always | chain checked against `sslrootcert` (default: the system's trusted roots), and the host name |
//!
//! `sslrootcert=system` names the system's trusted roots explicitly (as libpq 16 does) and
//! needs `verify-full`: a chain check alone against public roots would pass any publicly
//! issued certificate. For the same reason `verify-ca` without `sslrootcert` is refused.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::Socket;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};

use crate::error::PgError;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }

    /// The spelling of the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// Where the trust anchors come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    /// `sslrootcert=/path/CA.pem`.
    File(PathBuf),
    /// The system's trusted roots (`sslrootcert=system`, or `verify-full` without `sslrootcert`).
    System,
}

impl fmt::Display for Roots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "sslrootcert {}", path.display()),
            Self::System => f.write_str("the system's trusted roots"),
        }
    }
}

/// How the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Encryption only (`prefer`, `require`): any certificate; the handshake still proves
    /// the server holds the key of the one it shows.
    Nothing,
    /// `verify-ca` (and `require` with `sslrootcert`): the chain, not the name.
    Chain,
    /// `verify-full`: the chain and the host name.
    ChainAndHost,
}

/// What a `DATABASE_URL` asks for, checked without touching the network or the file system.
#[derive(Clone)]
pub(crate) struct Settings {
    /// The driver's settings (host, port, user, password, …): never printed.
    driver: tokio_postgres::Config,
    mode: SslMode,
    roots: Option<Roots>,
}

/// `%XX` decoding of one query-string key or value (`+` stays a plus, as in libpq).
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn bad(message: impl Into<String>) -> PgError {
    PgError::BadUrl(message.into())
}

impl Settings {
    /// Reads `url` (`postgres://` or `postgresql://`). Errors name the problem, never the URL.
    pub(crate) fn parse(url: &str) -> Result<Self, PgError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(bad("must start with postgres:// or postgresql://"));
        }
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut mode = None;
        let mut root_cert = None;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = |what: &str, raw: &str| {
                percent_decode(raw).ok_or_else(|| bad(format!("has a badly percent-encoded {what}")))
            };
            match decoded("parameter name", key)?.as_str() {
                "sslmode" => {
                    let raw = decoded("sslmode", value)?;
                    mode =
                        Some(SslMode::parse(&raw).ok_or_else(|| {
                            bad("sslmode must be disable, prefer, require, verify-ca or verify-full")
                        })?);
                }
                "sslrootcert" => {
                    let raw = decoded("sslrootcert", value)?;
                    if raw.is_empty() {
                        return Err(bad("sslrootcert is empty: give the path of a PEM file of CA certificates"));
                    }
                    root_cert = Some(if raw == "system" { Roots::System } else { Roots::File(PathBuf::from(raw)) });
                }
                "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir" | "sslsni" => {
                    return Err(bad(format!(
                        "{} is not supported (the hub does not send client certificates); remove it",
                        decoded("parameter name", key)?
                    )));
                }
                _ => rest.push(pair),
            }
        }
        let driver_url = if rest.is_empty() { base.to_owned() } else { format!("{base}?{}", rest.join("&")) };
        // The driver's own messages name the option, never its value.
        let driver =
            tokio_postgres::Config::from_str(&driver_url).map_err(|e| bad(format!("is not valid: {}", chain(&e))))?;

        // libpq 16: `sslrootcert=system` makes verify-full the default and refuses weaker modes.
        let mode = mode.unwrap_or(if root_cert == Some(Roots::System) { SslMode::VerifyFull } else { SslMode::Prefer });
        let roots = match (mode, root_cert) {
            (SslMode::Disable | SslMode::Prefer, _) => None,
            (_, Some(Roots::System)) if mode != SslMode::VerifyFull => {
                return Err(bad(format!(
                    "sslrootcert=system needs sslmode=verify-full, not {}: any publicly issued certificate would pass",
                    mode.as_str()
                )));
            }
            (SslMode::VerifyCa, None) => {
                return Err(bad(
                    "sslmode=verify-ca needs sslrootcert=/path/to/CA.pem (the CA that issued the server's certificate); for a server with a publicly trusted certificate use sslmode=verify-full",
                ));
            }
            (SslMode::VerifyFull, None) => Some(Roots::System),
            (_, roots) => roots,
        };
        Ok(Self { driver, mode, roots })
    }

    fn check(&self) -> Check {
        match (self.mode, &self.roots) {
            (SslMode::VerifyFull, _) => Check::ChainAndHost,
            (SslMode::VerifyCa, _) | (SslMode::Require, Some(_)) => Check::Chain,
            _ => Check::Nothing,
        }
    }
}

/// A `DATABASE_URL` ready to connect: the driver's settings and, unless `sslmode=disable`,
/// the rustls connector (trust anchors loaded once). Cheap to clone; never prints the URL.
#[derive(Clone)]
pub(crate) struct Target {
    driver: tokio_postgres::Config,
    mode: SslMode,
    tls: Option<Connector>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target").field("sslmode", &self.mode.as_str()).finish_non_exhaustive()
    }
}

fn load_roots(roots: &Roots) -> Result<RootCertStore, PgError> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            let pem =
                std::fs::read(path).map_err(|e| bad(format!("sslrootcert {}: cannot read it: {e}", path.display())))?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(format!("sslrootcert {}: not a PEM file of certificates: {e}", path.display())))?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(bad(format!("sslrootcert {}: holds no usable CA certificate", path.display())));
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(bad(
                    "sslmode=verify-full without sslrootcert uses the system's trusted roots, and none were found: install the CA certificates (ca-certificates) or set sslrootcert=/path/to/CA.pem",
                ));
            }
        }
    }
    Ok(store)
}

impl Target {
    /// Reads `url` and prepares TLS (reading `sslrootcert` or the system's roots).
    pub(crate) fn new(url: &str) -> Result<Self, PgError> {
        let settings = Settings::parse(url)?;
        let mut driver = settings.driver.clone();
        driver.ssl_mode(match settings.mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
        });
        let tls = match settings.mode {
            SslMode::Disable => None,
            _ => Some(Connector::new(settings.check(), settings.roots.as_ref())?),
        };
        Ok(Self { driver, mode: settings.mode, tls })
    }

    /// The `sslmode` in force.
    pub(crate) fn mode(&self) -> SslMode {
        self.mode
    }

    /// Opens one connection. A failure is one line naming the problem (never the password).
    pub(crate) async fn open(&self) -> Result<AsyncPgConnection, PgError> {
        let conn = match &self.tls {
            None => {
                let (client, connection) =
                    self.driver.connect(tokio_postgres::NoTls).await.map_err(|e| self.failure(&e))?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
            Some(tls) => {
                let (client, connection) = self.driver.connect(tls.clone()).await.map_err(|e| self.failure(&e))?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
        };
        conn.map_err(|e| PgError::Connect(e.to_string()))
    }

    fn failure(&self, e: &tokio_postgres::Error) -> PgError {
        use std::error::Error as _;
        if let Some(tls) = e.source().and_then(|s| s.downcast_ref::<TlsFailure>()) {
            return PgError::Connect(tls.0.clone());
        }
        let text = chain(e);
        if text.contains("server does not support TLS") {
            return PgError::Connect(format!(
                "the server does not accept TLS, and sslmode={} never falls back to plaintext",
                self.mode.as_str()
            ));
        }
        PgError::Connect(chain(e))
    }
}

/// An error and its causes on one line (tokio-postgres's `Display` shows only the first).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        line.push_str(": ");
        line.push_str(&c.to_string());
        cause = c.source();
    }
    line.replace('\n', " ")
}

/// The rustls connector of one [`Target`], for tokio-postgres.
#[derive(Clone)]
struct Connector {
    inner: tokio_postgres_rustls::MakeRustlsConnect,
    check: Check,
    /// What the chain is checked against, for messages.
    roots: Arc<str>,
}

impl Connector {
    fn new(check: Check, roots: Option<&Roots>) -> Result<Self, PgError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| PgError::Connect(format!("TLS set-up failed: {e}")))?;
        let anchors = || match roots {
            Some(r) => load_roots(r).map(Arc::new),
            None => Err(bad("needs trust anchors for this sslmode")),
        };
        let config = match check {
            Check::ChainAndHost => builder.with_root_certificates(anchors()?).with_no_client_auth(),
            Check::Chain => {
                let webpki = WebPkiServerVerifier::builder_with_provider(anchors()?, Arc::clone(&provider))
                    .build()
                    .map_err(|e| PgError::Connect(format!("TLS set-up failed: {e}")))?;
                builder.dangerous().with_custom_certificate_verifier(Arc::new(ChainOnly(webpki))).with_no_client_auth()
            }
            Check::Nothing => {
                builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyCert(provider))).with_no_client_auth()
            }
        };
        let roots = roots.map_or_else(|| "no trust anchors".to_owned(), ToString::to_string);
        Ok(Self { inner: tokio_postgres_rustls::MakeRustlsConnect::new(config), check, roots: Arc::from(roots) })
    }
}

/// A TLS handshake that failed, described in one line.
#[derive(Debug)]
pub(crate) struct TlsFailure(String);

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsFailure {}

impl TlsFailure {
    fn describe(e: &io::Error, host: &str, check: Check, roots: &str) -> Self {
        let mode = match check {
            Check::ChainAndHost => "verify-full",
            Check::Chain => "verify-ca",
            Check::Nothing => "TLS",
        };
        let cause = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
        let line = match cause {
            Some(rustls::Error::InvalidCertificate(c)) => match c {
                CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                    format!("certificate not trusted by {roots} (server {host}, {mode})")
                }
                CertificateError::NotValidForName => format!("certificate does not match host {host} ({mode})"),
                CertificateError::NotValidForNameContext { presented, .. } => format!(
                    "certificate does not match host {host}: it is for {} ({mode})",
                    if presented.is_empty() {
                        "no host name".to_owned()
                    } else {
                        presented.iter().map(|p| bare_name(p)).collect::<Vec<_>>().join(", ")
                    }
                ),
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    format!("certificate of server {host} has expired ({mode})")
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    format!("certificate of server {host} is not valid yet ({mode})")
                }
                other => format!("certificate of server {host} refused: {other:?} ({mode})"),
            },
            Some(other) => format!("TLS handshake with {host} failed: {other}"),
            None => format!("TLS handshake with {host} failed: {e}"),
        };
        Self(line)
    }
}

/// `DnsName("db.example.com")` → `db.example.com`, `IpAddress(10.0.0.1)` → `10.0.0.1` (how
/// webpki lists a certificate's names).
fn bare_name(presented: &str) -> &str {
    presented
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| presented.strip_prefix("IpAddress(").and_then(|n| n.strip_suffix(')')))
        .unwrap_or(presented)
}

impl MakeTlsConnect<Socket> for Connector {
    type Stream = <tokio_postgres_rustls::MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream;
    type TlsConnect = OneHandshake;
    type Error = TlsFailure;

    fn make_tls_connect(&mut self, domain: &str) -> Result<OneHandshake, TlsFailure> {
        // Infallible: a bad host name shows in the handshake.
        let Ok(inner) = MakeTlsConnect::<Socket>::make_tls_connect(&mut self.inner, domain);
        Ok(OneHandshake { inner, host: domain.to_owned(), check: self.check, roots: Arc::clone(&self.roots) })
    }
}

/// One handshake: tokio-postgres-rustls's, with its failure described.
struct OneHandshake {
    inner: <tokio_postgres_rustls::MakeRustlsConnect as MakeTlsConnect<Socket>>::TlsConnect,
    host: String,
    check: Check,
    roots: Arc<str>,
}

type Stream = <tokio_postgres_rustls::MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream;

impl TlsConnect<Socket> for OneHandshake {
    type Stream = Stream;
    type Error = TlsFailure;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Stream, TlsFailure>> + Send>>;

    fn connect(self, socket: Socket) -> Self::Future {
        let Self { inner, host, check, roots } = self;
        let handshake = inner.connect(socket);
        Box::pin(async move { handshake.await.map_err(|e| TlsFailure::describe(&e, &host, check, &roots)) })
    }
}

/// `prefer` and `require` without `sslrootcert`: no certificate check (libpq's meaning);
/// the handshake's signatures are still verified.
#[derive(Debug)]
struct AnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: webpki's check, but a certificate for another host name passes. webpki
/// checks the chain (issuer, signatures, validity, usage) before the name, so a name
/// mismatch is only ever reported for a chain that passed.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
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
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> Result<(SslMode, Check, Option<Roots>), String> {
        Settings::parse(url).map(|s| (s.mode, s.check(), s.roots.clone())).map_err(|e| e.to_string())
    }

    #[test]
    fn sslmode_and_sslrootcert_mean_what_they_mean_in_libpq() {
        let ca = || Some(Roots::File("/etc/ca.pem".into()));
        let cases: &[(&str, SslMode, Check, Option<Roots>)] = &[
            ("", SslMode::Prefer, Check::Nothing, None),
            ("?sslmode=disable", SslMode::Disable, Check::Nothing, None),
            ("?sslmode=prefer&sslrootcert=/etc/ca.pem", SslMode::Prefer, Check::Nothing, None),
            ("?sslmode=require", SslMode::Require, Check::Nothing, None),
            ("?sslmode=require&sslrootcert=/etc/ca.pem", SslMode::Require, Check::Chain, ca()),
            ("?sslmode=verify-ca&sslrootcert=/etc/ca.pem", SslMode::VerifyCa, Check::Chain, ca()),
            ("?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem", SslMode::VerifyFull, Check::ChainAndHost, ca()),
            ("?sslmode=verify-full", SslMode::VerifyFull, Check::ChainAndHost, Some(Roots::System)),
            ("?sslrootcert=system", SslMode::VerifyFull, Check::ChainAndHost, Some(Roots::System)),
            ("?connect_timeout=5&sslmode=require&application_name=x", SslMode::Require, Check::Nothing, None),
        ];
        for (query, want_mode, want_check, want_roots) in cases {
            let url = format!("postgres://hub:pw@db.example.com:5432/hub{query}");
            assert_eq!(mode(&url), Ok((*want_mode, *want_check, want_roots.clone())), "{query}");
        }
    }

    #[test]
    fn refusals_name_the_problem_and_never_the_url() {
        let cases = [
            ("?sslmode=verify", "sslmode must be"),
            ("?sslmode=verify-ca", "verify-ca needs sslrootcert"),
            ("?sslmode=require&sslrootcert=system", "sslrootcert=system needs sslmode=verify-full"),
            ("?sslrootcert=", "sslrootcert is empty"),
            ("?sslcert=/x.pem", "sslcert is not supported"),
            ("?sslmode=%zz", "badly percent-encoded"),
            ("?nope=1", "unknown option"),
        ];
        for (query, want) in cases {
            let url = format!("postgres://hub:canary-pw@db.example.com/hub{query}");
            let err = mode(&url).expect_err(query);
            assert!(err.contains(want), "{query}: {err}");
            assert!(!err.contains("canary-pw") && !err.contains('\n'), "{err}");
        }
        assert!(mode("mysql://x").unwrap_err().contains("postgres://"));
    }

    #[test]
    fn certificate_names_are_shown_bare() {
        assert_eq!(bare_name("DnsName(\"db.example.com\")"), "db.example.com");
        assert_eq!(bare_name("IpAddress(10.0.0.1)"), "10.0.0.1");
        assert_eq!(bare_name("Unsupported(0x01)"), "Unsupported(0x01)");
    }

    #[test]
    fn an_unreadable_root_file_is_refused_at_set_up() {
        let err = Target::new("postgres://u:canary-pw@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
            .expect_err("no file");
        let line = err.to_string();
        assert!(line.contains("sslrootcert /nonexistent/ca.pem: cannot read it"), "{line}");
        assert!(!line.contains("canary-pw"));
    }
}
