//! PostgreSQL through tokio-postgres on a runtime of the connection's own (one thread, driven
//! only while a statement waits, as the synchronous `postgres` client does): the store's
//! statements with their placeholders numbered, each prepared once per connection.
//!
//! A round trip to the server is what a statement costs here (each one wakes the server's
//! process and then this thread), so a write job's statements go out together where nothing
//! waits on their answers: `BEGIN` leaves with the job's first statement, and a write whose
//! answer the job does not read (`execute_later`: a history row, an event) leaves with the next
//! statement that needs an answer, or with the `COMMIT`. Requests on one connection are
//! answered in order, and a failed one aborts the transaction, so the job still sees every
//! error, at the latest at its commit, and nothing of a failed transaction is kept
//! (docs/performance.md, "PostgreSQL"). Writes sent together that each touch one order's rows
//! with the same statement leave as one statement (`merge.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use postgres::config::SslMode;
use postgres::types::{Format, IsNull, Kind, ToSql, Type};
use postgres::{SimpleQueryMessage, Statement};
use tokio_postgres::{Client, NoTls};

use super::Param;
use super::merge::{self, Kept};
use crate::store::error::StoreError;

/// A connection and the statements it has prepared, by their text.
pub struct PgConn {
    session: Option<Session>,
    prepared: HashMap<String, Statement>,
    /// For a statement that touches one order's rows, by its text: the statement that runs it
    /// for several orders at once, numbered (`None`: it cannot be).
    merged_forms: HashMap<String, Option<MergedForm>>,
    /// Writes whose answers nobody reads, sent with the next round trip.
    later: Vec<Later>,
    /// How many statements sent so far ran several writes at once.
    pub(super) merged: u64,
    transaction: Transaction,
    /// The transaction made a webhook event due (`Tx::made_event_due`).
    pub(super) event_due: bool,
    /// In a write job's transaction: rows read to decide on are locked (`Conn::for_update`).
    pub(super) writing: bool,
}

/// The client and the runtime that drives its connection.
struct Session {
    runtime: tokio::runtime::Runtime,
    client: Client,
}

/// Where the write transaction of this connection stands.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Transaction {
    None,
    /// `begin` was called; `BEGIN` leaves with the first statement (with a short wait for row
    /// locks for a batch, and for a first run alone: `BEGIN_BATCH`).
    Opening {
        short_lock_wait: bool,
    },
    /// Begun, with this id (`txid_current()`).
    Open(i64),
}

impl Drop for PgConn {
    /// A runtime cannot be dropped on a runtime's thread (a store dropped in async code): the
    /// session is closed on a thread of its own.
    fn drop(&mut self) {
        if let Some(session) = self.session.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            std::thread::spawn(move || drop(session));
        }
    }
}

/// How long a statement may wait for a row lock before it fails (a stuck instance must not
/// stall the others for ever).
const LOCK_TIMEOUT: &str = "10s";

/// A transaction, and its id (`txid_current()`): if the connection is lost at its COMMIT, the id
/// tells whether it committed.
const BEGIN: &str = "BEGIN; SELECT txid_current()";

/// A transaction that waits for a row lock a second at most: a batch (a blocked row must not
/// hold up the unrelated writes in it for long), and a job's first run alone after it.
const BEGIN_BATCH: &str = "BEGIN; SET LOCAL lock_timeout = '1s'; SELECT txid_current()";

/// How long the server keeps a transaction whose client went quiet (a job never waits on the
/// network inside one): one left by a connection that vanished releases its row locks then.
const IDLE_IN_TRANSACTION: &str = "30s";

