//! Fiscal receipts: how many are due, issued and failing, the cash register's shift and the
//! alert a person must act on, and the receipts themselves (filtered by status). Operators ask
//! for a failed or waiting receipt again (the proxy records who did it).

use epay_api_types::{AdminReceipt, AdminReceipts, Receipt};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;

use crate::api;
use crate::ctx::Ctx;
use crate::format;
use crate::i18n::Lang;
use crate::route::{Route, encode};

pub struct Words {
    pub nav: &'static str,
    pub home_tile: &'static str,
    pub failed: &'static str,
    pub alert: &'static str,
    off: &'static str,
    due: &'static str,
    issued: &'static str,
    all: &'static str,
    oldest_due: &'static str,
    register: &'static str,
    shift_open: &'static str,
    shift_closed: &'static str,
    last_z: &'static str,
    z_error: &'static str,
    none: &'static str,
    invoice: &'static str,
    kind: &'static str,
    amount: &'static str,
    status: &'static str,
    sign: &'static str,
    attempts: &'static str,
    retry: &'static str,
    next_attempt: &'static str,
}

const RU: Words = Words {
    nav: "Чеки",
    home_tile: "Фискальные чеки ждут выдачи",
    off: "Фискальные чеки не выдаются: FISCAL_REGISTRAR не задан.",
    due: "ждут",
    issued: "выданы",
    failed: "отклонены",
    all: "все",
    oldest_due: "старейший ждёт с",
    register: "Касса",
    shift_open: "смена открыта с",
    shift_closed: "смена закрыта",
    last_z: "последний Z-отчёт",
    alert: "Нужен человек",
    z_error: "Z-отчёт не удался",
    none: "Чеков нет.",
    invoice: "Заказ",
    kind: "Чек",
    amount: "Сумма",
    status: "Статус",
    sign: "Фискальный признак",
    attempts: "Попыток",
    retry: "Запросить ещё раз",
    next_attempt: "следующая попытка",
};

const KK: Words = Words {
    nav: "Чектер",
    home_tile: "Берілмеген фискалдық чектер",
    off: "Фискалдық чектер берілмейді: FISCAL_REGISTRAR берілмеген.",
    due: "күтуде",
    issued: "берілді",
    failed: "қабылданбады",
    all: "барлығы",
    oldest_due: "ең ескісі күтуде",
    register: "Касса",
    shift_open: "ауысым ашық",
    shift_closed: "ауысым жабық",
    last_z: "соңғы Z-есеп",
    alert: "Адам керек",
    z_error: "Z-есеп сәтсіз",
    none: "Чектер жоқ.",
    invoice: "Тапсырыс",
    kind: "Чек",
    amount: "Сома",
    status: "Күйі",
    sign: "Фискалдық белгі",
    attempts: "Әрекеттер",
    retry: "Қайта сұрау",
    next_attempt: "келесі әрекет",
};

const EN: Words = Words {
    nav: "Receipts",
    home_tile: "Fiscal receipts waiting",
    off: "No fiscal receipts are issued: FISCAL_REGISTRAR is not set.",
    due: "due",
    issued: "issued",
    failed: "failed",
    all: "all",
    oldest_due: "the oldest waits since",
    register: "Cash register",
    shift_open: "shift open since",
    shift_closed: "shift closed",
    last_z: "last Z-report",
    alert: "A person must act",
    z_error: "the Z-report failed",
    none: "No receipts.",
    invoice: "Order",
    kind: "Receipt",
    amount: "Amount",
    status: "Status",
    sign: "Fiscal sign",
    attempts: "Attempts",
    retry: "Ask again",
    next_attempt: "next attempt",
};

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Ru => &RU,
        Lang::Kk => &KK,
        Lang::En => &EN,
    }
}

/// A receipt's kind or status, or an alert's code, in the reader's language.
fn say(lang: Lang, word: &str) -> String {
    let [ru, kk, en] = match word {
        "sale" => ["продажа", "сату", "sale"],
        "return" => ["возврат", "қайтару", "return"],
        "due" => ["ждёт", "күтуде", "due"],
        "issued" => ["выдан", "берілді", "issued"],
        "failed" => ["отклонён", "қабылданбады", "failed"],
        "cash_register_blocked" => ["касса заблокирована", "касса бұғатталған", "the cash register is blocked"],
        "cash_register_not_activated" => ["касса не активирована", "касса белсендірілмеген", "the cash register is not activated"],
        "offline_over_72_hours" => ["касса офлайн дольше 72 часов", "касса 72 сағаттан астам офлайн", "offline for over 72 hours"],
        "wrong_credentials" => {
            ["неверный логин или пароль Webkassa", "Webkassa логині не құпиясөзі қате", "wrong Webkassa login or password"]
        }
        "cash_register_not_found" => ["касса не найдена", "касса табылмады", "the cash register is not found"],
        other => return other.to_owned(),
    };
    match lang {
        Lang::Ru => ru,
        Lang::Kk => kk,
        Lang::En => en,
    }
    .to_owned()
}

