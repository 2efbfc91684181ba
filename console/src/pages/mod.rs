//! The console's pages.

pub mod customers;
pub mod home;
pub mod order;
pub mod orders;
pub mod receipts;
pub mod second_factor;
pub mod signin;