impl PgConn {
    pub fn connect(url: &str, read_only: bool) -> Result<PgConn, StoreError> {
        let (url, root_cert) = without_root_cert(url);
        let mut config: tokio_postgres::Config = url.parse()?;
        // A connection whose peer vanished (a failover, a cut link) is noticed in about a
        // minute rather than at the operating system's default of hours.
        config.keepalives(true).keepalives_idle(std::time::Duration::from_secs(30)).keepalives_interval(std::time::Duration::from_secs(10));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| StoreError::Tls(format!("cannot start a connection's runtime: {err}")))?;
        let client = match config.get_ssl_mode() {
            // `require`: TLS, with the server's certificate and name verified (libpq's
            // verify-full). `prefer` (the default) and `disable`: no TLS.
            SslMode::Require => {
                let tls = tls(root_cert.as_deref())?;
                runtime.block_on(async {
                    let (client, connection) = config.connect(tls).await?;
                    tokio::spawn(connection);
                    Ok::<_, StoreError>(client)
                })?
            }
            _ => runtime.block_on(async {
                let (client, connection) = config.connect(NoTls).await?;
                tokio::spawn(connection);
                Ok::<_, StoreError>(client)
            })?,
        };
        let mut conn = PgConn {
            session: Some(Session { runtime, client }),
            prepared: HashMap::new(),
            merged_forms: HashMap::new(),
            later: Vec::new(),
            merged: 0,
            transaction: Transaction::None,
            event_due: false,
            writing: false,
        };
        conn.batch(&format!(
            "SET lock_timeout = '{LOCK_TIMEOUT}'; SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION}'; \
             SET default_transaction_read_only = {};",
            if read_only { "on" } else { "off" }
        ))?;
        Ok(conn)
    }

    fn session(&self) -> &Session {
        self.session.as_ref().expect("a connection has its session until it is dropped")
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let Session { runtime, client } = self.session();
        let statement = runtime.block_on(client.prepare(&numbered(sql)))?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Sends what waits to be sent (`BEGIN`, the writes kept for later), then `request`, in one
    /// round trip, and returns `request`'s answer, or the first error of them all: after an
    /// error the server refuses the rest of the transaction, so that error is the one to tell.
    fn round_trip<T>(&mut self, request: impl AsyncFnOnce(&Client) -> Result<T, postgres::Error>) -> Result<T, StoreError> {
        let begin = match self.transaction {
            Transaction::Opening { short_lock_wait: false } => Some(BEGIN),
            // A batch that waits for a row lock holds up every job in it: it gives up soon, and
            // its jobs run again alone, the one still blocked last (`pg_writer.rs`).
            Transaction::Opening { short_lock_wait: true } => Some(BEGIN_BATCH),
            _ => None,
        };
        let later = std::mem::take(&mut self.later);
        let (later, merged) = self.merge(later)?;
        let Session { runtime, client } = self.session();
        let (began, kept, answer) = runtime.block_on(async {
            let began = async {
                match begin {
                    Some(begin) => Some(client.simple_query(begin).await),
                    None => None,
                }
            };
            let kept = futures::future::join_all(later.iter().map(|outgoing| match outgoing {
                Outgoing::Write(statement, values) => {
                    let values: Vec<&(dyn ToSql + Sync)> = values.iter().map(|value| value as &(dyn ToSql + Sync)).collect();
                    futures::future::Either::Left(async move { client.execute(statement, &values).await })
                }
                Outgoing::Settings(sql) => futures::future::Either::Right(async move { client.batch_execute(sql).await.map(|()| 0) }),
            }));
            // Polled in this order, each sends its request before the next: they leave together.
            futures::join!(began, kept, request(client))
        });
        if let Some(began) = began {
            self.transaction = Transaction::Open(txid_answered(began?)?);
        }
        if let Some(err) = kept.into_iter().find_map(Result::err) {
            return Err(err.into());
        }
        self.merged += merged;
        Ok(answer?)
    }

    pub(super) fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        self.round_trip(async |client| client.execute(&statement, &values(params)).await)
    }

    /// Runs `sql` with the next round trip (inside a write job: with its next statement that
    /// needs an answer, or its COMMIT); its error, if any, comes back from that one.
    pub(super) fn execute_later(&mut self, sql: &str, params: &[&dyn Param]) -> Result<(), StoreError> {
        let statement = self.statement(sql)?;
        if statement.params().len() != params.len() {
            let (wants, got) = (statement.params().len(), params.len());
            return Err(StoreError::Bind(format!("the statement takes {wants} values, {got} given")));
        }
        let values = statement.params().iter().zip(params).map(|(ty, value)| Encoded::new(ty, *value)).collect::<Result<_, _>>()?;
        self.later.push(Later { statement, values, merging: None });
        Ok(())
    }

    /// `execute_later` for a write that touches the rows of order `order` only (its row, its
    /// history, its notifications): sent together with others of its text, it runs with them
    /// as one statement (`merge.rs`). `merged_form` makes that statement the first time: the
    /// same write with `{rows}` where its rows come from, and `v.p1`, `v.p2`… for its values,
    /// in the order of `sql`'s placeholders.
    pub(super) fn execute_later_for_order(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        order: i64,
        merged_form: impl FnOnce() -> String,
    ) -> Result<(), StoreError> {
        self.execute_later(sql, params)?;
        let form = self.merged_form(sql, merged_form)?;
        self.later.last_mut().expect("the write was just kept").merging = form.map(|form| (order, form));
        Ok(())
    }

    /// The statement that runs `sql` for several orders at once, prepared the first time.
    /// Prepared inside the job's transaction, as the single statement was: if the server
    /// refuses it, the transaction is lost, and the job fails with that error.
    fn merged_form(&mut self, sql: &str, merged_form: impl FnOnce() -> String) -> Result<Option<MergedForm>, StoreError> {
        if let Some(known) = self.merged_forms.get(sql) {
            return Ok(known.clone());
        }
        let single = self.prepared.get(sql).expect("execute_later prepared it");
        let form = match rows_of(single.params()) {
            Some(rows) => {
                let statement = self.statement(&merged_form().replace("{rows}", &rows))?;
                Some(MergedForm { number: self.merged_forms.len(), statement })
            }
            None => None,
        };
        self.merged_forms.insert(sql.to_owned(), form.clone());
        Ok(form)
    }

    /// The writes kept for later as they leave: as they are, or, when `merge::groups` allows,
    /// each group of one text as one statement over arrays of their values, planned for any
    /// number of rows (`MERGED_PLANS`).
    /// Also how many statements ran several writes (counted once they succeeded).
    fn merge(&mut self, later: Vec<Later>) -> Result<(Vec<Outgoing>, u64), StoreError> {
        let binary = later.iter().all(|write| write.values.iter().all(|value| matches!(value.format, Format::Binary)));
        let kept: Vec<Kept> = later
            .iter()
            .map(|write| match &write.merging {
                Some((order, form)) => Kept { text: form.number, order: Some(*order) },
                None => Kept { text: usize::MAX, order: None },
            })
            .collect();
        let groups = if binary { merge::groups(&kept) } else { None };
        let Some(groups) = groups else {
            return Ok((later.into_iter().map(|write| Outgoing::Write(write.statement, write.values)).collect(), 0));
        };
        let mut merged = 0;
        let mut later: Vec<Option<Later>> = later.into_iter().map(Some).collect();
        let mut outgoing = Vec::with_capacity(groups.len() + 2);
        // Only the merged statements are planned as `MERGED_PLANS` says.
        let mut merged_plans = false;
        for members in groups {
            let mut writes: Vec<Later> = members.iter().map(|&at| later[at].take().expect("a write is in one group")).collect();
            if writes.len() == 1 {
                if std::mem::take(&mut merged_plans) {
                    outgoing.push(Outgoing::Settings(USUAL_PLANS));
                }
                let write = writes.pop().expect("one write");
                outgoing.push(Outgoing::Write(write.statement, write.values));
                continue;
            }
            let (_, MergedForm { statement, .. }) = writes[0].merging.clone().expect("merge::groups merges only writes that name an order");
            let columns = statement
                .params()
                .iter()
                .enumerate()
                .map(|(column, ty)| Encoded::array(ty, writes.iter().map(|write| &write.values[column]).collect()))
                .collect::<Result<_, _>>()?;
            if !std::mem::replace(&mut merged_plans, true) {
                outgoing.push(Outgoing::Settings(MERGED_PLANS));
            }
            outgoing.push(Outgoing::Write(statement, columns));
            merged += 1;
        }
        if merged_plans {
            outgoing.push(Outgoing::Settings(USUAL_PLANS));
        }
        Ok((outgoing, merged))
    }

    pub(super) fn query(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Vec<postgres::Row>, StoreError> {
        let statement = self.statement(sql)?;
        self.round_trip(async |client| client.query(&statement, &values(params)).await)
    }

    /// As `query`, but planned for `params`' values each time (an unnamed statement, parsed
    /// and planned in the round trip that runs it): for a statement whose best plan depends on
    /// its values, where the plan PostgreSQL makes once for any values may read a whole table.
    /// The statement is still prepared once, to learn its parameters' types.
    pub(super) fn query_planned_for_values(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Vec<postgres::Row>, StoreError> {
        let types = self.statement(sql)?.params().to_vec();
        let typed: Vec<(&(dyn ToSql + Sync), Type)> = values(params).into_iter().zip(types).collect();
        let sql = numbered(sql);
        self.round_trip(async |client| client.query_typed(&sql, &typed).await)
    }

    pub(super) fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.round_trip(async |client| client.batch_execute(sql).await)
    }

    pub(super) fn is_closed(&self) -> bool {
        self.session.as_ref().is_none_or(|session| session.client.is_closed())
    }

    /// Starts a write transaction, waiting briefly or as usual for row locks; `BEGIN` leaves
    /// with its first statement.
    pub(in crate::store) fn begin(&mut self, short_lock_wait: bool) {
        self.later.clear();
        self.event_due = false;
        self.transaction = Transaction::Opening { short_lock_wait };
    }

    /// The id of the transaction begun (`txid_current()`), once `BEGIN` has been answered: if
    /// the connection is lost at the COMMIT, it tells whether it committed (`committed`).
    pub(in crate::store) fn transaction_id(&self) -> Option<i64> {
        match self.transaction {
            Transaction::Open(id) => Some(id),
            _ => None,
        }
    }

    /// Commits, with the writes kept for later. The transaction's id is known before the
    /// COMMIT leaves (a transaction with nothing but later writes is begun in a round trip of
    /// its own), so a connection lost at the COMMIT can still be asked about.
    pub(in crate::store) fn commit(&mut self) -> Result<(), StoreError> {
        if matches!(self.transaction, Transaction::Opening { .. }) {
            if self.later.is_empty() {
                self.transaction = Transaction::None;
                return Ok(());
            }
            let kept = std::mem::take(&mut self.later);
            let begun = self.batch("");
            self.later = kept;
            begun?;
        }
        // On an error the id stays: the caller asks whether a COMMIT lost on its way committed.
        self.batch("COMMIT")?;
        self.transaction = Transaction::None;
        Ok(())
    }

    /// Rolls back: the writes kept for later are never sent. A transaction whose `BEGIN` may
    /// have reached the server (its id unanswered) is rolled back too: the session must not
    /// stay inside it.
    pub(in crate::store) fn rollback(&mut self) -> Result<(), StoreError> {
        self.later.clear();
        let begun = self.transaction;
        self.transaction = Transaction::None;
        match begun {
            Transaction::None => Ok(()),
            _ => self.round_trip(async |client| client.batch_execute("ROLLBACK").await),
        }
    }

    /// What became of the transaction `id`: `Some(true)` committed, `Some(false)` aborted (or
    /// forgotten: never committed), `None` still in progress.
    pub(in crate::store) fn committed(&mut self, id: i64) -> Result<Option<bool>, StoreError> {
        let rows = self.round_trip(async |client| client.query("SELECT txid_status($1)", &[&id]).await)?;
        let status = rows.first().ok_or(StoreError::NoRow)?.try_get::<_, Option<String>>(0)?;
        Ok(match status.as_deref() {
            Some("committed") => Some(true),
            Some("in progress") => None,
            _ => Some(false),
        })
    }
}