#[component]
pub fn Receipts(status: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let path = format!("/api/admin/receipts?status={}", encode(&status));
    let list = LocalResource::new(move || {
        let path = path.clone();
        async move { api::get::<AdminReceipts>(&path).await }
    });
    let problem = RwSignal::new(None::<String>);
    let retry = move |id: String| {
        let csrf = ctx.csrf();
        spawn_local(async move {
            let path = format!("/api/admin/receipts/{}/retry", encode(&id));
            match api::post::<serde_json::Value>(&path, &json!({}), &csrf, None).await {
                Ok(_) => {
                    problem.set(None);
                    list.refetch();
                }
                Err(error) => problem.set(Some(ctx.problem(&error))),
            }
        });
    };
    let filter = status.clone();
    view! {
        <section class="receipts" data-receipts>
            {move || problem.get().map(|text| view! { <p class="problem" role="alert">{text}</p> })}
            {move || match list.get() {
                None => view! { <p class="loading">{ctx.texts().loading}</p> }.into_any(),
                Some(Err(error)) => view! { <p class="problem" role="alert">{ctx.problem(&error)}</p> }.into_any(),
                Some(Ok(all)) => {
                    let (lang, w) = (ctx.lang.get(), words(ctx.lang.get()));
                    let filter = filter.clone();
                    let tab = move |value: &'static str, label: String| {
                        let current = if filter == value { "page" } else { "false" };
                        view! { <a href=Route::Receipts(value.to_owned()).hash() aria-current=current data-receipts-filter=value>{label}</a> }
                    };
                    view! {
                        {(!all.enabled).then(|| view! { <p class="note">{w.off}</p> })}
                        {all.register.clone().map(|register| view! {
                            <div class="card" data-register=register.cashbox.clone()>
                                <h2>{w.register} " " {register.cashbox.clone()}</h2>
                                {register.alert.clone().map(|alert| view! {
                                    <p class="problem" role="alert" data-alert=alert.clone()>
                                        <strong>{w.alert} ": " {say(lang, &alert)}</strong>
                                        {register.alert_since.as_deref().map(|at| format!(" · {}", format::local_time(at)))}
                                        <br/><small>{register.alert_text.clone().unwrap_or_default()}</small>
                                    </p>
                                })}
                                <p data-shift>
                                    {match register.shift_opened_at.as_deref() {
                                        Some(at) => format!("{} {}", w.shift_open, format::local_time(at)),
                                        None => w.shift_closed.to_owned(),
                                    }}
                                    {register.last_closed_at.as_deref().map(|at| format!(" · {}: {}", w.last_z, format::local_time(at)))}
                                    {register.last_error.clone().map(|e| format!(" · {}: {e}", w.z_error))}
                                </p>
                            </div>
                        })}
                        <nav class="row" aria-label=w.nav>
                            {tab("", w.all.to_owned())}
                            {tab("due", format!("{} {}", w.due, all.due))}
                            {tab("issued", format!("{} {}", w.issued, all.issued))}
                            {tab("failed", format!("{} {}", w.failed, all.failed))}
                        </nav>
                        {all.oldest_due_at.as_deref().map(|at| view! { <p class="note">{w.oldest_due} " " {format::local_time(at)}</p> })}
                        {if all.receipts.is_empty() {
                            view! { <p class="note">{w.none}</p> }.into_any()
                        } else {
                            view! {
                                <table class="list">
                                    <thead><tr><th>{w.invoice}</th><th>{w.kind}</th><th>{w.amount}</th><th>{w.status}</th><th>{w.sign}</th><th>{w.attempts}</th><th></th></tr></thead>
                                    <tbody>{all.receipts.iter().map(|r| row(r, lang, retry)).collect_view()}</tbody>
                                </table>
                            }.into_any()
                        }}
                    }.into_any()
                }
            }}
        </section>
    }
}

fn row(line: &AdminReceipt, lang: Lang, retry: impl Fn(String) + Copy + 'static) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let w = words(lang);
    let receipt = &line.receipt;
    let id = receipt.id.clone();
    let may_retry = ctx.is_operator() && receipt.status != "issued";
    view! {
        <tr data-receipt=receipt.id.clone() data-receipt-status=receipt.status.clone()>
            <td><a href=Route::Order(line.invoice_id.clone()).hash()>{line.invoice_id.clone()}</a></td>
            <td>{say(lang, &receipt.kind)}</td>
            <td>{receipt.amount.clone()}</td>
            <td>
                {say(lang, &receipt.status)}
                {receipt.error.clone().map(|e| view! { <br/><small>{e}</small> })}
                {line.next_attempt_at.as_deref().map(|at| view! { <br/><small>{w.next_attempt} " " {format::local_time(at)}</small> })}
            </td>
            <td>{sign_link(receipt)}</td>
            <td>{line.attempts}</td>
            <td>{may_retry.then(|| view! {
                <button type="button" class="quiet" data-retry-receipt on:click=move |_| retry(id.clone())>{w.retry}</button>
            })}</td>
        </tr>
    }
}

/// An order's receipts, on the order's page.
pub fn of_order(receipts: &[Receipt]) -> impl IntoView + use<> {
    let ctx = expect_context::<Ctx>();
    let lang = ctx.lang.get();
    let w = words(lang);
    view! {
        <h2>{w.nav}</h2>
        <table class="list" data-order-receipts>
            <thead><tr><th>{w.kind}</th><th>{w.amount}</th><th>{w.status}</th><th>{w.sign}</th></tr></thead>
            <tbody>{receipts.iter().map(|receipt| view! {
                <tr data-receipt=receipt.id.clone() data-receipt-status=receipt.status.clone()>
                    <td>{say(lang, &receipt.kind)}</td>
                    <td>{receipt.amount.clone()}</td>
                    <td>{say(lang, &receipt.status)}{receipt.error.clone().map(|e| view! { <br/><small>{e}</small> })}</td>
                    <td>{sign_link(receipt)}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
}

/// A receipt's fiscal sign, linking to the OFD's page of it once issued.
fn sign_link(receipt: &Receipt) -> AnyView {
    match (&receipt.fiscal_sign, &receipt.url) {
        (Some(sign), Some(url)) => view! { <a href=url.clone() target="_blank" rel="noopener">{sign.clone()}</a> }.into_any(),
        _ => view! { <span></span> }.into_any(),
    }
}
