//! An order's life as one list, oldest first: every state it entered and why, the postLinks
//! and their verdicts, the status API's last word, operations, what people did, and every
//! webhook attempt. Pure: the handler reads the rows and hands them here.

use epay_api_types::{Action, Amount, AttemptOutcome, Happening, OperationStatus, StateCause, TimelineEntry};

use crate::store::admin::ActionRow;
use crate::store::notifications::{NotificationRow, Verdict};
use crate::store::operations::OperationRow;
use crate::store::orders::{HistoryRow, OrderRow, OrderState};
use crate::store::webhooks::{AttemptRow, EventRow};
use crate::views::order::rfc3339;

/// The rows of one order.
pub struct OrderRecords<'a> {
    pub order: &'a OrderRow,
    pub history: &'a [HistoryRow],
    pub post_links: &'a [NotificationRow],
    pub operations: &'a [OperationRow],
    pub actions: &'a [ActionRow],
    pub events: &'a [EventRow],
    pub attempts: &'a [AttemptRow],
}

struct Line {
    at_ms: i64,
    entry: TimelineEntry,
}

fn line(at_ms: i64, what: Happening, detail: Option<String>, actor: Option<String>) -> Line {
    Line { at_ms, entry: TimelineEntry { at: rfc3339(at_ms.div_euclid(1000)), what, detail, actor } }
}

pub fn build(records: &OrderRecords<'_>) -> Vec<TimelineEntry> {
    let mut lines = Vec::new();
    for (n, step) in records.history.iter().enumerate() {
        let (cause, detail, actor) = cause(records, step, n + 1 == records.history.len());
        lines.push(line(step.at * 1000, Happening::State { state: step.status, cause }, detail, actor));
    }
    for n in records.post_links {
        let what = Happening::PostLink {
            endpoint: n.endpoint,
            verdict: n.verdict,
            code: n.code.clone(),
            transaction_id: n.transaction_id.clone(),
        };
        lines.push(line(n.received_at * 1000, what, n.reason.clone(), None));
    }
    if let Some(answer) = &records.order.last_check {
        let what = Happening::Check { questions: records.order.check_attempts };
        lines.push(line(records.order.updated_at * 1000, what, Some(answer.clone()), None));
    }
    for action in records.actions {
        let detail =
            [action.checked.clone(), action.note.clone(), action.event_id.clone()].into_iter().flatten().collect::<Vec<_>>().join("; ");
        let what = Happening::Action { action: action.action, decision: action.decision };
        lines.push(line(action.at * 1000, what, Some(detail).filter(|d| !d.is_empty()), Some(action.actor.clone())));
    }
    for op in records.operations {
        let operation = |status, asked| Happening::Operation {
            operation: format!("op_{}", op.id),
            operation_kind: op.kind,
            amount: op.amount_minor.map(|m| Amount::from_minor(m as u64).to_string()),
            status,
            asked,
        };
        lines.push(line(op.created_at * 1000, operation(OperationStatus::Pending, true), op.reason.clone(), None));
        if op.updated_at > op.created_at || op.status != OperationStatus::Pending {
            lines.push(line(op.updated_at * 1000, operation(op.status, false), op.epay_answer.clone(), None));
        }
    }
    for event in records.events {
        let made = Happening::Webhook { event: event.r#type, attempt: None };
        lines.push(line(event.created_ms, made, Some(event.event_id.clone()), None));
        for attempt in records.attempts.iter().filter(|a| a.event_id == event.id) {
            let outcome =
                AttemptOutcome { status_code: attempt.status_code, error: attempt.error.clone(), duration_ms: attempt.duration_ms };
            lines.push(line(attempt.at_ms, Happening::Webhook { event: event.r#type, attempt: Some(outcome) }, None, None));
        }
    }
    // Stable: lines of the same instant keep the order above (a state before what it caused).
    lines.sort_by_key(|l| l.at_ms);
    lines.into_iter().map(|l| l.entry).collect()
}

/// Why the order entered `step`'s state (with what was recorded of it, and who): a person's
/// action of that second, a postLink of that second, or what that state always means.
fn cause(records: &OrderRecords<'_>, step: &HistoryRow, last: bool) -> (StateCause, Option<String>, Option<String>) {
    let resolved = records.actions.iter().find(|a| a.at == step.at && a.action == Action::ResolveReview);
    if let Some((action, decision)) = resolved.and_then(|a| Some((a, a.decision?))) {
        return (StateCause::ReviewResolved { decision }, None, Some(action.actor.clone()));
    }
    let accepted = records.post_links.iter().find(|n| n.received_at == step.at && n.verdict == Verdict::Accepted);
    let order = records.order;
    let cause = match step.status {
        OrderState::Open => StateCause::MadeByTheShop,
        OrderState::Created => StateCause::PayerPressedPay,
        OrderState::Pending => StateCause::TokenIssued,
        OrderState::StartFailed => return (StateCause::NoToken, order.start_error.clone(), None),
        OrderState::Confirming => StateCause::PostLinkArrived,
        OrderState::Review => return (StateCause::PersonMustLook, order.review_reason.clone().filter(|_| last), None),
        OrderState::Expired => StateCause::TimeRanOut,
        OrderState::Paid | OrderState::Failed | OrderState::Authorized => {
            StateCause::StatusApi { post_link_code: accepted.and_then(|n| n.code.clone()) }
        }
        OrderState::Cancelled | OrderState::Refunded => StateCause::OperationConfirmed,
    };
    (cause, None, None)
}