/// The id `BEGIN` (or `BEGIN_BATCH`) answered.
fn txid_answered(messages: Vec<SimpleQueryMessage>) -> Result<i64, StoreError> {
    messages
        .iter()
        .find_map(|message| match message {
            SimpleQueryMessage::Row(row) => row.get(0).and_then(|text| text.parse().ok()),
            _ => None,
        })
        .ok_or(StoreError::NoRow)
}

/// A write kept for later: its statement and values, and, for one that touches one order's
/// rows only (`execute_later_for_order`), that order and the statement that runs it for
/// several orders at once.
struct Later {
    statement: Statement,
    values: Vec<Encoded>,
    merging: Option<(i64, MergedForm)>,
}

/// The statement that runs a write for several orders at once, and a number for its text.
#[derive(Clone)]
struct MergedForm {
    number: usize,
    statement: Statement,
}

/// What a round trip sends before its own request.
enum Outgoing {
    Write(Statement, Vec<Encoded>),
    /// Settings for the statements between (`MERGED_PLANS`).
    Settings(&'static str),
}

/// How the statements that run several writes at once are planned: once (their plan does not
/// depend on how many rows they get), and as a loop that finds each order by its key. Left to
/// itself PostgreSQL plans them anew for every batch (their values are arrays of unknown
/// length, so a plan made once looks dearer), which costs more than merging saves; and a plan
/// it made while `orders` was small could read the whole table, as the batch's read of its
/// orders once did (docs/performance.md, "A fourth pass").
/// `USUAL_PLANS` sets each back to its value for the session (`DEFAULT`): the proxy sets none
/// of them otherwise.
const MERGED_PLANS: &str = "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_hashjoin = off; \
                            SET LOCAL enable_mergejoin = off; SET LOCAL enable_seqscan = off";
const USUAL_PLANS: &str = "SET LOCAL plan_cache_mode = DEFAULT; SET LOCAL enable_hashjoin = DEFAULT; \
                           SET LOCAL enable_mergejoin = DEFAULT; SET LOCAL enable_seqscan = DEFAULT";

/// The rows of a statement that runs several writes at once: `unnest($1::int8[], $2::text[]…)
/// AS v(p1, p2…)`, a column per value of the single write; `None` when a value's type is not
/// one of PostgreSQL's own (its array is then not named so).
fn rows_of(types: &[Type]) -> Option<String> {
    let mut arrays = Vec::with_capacity(types.len());
    let mut columns = Vec::with_capacity(types.len());
    for (at, ty) in types.iter().enumerate() {
        if !matches!(ty.kind(), Kind::Simple) || ty.schema() != "pg_catalog" {
            return None;
        }
        arrays.push(format!("${}::{}[]", at + 1, ty.name()));
        columns.push(format!("p{}", at + 1));
    }
    Some(format!("unnest({}) AS v({})", arrays.join(", "), columns.join(", ")))
}

/// A value already encoded for its placeholder's type, so that a write kept for later owns
/// what it sends.
#[derive(Debug)]
struct Encoded {
    bytes: Option<Bytes>,
    format: Format,
}

impl Encoded {
    fn new(ty: &Type, value: &dyn Param) -> Result<Encoded, StoreError> {
        let mut out = BytesMut::new();
        let is_null = ToSql::to_sql_checked(value, ty, &mut out).map_err(|err| StoreError::Bind(err.to_string()))?;
        Ok(Encoded { bytes: matches!(is_null, IsNull::No).then(|| out.freeze()), format: ToSql::encode_format(value, ty) })
    }

