//! Fiscal receipts (issue 27, docs/fiscal-receipts.md): what a receipt lists (`lines.rs`) and
//! Webkassa's requests and answers as its own collection prints them (`webkassa.rs`), both pure.
//! The durable jobs that issue receipts once, the registrar's sandbox and where receipts are
//! shown come next: nothing here is wired to a payment yet, and there is no `FISCAL_REGISTRAR`
//! setting yet.

pub mod lines;
pub mod webkassa;
