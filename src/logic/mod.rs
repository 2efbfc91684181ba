//! The widget's decisions, free of the browser: amount rules, what a failure tells the
//! payer, what an order's outcome says, where the form is. Compiled for every target, so
//! `cargo test` checks them natively in milliseconds; the browser code around them only reads
//! the DOM and formats money.

pub mod amount;
pub mod failure;
pub mod order;
pub mod outcome;
pub mod stage;
