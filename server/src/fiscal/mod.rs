//! Fiscal receipts (issue 27, docs/fiscal-receipts.md): what an order's receipt lists, fixed
//! when the order is made (`items.rs`), each line's VAT and a return's share (`lines.rs`),
//! Webkassa's requests and answers as its own collection prints them (`webkassa.rs`), all pure;
//! the registrar behind a trait (`registrar.rs`) with Webkassa's HTTP client
//! (`webkassa_client.rs`), and the worker that issues due receipts once and closes the shift
//! (`worker.rs`, `shift.rs`).

pub mod items;
pub mod lines;
pub mod plan;
pub mod registrar;
pub mod shift;
pub mod webkassa;
pub mod webkassa_client;
pub mod worker;

use std::sync::Arc;

use crate::state::AppState;

/// Starts the receipts' worker and the shift's schedule when a registrar is configured.
pub fn start(app: &Arc<AppState>) -> Vec<tokio::task::JoinHandle<()>> {
    let settings = app.config.fiscal.clone();
    let Some(webkassa) = settings.webkassa.clone() else { return Vec::new() };
    let timeout = webkassa.timeout;
    let registrar: Arc<dyn registrar::Registrar> = Arc::new(webkassa_client::WebkassaClient::new(webkassa));
    tracing::info!(cashbox = registrar.cashbox(), vat = ?settings.vat_percent, "fiscal receipts are issued through Webkassa");
    vec![tokio::spawn(worker::run(app.clone(), registrar.clone(), timeout)), tokio::spawn(shift::run(app.clone(), registrar, settings))]
}
