//! One order: what it is, the payment, its timeline, postLinks, operations and webhooks, and
//! what an operator can do with it, each after a confirmation.

use epay_api_types::{AdminOrder, Decision, MerchantOrder, OperationStatus, OrderState, TimelineEntry, WebhookEvent};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use crate::api;
use crate::ctx::Ctx;
use crate::format;
use crate::i18n::{Shown, decision_label, operation_status_label};
use crate::route::encode;
use crate::timeline;

/// A change waiting for its confirmation; its key makes a double click one operation.
#[derive(Clone)]
struct Pending {
    what: String,
    path: String,
    body: Value,
    key: String,
}

#[component]
pub fn Order(invoice_id: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let version = RwSignal::new(0u32);
    let path = format!("/api/admin/orders/{}", encode(&invoice_id));
    let order = LocalResource::new(move || {
        version.track();
        let path = path.clone();
        async move { api::get::<AdminOrder>(&path).await }
    });
    let pending = RwSignal::new(None::<Pending>);
    let (said, problem, busy) = (RwSignal::new(None::<String>), RwSignal::new(None::<String>), RwSignal::new(false));
    let confirm = move |_| {
        let Some(change) = pending.get_untracked() else { return };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let csrf = ctx.csrf();
        spawn_local(async move {
            let done = if change.path.ends_with("/resend") {
                api::send("POST", &change.path, &csrf).await
            } else {
                api::post::<Value>(&change.path, &change.body, &csrf, Some(&change.key)).await.map(|_| ())
            };
            match done {
                Ok(()) => {
                    said.set(Some(ctx.texts().done.to_owned()));
                    problem.set(None);
                    pending.set(None);
                    version.update(|v| *v += 1);
                }
                Err(error) => problem.set(Some(ctx.problem(&error))),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="order">
            <a href="#/orders" class="back">{move || ctx.texts().back}</a>
            {move || pending.get().map(|change| view! {
                <div class="confirm card" role="alertdialog" aria-live="assertive" data-confirm>
                    <p>{ctx.texts().confirm_question} " " <strong>{change.what.clone()}</strong></p>
                    <div class="row">
                        <button type="button" class="primary" data-confirm-yes on:click=confirm aria-busy=move || busy.get().to_string()>{ctx.texts().confirm}</button>
                        <button type="button" class="quiet" on:click=move |_| pending.set(None)>{ctx.texts().dismiss}</button>
                    </div>
                </div>
            })}
            <p class="said" role="status">{move || said.get().unwrap_or_default()}</p>
            <p class="problem" role="alert">{move || problem.get().unwrap_or_default()}</p>
            {move || match order.get() {
                None => view! { <p class="loading">{ctx.texts().loading}</p> }.into_any(),
                Some(Err(error)) => view! {
                    <p class="problem" role="alert">{ctx.problem(&error)}</p>
                    <button type="button" class="quiet" data-retry on:click=move |_| version.update(|v| *v += 1)>{ctx.texts().retry}</button>
                }.into_any(),
                Some(Ok(detail)) => view! { <Detail detail=detail pending=pending/> }.into_any(),
            }}
        </section>
    }
}

fn fact(label: &'static str, value: Option<String>) -> Option<impl IntoView> {
    value.filter(|v| !v.is_empty()).map(|value| view! { <div class="fact"><dt>{label}</dt><dd>{value}</dd></div> })
}

#[component]
fn Detail(detail: AdminOrder, pending: RwSignal<Option<Pending>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let t = ctx.texts();
    let lang = ctx.lang.get();
    let order = detail.order.clone();
    let currency = order.currency.clone();
    let money = |amount: &str| format::money(amount, &currency, lang);
    let shown = Shown::of(&order);
    let payment = order.payment.clone().unwrap_or_default();
    let (review, actions) = (review_box(&order, pending), actions(&order, pending));
    view! {
        <header class="order-head">
            <h1>{order.invoice_id.clone()}</h1>
            <span class="status" data-status=shown.wire()>{shown.label(lang)}</span>
            <strong class="amount">{money(&order.amount)}</strong>
        </header>
        <div class="columns">
            <dl class="facts card">
                {fact(t.reference, order.reference.clone())}
                {fact(t.description, Some(order.description.clone()))}
                {fact(t.created, Some(format::local_time(&order.created_at)))}
                {fact(t.contacts, Some([order.email.clone(), order.phone.clone()].into_iter().filter(|c| !c.is_empty()).collect::<Vec<_>>().join(", ")))}
                {fact(t.captured, order.captured_amount.as_deref().map(&money))}
                {fact(t.refunded_amount, Some(money(&order.refunded_amount)).filter(|_| order.refunded_amount != "0"))}
                {fact(t.status_checks, order.confirmation.as_ref().filter(|c| c.attempts > 0).map(|c| format!("{} · {}", c.attempts, c.last_answer.clone().unwrap_or_default())))}
            </dl>
            <dl class="facts card" data-payment>
                <h2>{t.payment}</h2>
                {fact(t.card, payment.card_mask.clone())}
                {fact(t.card_type, payment.card_type.clone())}
                {fact(t.issuer, payment.issuer.clone())}
                {fact(t.approval_code, payment.approval_code.clone())}
                {fact(t.transaction, payment.transaction_id.clone())}
                {fact(t.fee, payment.fee.as_deref().map(&money))}
                {fact(t.bonus, payment.amount_bonus.as_deref().filter(|b| *b != "0").map(&money))}
            </dl>
        </div>
        {review}
        {actions}
        <h2>{t.timeline}</h2>
        <Timeline entries=detail.timeline.clone()/>
        <h2>{t.post_links}</h2>
        <PostLinks order=detail.order.clone()/>
        <h2>{t.operations}</h2>
        <Operations order=detail.order.clone()/>
        {detail.order.receipts.as_deref().map(super::receipts::of_order)}
        <h2>{t.webhooks}</h2>
        <Webhooks events=detail.events.clone() pending=pending/>
    }
}

fn review_box(order: &MerchantOrder, pending: RwSignal<Option<Pending>>) -> AnyView {
    let ctx = expect_context::<Ctx>();
    let t = ctx.texts();
    let lang = ctx.lang.get_untracked();
    let resolution = order.review_resolution.clone().map(|r| {
        let decided = decision_label(lang, r.decision);
        view! { <p class="resolution" data-resolution=r.decision.as_str()>{t.resolution} ": " <strong>{decided}</strong> " — " {r.by} ", " {format::local_time(&r.at)} " · " {r.checked}</p> }
    });
    if order.state != OrderState::Review {
        return view! { {resolution} }.into_any();
    }
    // A capture, cancel or refund in review is decided about itself; a payment, about the order.
    let operation_in_review = order.operations.iter().flatten().any(|op| op.status == OperationStatus::Review);
    let choices: &'static [Decision] = if operation_in_review {
        &[Decision::Done, Decision::NotDone, Decision::SendAgain, Decision::EpayLedger]
    } else {
        &[Decision::Paid, Decision::Failed, Decision::Refund]
    };
    let (decision, checked, note) = (RwSignal::new(choices[0]), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let path = format!("/api/admin/orders/{}/review", encode(&order.invoice_id));
    let ask = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let label = decision_label(lang, decision.get_untracked());
        let body = json!({"decision": decision.get_untracked(), "checked": checked.get_untracked(), "note": note.get_untracked()});
        pending.set(Some(Pending { what: format!("{} — {label}", t.resolve_title), path: path.clone(), body, key: api::new_key() }));
    };
    let choice = move |value: Decision| {
        view! {
            <label class="choice"><input type="radio" name="decision" value=value.as_str() prop:checked=move || decision.get() == value
                on:change=move |_| decision.set(value)/>{decision_label(lang, value)}</label>
        }
    };
    view! {
        <div class="review card" data-review>
            <h2>{t.review_reason}</h2>
            <p>{order.review_reason.clone().unwrap_or_default()}</p>
            {resolution}
            {if ctx.is_operator() {
                view! {
                    <form class="resolve" on:submit=ask>
                        <h3>{t.resolve_title}</h3>
                        <div class="row">{choices.iter().map(|&value| choice(value)).collect_view()}</div>
                        <label>{t.checked}<input name="checked" required maxlength="500" prop:value=move || checked.get() on:input=move |ev| checked.set(event_target_value(&ev))/></label>
                        <label>{t.note}<textarea name="note" maxlength="1000" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea></label>
                        <button type="submit" class="primary">{t.resolve_title}</button>
                    </form>
                }.into_any()
            } else {
                view! { <p class="note">{t.viewer_note}</p> }.into_any()
            }}
        </div>
    }
    .into_any()
}

fn actions(order: &MerchantOrder, pending: RwSignal<Option<Pending>>) -> AnyView {
    let ctx = expect_context::<Ctx>();
    let t = ctx.texts();
    let lang = ctx.lang.get();
    let (paid, held) = (order.state == OrderState::Paid, order.state == OrderState::Authorized);
    if !paid && !held {
        return ().into_any();
    }
    if !ctx.is_operator() {
        return view! { <p class="note">{t.viewer_note}</p> }.into_any();
    }
    let base = format!("/api/admin/orders/{}", encode(&order.invoice_id));
    let (amount, reason) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let currency = order.currency.clone();
    let ask = move |label: &'static str, what: &'static str, with_reason: bool| {
        let typed = amount.get_untracked().trim().replace(',', ".");
        let shown = if typed.is_empty() { String::new() } else { format!(": {}", format::money(&typed, &currency, lang)) };
        let mut body = json!({});
        if !typed.is_empty() {
            body["amount"] = json!(typed);
        }
        if with_reason && !reason.get_untracked().trim().is_empty() {
            body["reason"] = json!(reason.get_untracked().trim());
        }
        pending.set(Some(Pending { what: format!("{label}{shown}"), path: format!("{base}/{what}"), body, key: api::new_key() }));
    };
    let ask_refund = ask.clone();
    let ask_capture = ask.clone();
    let ask_cancel = ask;
    view! {
        <div class="actions card" data-actions>
            <h2>{t.actions}</h2>
            <label>{t.refund_amount}<input inputmode="decimal" name="amount" prop:value=move || amount.get() on:input=move |ev| amount.set(event_target_value(&ev))/></label>
            {paid.then(|| view! {
                <label>{t.reason}<input name="reason" maxlength="255" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/></label>
                <button type="button" class="primary" data-refund on:click=move |_| ask_refund(t.refund, "refunds", true)>{t.refund}</button>
            })}
            {held.then(|| view! {
                <div class="row">
                    <button type="button" class="primary" data-capture on:click=move |_| ask_capture(t.capture, "capture", false)>{t.capture}</button>
                    <button type="button" class="quiet" data-cancel on:click=move |_| ask_cancel(t.cancel_hold, "cancel", false)>{t.cancel_hold}</button>
                </div>
            })}
        </div>
    }
    .into_any()
}

#[component]
fn Timeline(entries: Vec<TimelineEntry>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let lang = ctx.lang.get();
    view! {
        <ol class="timeline">
            {entries.into_iter().map(|e| view! {
                <li data-kind=timeline::kind(&e.what)>
                    <time>{format::local_time(&e.at)}</time>
                    <span class="what">{timeline::describe(lang, &e.what)}</span>
                    {e.actor.clone().map(|a| view! { <span class="actor">{a}</span> })}
                    {e.detail.clone().map(|d| view! { <span class="detail">{d}</span> })}
                </li>
            }).collect_view()}
        </ol>
    }
}

#[component]
fn PostLinks(order: MerchantOrder) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let (t, lang) = (ctx.texts(), ctx.lang.get());
    let links = order.post_links.unwrap_or_default();
    if links.is_empty() {
        return view! { <p class="empty">{t.nothing}</p> }.into_any();
    }
    view! {
        <table class="list" data-post-links>
            <thead><tr><th>{t.received}</th><th>{t.verdict}</th><th>{t.transaction}</th><th>{t.reason}</th></tr></thead>
            <tbody>
                {links.into_iter().map(|n| view! {
                    <tr>
                        <td>{format::local_time(&n.received_at)}</td>
                        <td><span class="status" data-status=n.verdict.as_str()>{timeline::post_link(lang, n.endpoint, n.verdict)}</span></td>
                        <td class="mono">{[n.code.clone(), n.transaction_id.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ")}</td>
                        <td class="detail">{n.reason.clone().unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Operations(order: MerchantOrder) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let t = ctx.texts();
    let lang = ctx.lang.get();
    let operations = order.operations.unwrap_or_default();
    if operations.is_empty() {
        return view! { <p class="empty">{t.nothing}</p> }.into_any();
    }
    view! {
        <table class="list" data-operations>
            <thead><tr><th>{t.created}</th><th>{t.operations}</th><th class="num">{t.amount}</th><th>{t.status}</th><th>{t.message}</th></tr></thead>
            <tbody>
                {operations.into_iter().map(|op| view! {
                    <tr data-operation=op.id.clone()>
                        <td>{format::local_time(&op.created_at)}</td>
                        <td>{format!("{} {}", op.kind.as_str(), op.id)}{op.reason.clone().map(|r| view! { <span class="detail">" · " {r}</span> })}</td>
                        <td class="num">{op.amount.as_deref().map(|a| format::money(a, &order.currency, lang)).unwrap_or_default()}</td>
                        <td><span class="status" data-status=op.status.as_str()>{operation_status_label(lang, op.status)}</span></td>
                        <td class="detail">{op.message.clone().unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Webhooks(events: Vec<WebhookEvent>, pending: RwSignal<Option<Pending>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let t = ctx.texts();
    if events.is_empty() {
        return view! { <p class="empty">{t.nothing}</p> }.into_any();
    }
    let operator = ctx.is_operator();
    view! {
        <table class="list events">
            <tbody>
                {events.into_iter().map(|event| {
                    let path = format!("/api/admin/events/{}/resend", encode(&event.id));
                    let what = format!("{} {}", t.resend, event.r#type);
                    let attempts = event.attempts.iter().map(|a| match a.status_code {
                        Some(code) => format!("{} → {code}", format::local_time(&a.at)),
                        None => format!("{} → {}", format::local_time(&a.at), a.error.clone().unwrap_or_default()),
                    }).collect::<Vec<_>>().join("; ");
                    view! {
                        <tr data-event=event.id.clone()>
                            <td>{event.r#type.as_str()}</td>
                            <td>{format::local_time(&event.created_at)}</td>
                            <td><span class="status" data-status=event.status.clone()>{event.status.clone()}</span></td>
                            <td class="detail">{attempts}</td>
                            <td>{operator.then(|| {
                                let (path, what) = (path.clone(), what.clone());
                                view! { <button type="button" class="quiet" data-resend on:click=move |_| pending.set(Some(Pending { what: what.clone(), path: path.clone(), body: json!({}), key: api::new_key() }))>{t.resend}</button> }
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