    /// The array of `elements` (each encoded for `array`'s element type, in binary).
    fn array(array: &Type, elements: Vec<&Encoded>) -> Result<Encoded, StoreError> {
        let mut out = BytesMut::new();
        ToSql::to_sql_checked(&elements, array, &mut out).map_err(|err| StoreError::Bind(err.to_string()))?;
        Ok(Encoded { bytes: Some(out.freeze()), format: Format::Binary })
    }
}

impl ToSql for Encoded {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.bytes {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, _: &Type) -> Format {
        self.format
    }

    postgres::types::to_sql_checked!();
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

fn values<'a>(params: &'a [&'a dyn Param]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|param| *param as &(dyn ToSql + Sync)).collect()
}

/// `sql` with SQLite's placeholders as PostgreSQL's: each `?` numbered in order (`$1, $2…`),
/// `?N` as `$N`. Quoted text and identifiers are left alone.
pub fn numbered(sql: &str) -> String {
    let mut next = 0;
    with_placeholders(sql, |given| {
        let n = given.unwrap_or_else(|| {
            next += 1;
            next
        });
        format!("${n}")
    })
}

/// `sql`'s placeholders (each a plain `?`) as the columns `v.p{first}`, `v.p{first + 1}`… of
/// the rows a statement for several writes at once reads (`PgConn::execute_later_for_order`),
/// and how many there were.
pub fn lettered(sql: &str, first: usize) -> (String, usize) {
    let mut count = 0;
    let lettered = with_placeholders(sql, |given| {
        assert!(given.is_none(), "a statement merged for several writes numbers no placeholder: {sql}");
        count += 1;
        format!("v.p{}", first + count - 1)
    });
    (lettered, count)
}

/// `sql` with each placeholder outside quotes (`?`, or `?N` given as `Some(N)`) replaced.
fn with_placeholders(sql: &str, mut replace: impl FnMut(Option<usize>) -> String) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
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
                out.push_str(&replace(digits.parse().ok()));
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

    #[test]
    fn placeholders_are_lettered_as_the_columns_of_merged_rows() {
        let (sql, count) = super::lettered("a = COALESCE(?, a), b = '?', c = c + ?, ", 3);
        assert_eq!((sql.as_str(), count), ("a = COALESCE(v.p3, a), b = '?', c = c + v.p4, ", 2));
    }
}
