//! An order's life as one list, oldest first: every state it entered and why, the postLinks
//! and their verdicts, the status API's last word, operations, what people did, and every
//! webhook attempt. Pure: the handler reads the rows and hands them here.

use epay_api_types::TimelineEntry;

use crate::store::admin::ActionRow;
use crate::store::notifications::{NotificationRow, Verdict};
use crate::store::operations::OperationRow;
use crate::store::orders::{HistoryRow, OrderRow, OrderState};
use crate::store::webhooks::{AttemptRow, EventRow};
use crate::views::order::{rfc3339, serde_plain};

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

fn line(at_ms: i64, kind: &str, title: String, detail: Option<String>, actor: Option<String>) -> Line {
    Line { at_ms, entry: TimelineEntry { at: rfc3339(at_ms.div_euclid(1000)), kind: kind.to_owned(), title, detail, actor } }
}

pub fn build(records: &OrderRecords<'_>) -> Vec<TimelineEntry> {
    let mut lines = Vec::new();
    for (n, step) in records.history.iter().enumerate() {
        let (cause, actor) = cause(records, step, n + 1 == records.history.len());
        lines.push(line(step.at * 1000, "state", step.status.name().to_owned(), cause, actor));
    }
    for n in records.post_links {
        let verdict = serde_plain(&n.verdict);
        let what = match (&n.code, &n.transaction_id) {
            (Some(code), Some(tx)) => format!("code {code}, transaction {tx}"),
            (Some(code), None) => format!("code {code}"),
            (None, _) => String::new(),
        };
        let detail = [Some(what).filter(|w| !w.is_empty()), n.reason.clone()].into_iter().flatten().collect::<Vec<_>>().join("; ");
        lines.push(line(
            n.received_at * 1000,
            "postlink",
            format!("{} {verdict}", serde_plain(&n.endpoint)),
            Some(detail).filter(|d| !d.is_empty()),
            None,
        ));
    }
    if let Some(answer) = &records.order.last_check {
        let title = format!("status API, {} question(s)", records.order.check_attempts);
        lines.push(line(records.order.updated_at * 1000, "check", title, Some(answer.clone()), None));
    }
    for action in records.actions {
        let title = match &action.decision {
            Some(decision) => format!("{}: {decision}", action.action),
            None => action.action.clone(),
        };
        let detail = [action.checked.as_ref().map(|c| format!("checked: {c}")), action.note.clone(), action.event_id.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ");
        lines.push(line(action.at * 1000, "action", title, Some(detail).filter(|d| !d.is_empty()), Some(action.actor.clone())));
    }
    for op in records.operations {
        let amount = op.amount_minor.map(|m| format!(" {}", epay_api_types::Amount::from_minor(m as u64))).unwrap_or_default();
        let title = format!("{}{amount} (op_{}) asked", op.kind.as_str(), op.id);
        lines.push(line(op.created_at * 1000, "operation", title, op.reason.clone(), None));
        if op.updated_at > op.created_at || op.status.name() != "pending" {
            let title = format!("{} op_{}: {}", op.kind.as_str(), op.id, op.status.name());
            lines.push(line(op.updated_at * 1000, "operation", title, op.epay_answer.clone(), None));
        }
    }
    for event in records.events {
        lines.push(line(event.created_ms, "webhook", format!("{} made", event.r#type), Some(event.event_id.clone()), None));
        for attempt in records.attempts.iter().filter(|a| a.event_id == event.id) {
            let outcome = match (attempt.status_code, &attempt.error) {
                (Some(code), _) => format!("answered {code}"),
                (None, Some(error)) => error.clone(),
                (None, None) => "no answer".to_owned(),
            };
            let title = format!("{} sent: {outcome}", event.r#type);
            lines.push(line(attempt.at_ms, "webhook", title, Some(format!("{} ms", attempt.duration_ms)), None));
        }
    }
    // Stable: lines of the same instant keep the order above (a state before what it caused).
    lines.sort_by_key(|l| l.at_ms);
    lines.into_iter().map(|l| l.entry).collect()
}

/// Why the order entered `step`'s state: a person's action of that second, a postLink of that
/// second, or what that state always means.
fn cause(records: &OrderRecords<'_>, step: &HistoryRow, last: bool) -> (Option<String>, Option<String>) {
    if let Some(action) = records.actions.iter().find(|a| a.at == step.at && a.action == "resolve_review") {
        return (Some(format!("review resolved: {}", action.decision.clone().unwrap_or_default())), Some(action.actor.clone()));
    }
    let accepted = records.post_links.iter().find(|n| n.received_at == step.at && n.verdict == Verdict::Accepted);
    let said = match step.status {
        OrderState::Open => "made by the shop (merchant API)".to_owned(),
        OrderState::Created => "the payer pressed Pay".to_owned(),
        OrderState::Pending => "ePay issued a payment token".to_owned(),
        OrderState::StartFailed => records.order.start_error.clone().unwrap_or_else(|| "no token from ePay".to_owned()),
        OrderState::Confirming => "a postLink said how it went; the status API is asked".to_owned(),
        OrderState::Review if last => records.order.review_reason.clone().unwrap_or_else(|| "a person must look".to_owned()),
        OrderState::Review => "a person must look".to_owned(),
        OrderState::Expired => "its time ran out without a payment".to_owned(),
        OrderState::Paid | OrderState::Failed | OrderState::Authorized => match accepted {
            Some(n) => format!("postLink {}, confirmed by the status API", n.code.clone().unwrap_or_default()),
            None => "ePay's status API".to_owned(),
        },
        OrderState::Cancelled | OrderState::Refunded => "an operation ePay's status API confirmed".to_owned(),
    };
    (Some(said), None)
}
