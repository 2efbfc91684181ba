//! Housekeeping that keeps the store bounded, once a minute: expires merchant orders nobody
//! started before their `expiresAt`, releases the invoice suffixes of
//! finished orders whose token can no longer be used, deletes rejected postLinks past their
//! retention (and the attempts of settled webhook events with them), recounts the orders
//! holding a suffix (`MAX_OPEN_ORDERS`), and forgets quiet
//! sources of the postLink limiter.

use std::sync::Arc;
use std::time::Duration;

use crate::state::AppState;
use crate::store::{StoreError, leases, notifications, now, now_ms, orders, webhooks};

pub const INTERVAL: Duration = Duration::from_secs(60);

pub async fn run(app: Arc<AppState>) {
    loop {
        if let Err(err) = run_once(&app).await {
            tracing::error!(error = %err, "maintenance failed; trying again in a minute");
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

/// A round that holds the writer longer than this is logged (requests wait behind it).
const SLOW_ROUND_MS: u64 = 20;

/// One round; returns what it did.
pub async fn run_once(app: &AppState) -> Result<Round, StoreError> {
    let grace = app.config.confirmation.expiry_grace.as_secs() as i64;
    let before = now() - app.config.limits.rejected_postlink_retention.as_secs() as i64;
    let (interrupted_before, check_ms) = (interrupted_before(&app.config, now()), crate::confirm::first_check_ms(&app.config.confirmation));
    let (open_orders, merchant_open_orders) = (app.open_orders.clone(), app.merchant_open_orders.clone());
    let holder = app.instance.clone();
    let admin_idle = app.config.admin.idle.as_secs() as i64;
    let throttle_window = app.config.admin.throttle.window.as_secs() as i64;
    let round = app
        .store
        .write(move |tx| {
            let started = std::time::Instant::now();
            // Several instances on one database: the round runs where its lease is. The others
            // only recount (each counts its own inserts in between).
            let now_ms = now_ms();
            let holds_the_lease = leases::take(tx, LEASE, &holder, now_ms, now_ms + LEASE_MS)?;
            let (mut expired, mut interrupted) = (0, 0);
            if holds_the_lease {
                expired = orders::expire_open_orders(tx, now())?;
                interrupted = orders::fail_interrupted_starts(tx, interrupted_before, check_ms)?;
                orders::release_suffixes(tx, now(), grace)?;
            }
            // Taken right before the counts: an insert of this instance committed between the
            // two would be counted twice (until the next round), so the gap is kept to nothing
            // but the counts themselves (on SQLite, on the writer, none can).
            let began = (open_orders.counting(), merchant_open_orders.counting());
            let held = orders::count_holding_suffix(tx)?;
            let merchant_held = orders::count_merchant_holding_suffix(tx)?;
            open_orders.recounted(held, began.0);
            merchant_open_orders.recounted(merchant_held, began.1);
            if !holds_the_lease {
                return Ok(Round { held, ..Round::default() });
            }
            let pruned = notifications::prune_rejected(tx, before)?;
            // Delivery attempts of settled events are kept as long as rejected postLinks.
            webhooks::prune_attempts(tx, before * 1000)?;
            crate::store::admin::prune_sessions(tx, now(), admin_idle)?;
            crate::store::admin::prune_attempts(tx, now() - throttle_window, now())?;
            // Every request that writes waits while this runs: it must stay short.
            let writer_ms = started.elapsed().as_millis() as u64;
            if writer_ms > SLOW_ROUND_MS {
                tracing::warn!(writer_ms, "the maintenance round held the writer for long");
            }
            Ok(Round { held, pruned, expired, interrupted, ran: true })
        })
        .await?;
    app.postlink_limiter.forget_idle();
    app.admin_sign_ins.forget_idle();
    if round.ran {
        tracing::info!(held = round.held, instance = %app.instance, "maintenance round ran here (this instance has its lease)");
    }
    if round.expired > 0 {
        tracing::info!(expired = round.expired, "merchant orders past their expiry are now expired");
    }
    if round.interrupted > 0 {
        tracing::warn!(
            interrupted = round.interrupted,
            "orders whose token request got no answer (an instance stopped) are now start_failed"
        );
    }
    if round.pruned > 0 {
        tracing::info!(pruned = round.pruned, "rejected postLinks past their retention deleted");
    }
    Ok(round)
}

/// The name of the round's lease, and how long it lasts: past the next round's start, so the
/// instance that has it keeps it while it runs; when it dies another takes over within
/// `INTERVAL` after the lease ends.
const LEASE: &str = "maintenance";
const LEASE_MS: i64 = INTERVAL.as_millis() as i64 + 30_000;

/// Orders still `created` that were last touched before this (unix seconds) can have no
/// token request in flight: each waits `EPAY_TIMEOUT_SECS` at most (twice, and some slack).
pub fn interrupted_before(config: &crate::config::Config, now: i64) -> i64 {
    now - 2 * config.epay.timeout.as_secs() as i64 - 5
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Whether this instance ran the round (it had the lease); `false`: it only recounted.
    pub ran: bool,
    /// Orders still holding an invoice suffix.
    pub held: u64,
    /// Rejected notifications deleted.
    pub pruned: u64,
    /// Merchant orders nobody started paying before their expiry, now `expired`.
    pub expired: u64,
    /// Orders whose token request was never answered (their instance stopped), now `start_failed`.
    pub interrupted: u64,
}

#[cfg(test)]
mod tests {
    use crate::store::{Store, admin, notifications, orders, webhooks};

    /// The round runs on the writer while requests wait: each statement must go through an
    /// index to the rows it changes, never scan history, which only grows (at 1,000
    /// postLinks/s such scans held the writer for about 100 ms a minute). Every statement of
    /// `run_once` is here (`the_round_runs_only_the_statements_checked_here` holds the list).
    #[tokio::test]
    async fn every_maintenance_statement_reads_through_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("t.sqlite3").display())).await.unwrap();
        // Each statement and the index that bounds what it reads.
        let statements = [
            (orders::EXPIRE_OPEN_ORDERS, "orders_status (status=?)"),
            (orders::INTERRUPTED_STARTS, "orders_status (status=? AND updated_at<?)"),
            (orders::RELEASE_SUFFIXES, "orders_suffix_release"),
            (orders::COUNT_HOLDING_SUFFIX, "orders_reserved_suffix"),
            (orders::COUNT_MERCHANT_HOLDING_SUFFIX, "orders_merchant_suffix"),
            (notifications::PRUNE_REJECTED, "notifications_pruning"),
            (webhooks::PRUNE_ATTEMPTS, "webhook_attempts_age"),
            (admin::PRUNE_EXPIRED_SESSIONS, "admin_sessions_expiry"),
            (admin::PRUNE_IDLE_SESSIONS, "admin_sessions_idle"),
            (admin::PRUNE_SIGN_IN_ATTEMPTS, "admin_sign_in_attempts_age"),
        ];
        for (sql, bound) in statements {
            let plan = store.write(move |tx| tx.query_plan(sql)).await.unwrap();
            assert!(plan.iter().all(|step| !step.starts_with("SCAN")), "a scan in the plan of\n{sql}\n{plan:#?}");
            assert!(plan.first().is_some_and(|step| step.contains(bound)), "not through {bound}:\n{sql}\n{plan:#?}");
        }
    }

    /// Every store call of the round, each with the statements `every_maintenance_statement_reads_through_an_index`
    /// checks (the lease is taken by its primary key): a statement added to the round fails
    /// here until its plan is checked there.
    #[test]
    fn the_round_runs_only_the_statements_checked_here() {
        let source = include_str!("maintenance.rs");
        let round = &source[source.find("pub async fn run_once").unwrap()..source.find("const LEASE: &str").unwrap()];
        let mut calls = std::collections::BTreeSet::new();
        for module in ["orders::", "notifications::", "webhooks::", "admin::", "leases::"] {
            for (at, _) in round.match_indices(module) {
                let name: String = round[at + module.len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if round[at + module.len() + name.len()..].starts_with('(') {
                    calls.insert(format!("{module}{name}"));
                }
            }
        }
        let checked = [
            "admin::prune_attempts",
            "admin::prune_sessions",
            "leases::take",
            "notifications::prune_rejected",
            "orders::count_holding_suffix",
            "orders::count_merchant_holding_suffix",
            "orders::expire_open_orders",
            "orders::fail_interrupted_starts",
            "orders::release_suffixes",
            "webhooks::prune_attempts",
        ];
        assert_eq!(calls.iter().map(String::as_str).collect::<Vec<_>>(), checked);
    }
}
