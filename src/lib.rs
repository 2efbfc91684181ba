//! Checkout widget (being written).
