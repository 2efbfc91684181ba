//! The order list: the merchant API's filters, a search, pages, and the CSV export.

use epay_api_types::{MerchantOrder, MerchantOrderPage};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::ctx::{Ctx, go};
use crate::format;
use crate::i18n::{FILTERS, Shown};
use crate::route::{OrderFilter, Route, encode};

/// The day part of a filter bound ("2026-12-04T00:00:00+05:00" → "2026-12-04").
fn day_of(bound: &str) -> String {
    bound.get(..10).unwrap_or("").to_owned()
}

#[component]
pub fn Orders(filter: OrderFilter) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let (status, q) = (RwSignal::new(filter.status.clone()), RwSignal::new(filter.q.clone()));
    let (from, to) = (RwSignal::new(day_of(&filter.from)), RwSignal::new(day_of(&filter.to)));
    let rows = RwSignal::new(Vec::<MerchantOrder>::new());
    let next = RwSignal::new(None::<String>);
    let (loading, problem) = (RwSignal::new(true), RwSignal::new(None::<String>));
    let query = filter.query();
    let load = move |cursor: Option<String>| {
        let mut path = format!("/api/admin/orders?limit=50&{query}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={}", encode(cursor)));
        }
        loading.set(true);
        spawn_local(async move {
            match api::get::<MerchantOrderPage>(&path).await {
                Ok(page) => {
                    rows.update(|rows| rows.extend(page.orders));
                    next.set(page.next_cursor);
                    problem.set(None);
                }
                Err(error) => problem.set(Some(ctx.problem(&error))),
            }
            loading.set(false);
        });
    };
    let load_more = load.clone();
    load(None);
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let filter = OrderFilter {
            status: status.get_untracked(),
            q: q.get_untracked(),
            from: format::day_bound(&from.get_untracked(), false),
            to: format::day_bound(&to.get_untracked(), true),
        };
        go(&Route::Orders(filter));
    };
    let export_href = move || {
        let (first, last) = (from.get(), to.get());
        let today = js_sys::Date::new_0().to_iso_string().as_string().unwrap_or_default().get(..10).unwrap_or("").to_owned();
        let first = if first.is_empty() { today.clone() } else { first };
        let last = if last.is_empty() { today } else { last };
        format!("/api/admin/export.csv?from={first}&to={last}")
    };
    view! {
        <section class="orders">
            <form class="filters" role="search" on:submit=search>
                <label>{move || ctx.texts().status}
                    <select prop:value=move || status.get() on:change=move |ev| status.set(event_target_value(&ev))>
                        <option value="">{move || ctx.texts().all}</option>
                        {FILTERS.into_iter().map(|s| view! {
                            <option value=s.wire() selected=move || status.get() == s.wire()>{move || s.label(ctx.lang.get())}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="grow">{move || ctx.texts().search}
                    <input type="search" name="q" prop:value=move || q.get() on:input=move |ev| q.set(event_target_value(&ev))/>
                </label>
                <label>{move || ctx.texts().from}
                    <input type="date" prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev))/>
                </label>
                <label>{move || ctx.texts().to}
                    <input type="date" prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev))/>
                </label>
                <button type="submit" class="primary">{move || ctx.texts().find}</button>
                <a class="button quiet" href=export_href download data-export>{move || ctx.texts().export}</a>
            </form>
            <p class="problem" role="alert">{move || problem.get().unwrap_or_default()}</p>
            <table class="list">
                <thead><tr>
                    <th>{move || ctx.texts().invoice}</th>
                    <th>{move || ctx.texts().created}</th>
                    <th>{move || ctx.texts().reference}</th>
                    <th class="num">{move || ctx.texts().amount}</th>
                    <th>{move || ctx.texts().status}</th>
                    <th>{move || ctx.texts().card}</th>
                </tr></thead>
                <tbody>
                    <For each=move || rows.get() key=|order| order.invoice_id.clone() let:order>
                        <Row order=order/>
                    </For>
                </tbody>
            </table>
            {move || (!loading.get() && rows.with(Vec::is_empty) && problem.get().is_none()).then(|| view! { <p class="empty">{ctx.texts().no_orders}</p> })}
            {move || loading.get().then(|| view! { <p class="loading">{ctx.texts().loading}</p> })}
            {move || next.get().map(|cursor| {
                let more = load_more.clone();
                view! { <button type="button" class="quiet" on:click=move |_| more(Some(cursor.clone()))>{ctx.texts().more}</button> }
            })}
        </section>
    }
}

#[component]
fn Row(order: MerchantOrder) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let link = Route::Order(order.invoice_id.clone()).hash();
    let shown = Shown::of(&order);
    let card = order.payment.as_ref().and_then(|p| p.card_mask.clone()).unwrap_or_default();
    let (amount, currency, created) = (order.amount.clone(), order.currency.clone(), format::local_time(&order.created_at));
    view! {
        <tr data-invoice=order.invoice_id.clone()>
            <td><a href=link>{order.invoice_id.clone()}</a></td>
            <td>{created}</td>
            <td>{order.reference.clone().unwrap_or_default()}</td>
            <td class="num">{move || format::money(&amount, &currency, ctx.lang.get())}</td>
            <td><span class="status" data-status=shown.wire()>{move || shown.label(ctx.lang.get())}</span></td>
            <td class="mono">{card}</td>
        </tr>
    }
}
