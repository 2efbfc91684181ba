//! The proxy's integration tests: one test binary (one link step), one module per area, the
//! shared harness in `helpers` (zero2prod's layout). Every test that runs a proxy checks, when
//! its `TestApp` is dropped, that no response and no log line held a secret.

mod admin;
mod checkout;
mod concurrency;
mod confirmation;
mod crash;
mod epay_client;
mod fault_table;
mod faults;
mod helpers;
mod instances;
mod late_payments;
mod limits;
mod merchant;
mod metrics;
mod migrations;
mod operations;
mod postlink;
mod properties;
mod receipts;
mod sandbox_loop;
mod sandbox_shapes;
mod saved_cards;
mod secrets;
mod sign_in;
mod state_changes;
mod store_batches;
mod subscriptions;
mod tls;
mod webhooks;
mod webkassa_sandbox;
