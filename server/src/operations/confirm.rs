//! Whether ePay's status API shows that an operation happened. Pure.
//!
//! After a capture the transaction is CHARGE, after a cancel CANCEL, after a full refund
//! REFUND. After a partial refund ePay's report is unconfirmed (REFUND, or CHARGE for what is
//! left): both are taken, and a partial refund whose answer was lost is re-sent with the same
//! externalID, which ePay answers once.

use crate::epay::StatusAnswer;

pub fn shows(kind: &str, full_refund: bool, answer: &StatusAnswer) -> bool {
    if answer.result_code != "100" {
        return false;
    }
    let status = answer.transaction.as_ref().and_then(|t| t.status_name.as_deref()).unwrap_or("").to_ascii_uppercase();
    match kind {
        "capture" => status == "CHARGE",
        "cancel" => status == "CANCEL",
        _ if full_refund => status == "REFUND",
        _ => status == "REFUND" || status == "CHARGE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epay::TransactionInfo;

    fn answer(code: &str, status: &str) -> StatusAnswer {
        StatusAnswer {
            result_code: code.into(),
            result_message: String::new(),
            transaction: Some(TransactionInfo { status_name: Some(status.into()), ..Default::default() }),
        }
    }

    #[test]
    fn each_operation_is_shown_by_its_own_status() {
        assert!(shows("capture", false, &answer("100", "CHARGE")));
        assert!(!shows("capture", false, &answer("100", "AUTH")));
        assert!(shows("cancel", false, &answer("100", "CANCEL")));
        assert!(shows("refund", true, &answer("100", "REFUND")));
        assert!(!shows("refund", true, &answer("100", "CHARGE")), "a full refund must show REFUND");
        assert!(shows("refund", false, &answer("100", "CHARGE")) && shows("refund", false, &answer("100", "REFUND")));
        assert!(!shows("capture", false, &answer("107", "CHARGE")));
    }
}
