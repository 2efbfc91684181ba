//! An order's timeline in the reader's language: the proxy sends what happened as words of the
//! wire (`Happening`), and each line is said here in Russian, Kazakh or English. What was
//! recorded as it came (ePay's answer, a reason, an id) stays as it is, under the line. Pure.

use epay_api_types::{Action, AttemptOutcome, Happening, OperationKind, PostLinkEndpoint, PostLinkVerdict, StateCause};

use crate::i18n::{Lang, decision_label, in_language, operation_status_label, state_label};

/// The line for `what`.
pub fn describe(lang: Lang, what: &Happening) -> String {
    let say = |words: [&'static str; 3]| in_language(lang, words).to_owned();
    match what {
        Happening::State { state, cause } => format!("{} — {}", state_label(lang, *state), why(lang, cause)),
        Happening::PostLink { endpoint, verdict, code, transaction_id } => {
            let mut line = post_link(lang, *endpoint, *verdict);
            if let Some(code) = code {
                line += &format!(", {} {code}", say(["код", "код", "code"]));
            }
            if let Some(tx) = transaction_id {
                line += &format!(", {} {tx}", say(["транзакция", "транзакция", "transaction"]));
            }
            line
        }
        Happening::Check { questions } => {
            format!("{}: {questions}", say(["API статусов ePay, вопросов", "ePay статус API, сұрақтар", "ePay's status API, questions"]))
        }
        Happening::Action { action, decision } => {
            let done = match action {
                Action::ResolveReview => say(["решение по проверке", "тексеру бойынша шешім", "review resolved"]),
                Action::LatePayment => {
                    say(["оплата после срока заказа", "тапсырыс мерзімінен кейін төлем", "paid after the order's window"])
                }
                Action::Resend => say(["webhook поставлен в отправку ещё раз", "webhook қайта жіберуге қойылды", "webhook queued again"]),
                Action::Capture => say(["списание запрошено", "есептен шығару сұралды", "capture asked"]),
                Action::Cancel => say(["отмена запрошена", "болдырмау сұралды", "cancel asked"]),
                Action::Refund => say(["возврат запрошен", "қайтару сұралды", "refund asked"]),
                Action::DeleteCard => say(["сохранённая карта удалена", "сақталған карта жойылды", "saved card deleted"]),
                Action::CancelSubscription => say(["подписка отменена", "жазылым тоқтатылды", "subscription cancelled"]),
                Action::RetryReceipt => say(["чек запрошен ещё раз", "чек қайта сұралды", "receipt asked for again"]),
            };
            match decision {
                Some(decision) => format!("{done}: {}", decision_label(lang, *decision)),
                None => done,
            }
        }
        Happening::Operation { operation, operation_kind, amount, status, asked } => {
            let kind = match operation_kind {
                OperationKind::Capture => say(["Списание", "Есептен шығару", "Capture"]),
                OperationKind::Cancel => say(["Отмена", "Болдырмау", "Cancel"]),
                OperationKind::Refund => say(["Возврат", "Қайтару", "Refund"]),
            };
            let amount = amount.as_deref().map(|a| format!(" {a}")).unwrap_or_default();
            let now = if *asked {
                say(["запрошено", "сұралды", "asked"])
            } else {
                operation_status_label(lang, *status).to_owned()
            };
            format!("{kind}{amount} ({operation}): {now}")
        }
        Happening::Webhook { event, attempt: None } => format!("{} {}", event.as_str(), say(["создано", "жасалды", "made"])),
        Happening::Webhook { event, attempt: Some(attempt) } => format!("{} {}", event.as_str(), sent(lang, attempt)),
    }
}

/// A postLink and the proxy's verdict on it.
pub fn post_link(lang: Lang, endpoint: PostLinkEndpoint, verdict: PostLinkVerdict) -> String {
    let say = |words: [&'static str; 3]| in_language(lang, words).to_owned();
    let endpoint = match endpoint {
        PostLinkEndpoint::Postlink => say(["postLink", "postLink", "postLink"]),
        PostLinkEndpoint::FailurePostlink => say(["failurePostLink", "failurePostLink", "failurePostLink"]),
    };
    let verdict = match verdict {
        PostLinkVerdict::Accepted => say(["принят", "қабылданды", "accepted"]),
        PostLinkVerdict::Duplicate => say(["повтор, ничего не изменил", "қайталау, ештеңе өзгермеді", "a repeat, changed nothing"]),
        PostLinkVerdict::Ignored => say(["подлинный, но опоздал", "шынайы, бірақ кешікті", "authentic, but too late"]),
        PostLinkVerdict::Rejected => say(["отклонён", "қабылданбады", "rejected"]),
        PostLinkVerdict::Hint => {
            say(["без подписи: повод спросить ePay", "қолтаңбасыз: ePay-дан сұрауға себеп", "unsigned: a reason to ask ePay"])
        }
    };
    format!("{endpoint} {verdict}")
}

/// The line's kind, as the proxy names it (`data-kind`).
pub fn kind(what: &Happening) -> &'static str {
    match what {
        Happening::State { .. } => "state",
        Happening::PostLink { .. } => "postlink",
        Happening::Check { .. } => "check",
        Happening::Action { .. } => "action",
        Happening::Operation { .. } => "operation",
        Happening::Webhook { .. } => "webhook",
    }
}

fn why(lang: Lang, cause: &StateCause) -> String {
    let say = |words: [&'static str; 3]| in_language(lang, words).to_owned();
    match cause {
        StateCause::MadeByTheShop => {
            say(["создан магазином (API мерчанта)", "дүкен жасады (мерчант API)", "made by the shop (merchant API)"])
        }
        StateCause::PayerPressedPay => say(["покупатель нажал «Оплатить»", "сатып алушы «Төлеу» басты", "the payer pressed Pay"]),
        StateCause::TokenIssued => say(["ePay выдал токен оплаты", "ePay төлем токенін берді", "ePay issued a payment token"]),
        StateCause::NoToken => say(["ePay не выдал токен", "ePay токен бермеді", "no token from ePay"]),
        StateCause::PostLinkArrived => say([
            "пришёл postLink; спрашиваем API статусов",
            "postLink келді; статус API-дан сұраймыз",
            "a postLink came; the status API is asked",
        ]),
        StateCause::PersonMustLook => say(["нужен человек", "адам қарауы керек", "a person must look"]),
        StateCause::TimeRanOut => say(["время вышло без оплаты", "төлемсіз уақыт бітті", "its time ran out without a payment"]),
        StateCause::StatusApi { post_link_code: Some(code) } => format!(
            "{} {code}, {}",
            in_language(lang, ["postLink", "postLink", "postLink"]),
            in_language(lang, ["подтверждён API статусов", "статус API растады", "confirmed by the status API"])
        ),
        StateCause::StatusApi { post_link_code: None } => say(["по API статусов ePay", "ePay статус API бойынша", "ePay's status API"]),
        StateCause::OperationConfirmed => say(["операция, подтверждённая ePay", "ePay растаған операция", "an operation ePay confirmed"]),
        StateCause::ReviewResolved { decision } => {
            format!(
                "{}: {}",
                in_language(lang, ["решение по проверке", "тексеру бойынша шешім", "review resolved"]),
                decision_label(lang, *decision)
            )
        }
    }
}

fn sent(lang: Lang, attempt: &AttemptOutcome) -> String {
    let answer = match (attempt.status_code, &attempt.error) {
        (Some(code), _) => format!("{} {code}", in_language(lang, ["ответ", "жауап", "answered"])),
        (None, Some(error)) => error.clone(),
        (None, None) => in_language(lang, ["нет ответа", "жауап жоқ", "no answer"]).to_owned(),
    };
    format!(
        "{}: {answer} ({} {})",
        in_language(lang, ["отправлено", "жіберілді", "sent"]),
        attempt.duration_ms,
        in_language(lang, ["мс", "мс", "ms"])
    )
}

#[cfg(test)]
mod tests {
    use epay_api_types::{Decision, EventType, OperationStatus, OrderState};

    use super::*;

    /// Every kind of line reads in each language, and a Russian page has no English headline.
    #[test]
    fn every_line_is_said_in_the_readers_language() {
        let lines = [
            Happening::State { state: OrderState::Paid, cause: StateCause::StatusApi { post_link_code: Some("00".into()) } },
            Happening::State { state: OrderState::Review, cause: StateCause::PersonMustLook },
            Happening::State { state: OrderState::Failed, cause: StateCause::ReviewResolved { decision: Decision::Failed } },
            Happening::PostLink {
                endpoint: PostLinkEndpoint::Postlink,
                verdict: PostLinkVerdict::Accepted,
                code: Some("ok".into()),
                transaction_id: Some("t1".into()),
            },
            Happening::Check { questions: 3 },
            Happening::Action { action: Action::ResolveReview, decision: Some(Decision::Paid) },
            Happening::Operation {
                operation: "op_1".into(),
                operation_kind: OperationKind::Refund,
                amount: Some("500".into()),
                status: OperationStatus::Succeeded,
                asked: false,
            },
            Happening::Webhook {
                event: EventType::OrderPaid,
                attempt: Some(AttemptOutcome { status_code: Some(200), error: None, duration_ms: 12 }),
            },
        ];
        for what in &lines {
            let [ru, kk, en] = [Lang::Ru, Lang::Kk, Lang::En].map(|lang| describe(lang, what));
            assert!(ru != en && kk != en, "{what:?}: {ru} / {kk} / {en}");
            // Event types are identifiers the shop's code matches, not words: they stay.
            let words = ru.replace(EventType::OrderPaid.as_str(), "").to_lowercase();
            let english = ["paid", "review", "accepted", "questions", "asked", "succeeded", "answered", "resolved", "person", "sent"];
            assert!(!english.iter().any(|word| words.contains(word)), "English on a Russian page: {ru}");
        }
        assert_eq!(describe(Lang::En, &lines[0]), "Paid — postLink 00, confirmed by the status API");
        assert_eq!(describe(Lang::Ru, &lines[6]), "Возврат 500 (op_1): Выполнена");
    }
}
