//! PostgreSQL through the synchronous `postgres` client: the store's statements with their
//! placeholders numbered, each prepared once per connection.

use std::collections::HashMap;
use std::sync::Arc;

use postgres::config::SslMode;
use postgres::{Client, NoTls, Statement};

use super::Param;
use crate::store::error::StoreError;

/// A connection and the statements it has prepared, by their text.
pub struct PgConn {
    client: Option<Client>,
    prepared: HashMap<String, Statement>,
    /// In a write job's transaction: rows read to decide on are locked (`Conn::for_update`).
    pub(super) writing: bool,
}

impl Drop for PgConn {
    /// Closing a client blocks on its own runtime, which tokio forbids on a runtime's thread
    /// (a store dropped in async code): it is closed on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            std::thread::spawn(move || drop(client));
        }
    }
}

/// How long a statement may wait for a row lock before it fails (a stuck instance must not
/// stall the others for ever).
const LOCK_TIMEOUT: &str = "10s";

/// How long the server keeps a transaction whose client went quiet (a job never waits on the
/// network inside one): one left by a connection that vanished releases its row locks then.
const IDLE_IN_TRANSACTION: &str = "30s";

impl PgConn {
    pub fn connect(url: &str, read_only: bool) -> Result<PgConn, StoreError> {
        let (url, root_cert) = without_root_cert(url);
        let mut config: postgres::Config = url.parse()?;
        // A connection whose peer vanished (a failover, a cut link) is noticed in about a
        // minute rather than at the operating system's default of hours.
        config.keepalives(true).keepalives_idle(std::time::Duration::from_secs(30)).keepalives_interval(std::time::Duration::from_secs(10));
        let mut client = match config.get_ssl_mode() {
            // `require`: TLS, with the server's certificate and name verified (libpq's
            // verify-full). `prefer` (the default) and `disable`: no TLS.
            SslMode::Require => config.connect(tls(root_cert.as_deref())?)?,
            _ => config.connect(NoTls)?,
        };
        client.batch_execute(&format!(
            "SET lock_timeout = '{LOCK_TIMEOUT}'; SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION}'; \
             SET default_transaction_read_only = {};",
            if read_only { "on" } else { "off" }
        ))?;
        Ok(PgConn { client: Some(client), prepared: HashMap::new(), writing: false })
    }

    fn client(&mut self) -> &mut Client {
        self.client.as_mut().expect("a connection has its client until it is dropped")
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client().prepare(&numbered(sql))?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub(super) fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client().execute(&statement, &values(params))?)
    }

    pub(super) fn query(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Vec<postgres::Row>, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client().query(&statement, &values(params))?)
    }

    pub(super) fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.client().batch_execute(sql)?)
    }

    pub(super) fn is_closed(&self) -> bool {
        self.client.as_ref().is_none_or(Client::is_closed)
    }

    /// Opens a transaction and returns its id (`txid_current()`), in one round trip: if the
    /// connection is lost at its COMMIT, the id tells whether it committed (`txid_status`).
    pub(in crate::store) fn begin_with_id(&mut self) -> Result<i64, StoreError> {
        for message in self.client().simple_query("BEGIN; SELECT txid_current()")? {
            if let postgres::SimpleQueryMessage::Row(row) = message
                && let Some(id) = row.get(0).and_then(|text| text.parse().ok())
            {
                return Ok(id);
            }
        }
        Err(StoreError::NoRow)
    }

    /// What became of the transaction `id`: `Some(true)` committed, `Some(false)` aborted (or
    /// forgotten: never committed), `None` still in progress.
    pub(in crate::store) fn committed(&mut self, id: i64) -> Result<Option<bool>, StoreError> {
        let row = self.client().query_one("SELECT txid_status($1)", &[&id])?;
        Ok(match row.get::<_, Option<String>>(0).as_deref() {
            Some("committed") => Some(true),
            Some("in progress") => None,
            _ => Some(false),
        })
    }
}

/// Whether `err` means the connection is gone (the server closed it, restarted, or was told to
/// end it): the work on it never committed, unless it was the COMMIT itself.
pub(super) fn connection_lost(err: &postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    match err.as_db_error() {
        // Class 08: connection exception; 57P01-57P03: the server ended the session.
        Some(db) => db.code().code().starts_with("08") || matches!(db.code().code(), "57P01" | "57P02" | "57P03"),
        // No answer from the server at all: the socket failed.
        None => std::error::Error::source(err).is_some_and(|cause| cause.is::<std::io::Error>()),
    }
}

/// The URL without its `sslrootcert` parameter (libpq's name for the CA file to trust, which
/// the postgres client does not parse), and that file.
pub fn without_root_cert(url: &str) -> (String, Option<String>) {
    let Ok(mut parsed) = url::Url::parse(url) else { return (url.to_owned(), None) };
    let mut root_cert = None;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter_map(|(name, value)| {
            if name == "sslrootcert" {
                root_cert = Some(value.into_owned());
                return None;
            }
            Some((name.into_owned(), value.into_owned()))
        })
        .collect();
    if root_cert.is_none() {
        return (url.to_owned(), None);
    }
    parsed.set_query(None);
    if !kept.is_empty() {
        parsed.query_pairs_mut().extend_pairs(kept);
    }
    (parsed.to_string(), root_cert)
}

/// A TLS connector trusting the CA certificates in `root_cert` (PEM), or else the public
/// web's roots.
fn tls(root_cert: Option<&str>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|err| StoreError::Tls(format!("sslrootcert {path}: {err}")))?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|err| StoreError::Tls(format!("sslrootcert {path}: {err}")))?;
                roots.add(cert).map_err(|err| StoreError::Tls(format!("sslrootcert {path}: {err}")))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| StoreError::Tls(err.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn values<'a>(params: &'a [&'a dyn Param]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|param| *param as &(dyn postgres::types::ToSql + Sync)).collect()
}

/// `sql` with SQLite's placeholders as PostgreSQL's: each `?` numbered in order (`$1, $2…`),
/// `?N` as `$N`. Quoted text and identifiers are left alone.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut next = 0;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), _) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), _) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    next += 1;
                    digits = next.to_string();
                }
                out.push('$');
                out.push_str(&digits);
            }
            (None, _) => out.push(c),
        }
    }
    out
}

/// The constraint a unique violation (SQLSTATE 23505) names.
pub(super) fn unique_violation(err: &postgres::Error) -> Option<String> {
    let db = err.as_db_error()?;
    (db.code() == &postgres::error::SqlState::UNIQUE_VIOLATION).then(|| db.constraint().unwrap_or(db.message()).to_owned())
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn the_root_certificate_is_taken_out_of_the_url() {
        let (url, cert) = super::without_root_cert("postgres://u:p@db:5432/epay?sslmode=require&sslrootcert=%2Fetc%2Fca.pem");
        assert_eq!((url.as_str(), cert.as_deref()), ("postgres://u:p@db:5432/epay?sslmode=require", Some("/etc/ca.pem")));
        let plain = "postgres://u@db/epay";
        assert_eq!(super::without_root_cert(plain), (plain.to_owned(), None));
    }

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(numbered("SELECT a FROM t WHERE b = ? AND c = ?"), "SELECT a FROM t WHERE b = $1 AND c = $2");
        assert_eq!(numbered("WHERE (?1 IS NULL OR x = ?1) AND y < ?2"), "WHERE ($1 IS NULL OR x = $1) AND y < $2");
        assert_eq!(numbered("SELECT '?' || \"a?\" FROM t WHERE v = ?"), "SELECT '?' || \"a?\" FROM t WHERE v = $1");
    }
}
