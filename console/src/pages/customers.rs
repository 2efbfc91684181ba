//! Customers: who saved cards or subscribed, and one customer's cards and subscriptions with the
//! charges of each period. Operators delete a card or cancel a subscription, each after a
//! confirmation (the proxy records who did it).

use epay_api_types::{AdminCustomer, AdminCustomerLine, CardStatus, SavedCard, Subscription, SubscriptionStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;

use crate::api;
use crate::ctx::{Ctx, go};
use crate::format;
use crate::i18n::Lang;
use crate::route::{Route, encode};

/// The words of these pages, in the console's three languages.
pub struct Words {
    pub nav: &'static str,
    search: &'static str,
    none: &'static str,
    account: &'static str,
    cards: &'static str,
    subscriptions: &'static str,
    subscription: &'static str,
    card: &'static str,
    status: &'static str,
    saved_at: &'static str,
    last_used: &'static str,
    delete_card: &'static str,
    amount: &'static str,
    every: &'static str,
    next_charge: &'static str,
    period: &'static str,
    attempt: &'static str,
    invoice: &'static str,
    outcome: &'static str,
    cancel_now: &'static str,
    cancel_at_end: &'static str,
    confirm: &'static str,
    keep: &'static str,
    not_found: &'static str,
}

const RU: Words = Words {
    nav: "Клиенты",
    search: "ID клиента (accountId)",
    none: "Никто ещё не сохранил карту и не оформил подписку.",
    account: "Клиент",
    cards: "Сохранённые карты",
    subscriptions: "Подписки",
    subscription: "Подписка",
    card: "Карта",
    status: "Статус",
    saved_at: "Сохранена",
    last_used: "Последнее списание",
    delete_card: "Удалить карту",
    amount: "Сумма",
    every: "Период",
    next_charge: "Следующее списание",
    period: "Период",
    attempt: "Попытка",
    invoice: "Заказ",
    outcome: "Итог",
    cancel_now: "Отменить сейчас",
    cancel_at_end: "Отменить в конце периода",
    confirm: "Подтвердить",
    keep: "Не менять",
    not_found: "Такого клиента нет.",
};

const KK: Words = Words {
    nav: "Клиенттер",
    search: "Клиент ID (accountId)",
    none: "Әзірге ешкім карта сақтамаған және жазылмаған.",
    account: "Клиент",
    cards: "Сақталған карталар",
    subscriptions: "Жазылымдар",
    subscription: "Жазылым",
    card: "Карта",
    status: "Күйі",
    saved_at: "Сақталды",
    last_used: "Соңғы есептен шығару",
    delete_card: "Картаны жою",
    amount: "Сома",
    every: "Кезең",
    next_charge: "Келесі есептен шығару",
    period: "Кезең",
    attempt: "Әрекет",
    invoice: "Тапсырыс",
    outcome: "Нәтиже",
    cancel_now: "Қазір тоқтату",
    cancel_at_end: "Кезең соңында тоқтату",
    confirm: "Растау",
    keep: "Өзгертпеу",
    not_found: "Мұндай клиент жоқ.",
};

const EN: Words = Words {
    nav: "Customers",
    search: "Customer id (accountId)",
    none: "Nobody has saved a card or subscribed yet.",
    account: "Customer",
    cards: "Saved cards",
    subscriptions: "Subscriptions",
    subscription: "Subscription",
    card: "Card",
    status: "Status",
    saved_at: "Saved",
    last_used: "Last charged",
    delete_card: "Delete the card",
    amount: "Amount",
    every: "Every",
    next_charge: "Next charge",
    period: "Period",
    attempt: "Attempt",
    invoice: "Order",
    outcome: "Outcome",
    cancel_now: "Cancel now",
    cancel_at_end: "Cancel at the period's end",
    confirm: "Confirm",
    keep: "Keep it",
    not_found: "No such customer.",
};

/// A wire word of these pages (a card's, a subscription's or a charge's status, a period's unit)
/// in the reader's language; an unknown word as it is.
fn say(lang: Lang, word: &str) -> String {
    let [ru, kk, en] = match word {
        "pending" => ["ожидает", "күтуде", "pending"],
        "active" => ["действует", "белсенді", "active"],
        "deleted" => ["удалена", "жойылды", "deleted"],
        "past_due" => ["просрочена", "мерзімі өткен", "past due"],
        "paused" => ["приостановлена", "тоқтатыла тұрды", "paused"],
        "cancelled" => ["отменена", "тоқтатылды", "cancelled"],
        "paid" => ["оплачен", "төленді", "paid"],
        "failed" => ["отклонён", "қабылданбады", "declined"],
        "expired" => ["истёк", "мерзімі өтті", "expired"],
        "refunded" => ["возвращён", "қайтарылды", "refunded"],
        "day" => ["дн.", "күн", "day(s)"],
        "week" => ["нед.", "апта", "week(s)"],
        "month" => ["мес.", "ай", "month(s)"],
        "year" => ["г.", "жыл", "year(s)"],
        other => return other.to_owned(),
    };
    match lang {
        Lang::Ru => ru,
        Lang::Kk => kk,
        Lang::En => en,
    }
    .to_owned()
}

/// A declined charge's reason, for people (the API's `declineCode` is for programs).
fn decline_text(lang: Lang, code: &str) -> String {
    let [ru, kk, en] = match code {
        "insufficient_funds" => ["недостаточно средств", "қаражат жеткіліксіз", "insufficient funds"],
        "try_again_later" => ["банк просит повторить позже", "банк кейінірек қайталауды сұрайды", "the bank asks to try again later"],
        "card_expired" => ["срок действия карты истёк", "картаның мерзімі өтті", "the card has expired"],
        "card_deactivated" => ["карта деактивирована", "карта өшірілген", "the card was deactivated"],
        "card_deleted" => [
            "карта удалена, списание не отправлялось",
            "карта жойылды, есептен шығару жіберілмеді",
            "the card was deleted; nothing was sent",
        ],
        "unpaid" => ["период не оплачен", "кезең төленбеді", "the period went unpaid"],
        "cancelled_by_merchant" => ["отменена магазином", "дүкен тоқтатты", "cancelled by the shop"],
        "charge_unconfirmed" => [
            "ePay не показал отправленное списание: проверьте в кабинете ePay",
            "ePay жіберілген есептен шығаруды көрсетпеді: ePay кабинетінде тексеріңіз",
            "ePay never showed a charge that was sent: check it in ePay's cabinet",
        ],
        _ => ["банк отклонил платёж", "банк төлемді қабылдамады", "the bank declined the payment"],
    };
    let text = match lang {
        Lang::Ru => ru,
        Lang::Kk => kk,
        Lang::En => en,
    };
    format!("{text} ({code})")
}

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Ru => &RU,
        Lang::Kk => &KK,
        Lang::En => &EN,
    }
}

#[component]
pub fn Customers(q: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let search = RwSignal::new(q.clone());
    let path = format!("/api/admin/customers?q={}", encode(&q));
    let lines = LocalResource::new(move || {
        let path = path.clone();
        async move { api::get::<Vec<AdminCustomerLine>>(&path).await }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        go(&Route::Customers(search.get_untracked()));
    };
    view! {
        <section class="customers">
            <form class="filters" role="search" on:submit=submit>
                <label class="grow">{move || words(ctx.lang.get()).search}
                    <input type="search" name="q" prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev))/>
                </label>
                <button type="submit">{move || ctx.texts().search}</button>
            </form>
            {move || match lines.get() {
                None => view! { <p class="loading">{ctx.texts().loading}</p> }.into_any(),
                Some(Err(error)) => view! { <p class="problem" role="alert">{ctx.problem(&error)}</p> }.into_any(),
                Some(Ok(lines)) if lines.is_empty() => view! { <p class="note">{words(ctx.lang.get()).none}</p> }.into_any(),
                Some(Ok(lines)) => {
                    let w = words(ctx.lang.get());
                    view! {
                        <table class="list" data-customers>
                            <thead><tr><th>{w.account}</th><th>{w.cards}</th><th>{w.subscriptions}</th></tr></thead>
                            <tbody>{lines.into_iter().map(|line| view! {
                                <tr>
                                    <td><a href=Route::Customer(line.account_id.clone()).hash()>{line.account_id.clone()}</a></td>
                                    <td>{line.active_cards}</td>
                                    <td>{line.active_subscriptions}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// A change waiting for its confirmation.
#[derive(Clone)]
struct Pending {
    what: String,
    method: &'static str,
    path: String,
    body: serde_json::Value,
}

#[component]
pub fn Customer(account_id: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let path = format!("/api/admin/customers/{}", encode(&account_id));
    let customer = LocalResource::new(move || {
        let path = path.clone();
        async move { api::get::<AdminCustomer>(&path).await }
    });
    let pending = RwSignal::new(None::<Pending>);
    let (busy, problem) = (RwSignal::new(false), RwSignal::new(None::<String>));
    let confirm = move |_| {
        let Some(change) = pending.get_untracked() else { return };
        busy.set(true);
        let csrf = ctx.csrf();
        spawn_local(async move {
            let done = match change.method {
                "DELETE" => api::send("DELETE", &change.path, &csrf).await,
                _ => api::post::<serde_json::Value>(&change.path, &change.body, &csrf, None).await.map(|_| ()),
            };
            busy.set(false);
            match done {
                Ok(()) => {
                    pending.set(None);
                    problem.set(None);
                    customer.refetch();
                }
                Err(error) => problem.set(Some(ctx.problem(&error))),
            }
        });
    };
    view! {
        <section class="customer">
            <h1>{move || words(ctx.lang.get()).account} " " {account_id.clone()}</h1>
            {move || problem.get().map(|text| view! { <p class="problem" role="alert">{text}</p> })}
            {move || pending.get().map(|change| view! {
                <div class="confirm card" role="alertdialog" aria-live="assertive" data-confirm>
                    <p>{ctx.texts().confirm_question} " " <strong>{change.what.clone()}</strong></p>
                    <div class="row">
                        <button type="button" class="primary" data-confirm-yes on:click=confirm aria-busy=move || busy.get().to_string()>{words(ctx.lang.get()).confirm}</button>
                        <button type="button" class="quiet" on:click=move |_| pending.set(None)>{words(ctx.lang.get()).keep}</button>
                    </div>
                </div>
            })}
            {move || match customer.get() {
                None => view! { <p class="loading">{ctx.texts().loading}</p> }.into_any(),
                Some(Err(api::ApiError::Refused { status: 404, .. })) => view! { <p class="note">{words(ctx.lang.get()).not_found}</p> }.into_any(),
                Some(Err(error)) => view! { <p class="problem" role="alert">{ctx.problem(&error)}</p> }.into_any(),
                Some(Ok(customer)) => view! {
                    {cards(&customer, pending)}
                    {customer.subscriptions.iter().map(|sub| subscription(sub, pending)).collect_view()}
                }.into_any(),
            }}
        </section>
    }
}

fn cards(customer: &AdminCustomer, pending: RwSignal<Option<Pending>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let w = words(ctx.lang.get());
    let operator = ctx.is_operator();
    let row = move |card: &SavedCard| {
        let what = format!("{} {} {}", w.delete_card, card.card_mask.clone().unwrap_or_default(), card.id);
        let path = format!("/api/admin/customers/{}/cards/{}", encode(&card.account_id), encode(&card.id));
        let deletable = operator && card.status != CardStatus::Deleted;
        view! {
            <tr data-card=card.id.clone()>
                <td>{format!("{} {}", card.card_type.clone().unwrap_or_default(), card.card_mask.clone().unwrap_or_default())}<br/><small>{card.issuer.clone().unwrap_or_default()}</small></td>
                <td data-card-status=card.status.as_str()>{say(ctx.lang.get_untracked(), card.status.as_str())}</td>
                <td>{format::local_time(&card.saved_at)}</td>
                <td>{card.last_used_at.as_deref().map(format::local_time).unwrap_or_default()}</td>
                <td>{deletable.then(|| view! {
                    <button type="button" class="quiet" data-delete-card
                        on:click=move |_| pending.set(Some(Pending { what: what.clone(), method: "DELETE", path: path.clone(), body: json!({}) }))>
                        {w.delete_card}</button>
                })}</td>
            </tr>
        }
    };
    view! {
        <h2>{w.cards}</h2>
        <table class="list" data-cards>
            <thead><tr><th>{w.card}</th><th>{w.status}</th><th>{w.saved_at}</th><th>{w.last_used}</th><th></th></tr></thead>
            <tbody>{customer.cards.iter().map(row).collect_view()}</tbody>
        </table>
    }
}

fn subscription(sub: &Subscription, pending: RwSignal<Option<Pending>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let (lang, w) = (ctx.lang.get(), words(ctx.lang.get()));
    let live = sub.status != SubscriptionStatus::Cancelled;
    let path = format!("/api/admin/subscriptions/{}/cancel", encode(&sub.id));
    let ask = move |at_period_end: bool, label: &'static str, id: String, path: String| {
        move |_| {
            pending.set(Some(Pending {
                what: format!("{label} {id}"),
                method: "POST",
                path: path.clone(),
                body: json!({"atPeriodEnd": at_period_end}),
            }))
        }
    };
    let status = match &sub.status_reason {
        Some(reason) => format!("{} ({})", say(lang, sub.status.as_str()), decline_text(lang, reason)),
        None => say(lang, sub.status.as_str()),
    };
    view! {
        <div class="card" data-subscription=sub.id.clone()>
            <h2>{w.subscription} " " {sub.id.clone()} " — " {sub.description.clone()}</h2>
            <p>
                {w.status} ": " <strong data-subscription-status=sub.status.as_str()>{status}</strong> " · "
                {w.amount} ": " {format::money(&sub.amount, &sub.currency, lang)} " · "
                {w.every} ": " {format!("{} {}", sub.interval_count, say(lang, sub.interval.as_str()))} " · "
                {w.card} ": " {sub.card.clone()}
                {sub.next_charge_at.as_deref().map(|at| format!(" · {}: {}", w.next_charge, format::local_time(at)))}
            </p>
            {(live && ctx.is_operator()).then(|| view! {
                <div class="row">
                    <button type="button" class="quiet" data-cancel-now on:click=ask(false, w.cancel_now, sub.id.clone(), path.clone())>{w.cancel_now}</button>
                    {(!sub.cancel_at_period_end).then(|| view! {
                        <button type="button" class="quiet" data-cancel-at-end on:click=ask(true, w.cancel_at_end, sub.id.clone(), path.clone())>{w.cancel_at_end}</button>
                    })}
                </div>
            })}
            <table class="list" data-charges>
                <thead><tr><th>{w.period}</th><th>{w.attempt}</th><th>{w.invoice}</th><th>{w.amount}</th><th>{w.outcome}</th></tr></thead>
                <tbody>{sub.charges.iter().flatten().map(|charge| view! {
                    <tr>
                        <td>{charge.period} " · " {format::local_time(&charge.period_start)}</td>
                        <td>{charge.attempt}</td>
                        <td><a href=Route::Order(charge.invoice_id.clone()).hash()>{charge.invoice_id.clone()}</a></td>
                        <td>{format::money(&charge.amount, &sub.currency, lang)}</td>
                        <td data-outcome=charge.status.as_str()>{say(lang, charge.status.as_str())} {charge.decline_code.as_deref().map(|code| format!(" — {}", decline_text(lang, code)))}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        </div>
    }
}
