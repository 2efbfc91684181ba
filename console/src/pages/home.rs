//! Today's and this week's figures, and what waits for a person or for the shop.

use epay_api_types::{AdminSummary, Figure, PeriodFigures};
use leptos::prelude::*;

use crate::api;
use crate::ctx::Ctx;
use crate::format;
use crate::i18n::Texts;
use crate::route::{OrderFilter, Route};

#[component]
pub fn Home() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let summary = LocalResource::new(|| api::get::<AdminSummary>("/api/admin/summary"));
    view! {
        <section class="home">
            {move || match summary.get() {
                None => view! { <p class="loading">{ctx.texts().loading}</p> }.into_any(),
                Some(Err(error)) => view! {
                    <p class="problem" role="alert">{ctx.problem(&error)}</p>
                    <button type="button" class="quiet" data-retry on:click=move |_| summary.refetch()>{ctx.texts().retry}</button>
                }.into_any(),
                Some(Ok(summary)) => {
                    let t = ctx.texts();
                    let review_link = Route::Orders(OrderFilter { status: "review".into(), ..OrderFilter::default() }).hash();
                    let minutes = (summary.oldest_undelivered_secs + 59) / 60;
                    let reviews_alert = if summary.reviews_open > 0 { "on" } else { "off" };
                    let backlog_alert = if summary.oldest_undelivered_secs > 600 { "on" } else { "off" };
                    view! {
                        <div class="alerts">
                            <a class="tile" href=review_link data-alert=reviews_alert data-reviews>
                                <span>{t.reviews_open}</span><strong>{summary.reviews_open}</strong>
                            </a>
                            <div class="tile" data-alert=backlog_alert data-backlog>
                                <span>{t.webhook_backlog}</span><strong>{summary.webhook_backlog}</strong>
                                {(summary.webhook_backlog > 0).then(|| view! { <small>{t.oldest_waits.replace("{n}", &minutes.to_string())}</small> })}
                            </div>
                            {summary.receipts.map(|r| {
                                let w = super::receipts::words(ctx.lang.get());
                                // A register a person must act on, a refused receipt, or one waiting 30 minutes.
                                let alert = if r.register_alerts > 0 || r.failed > 0 || r.oldest_due_secs > 1800 { "on" } else { "off" };
                                let minutes = (r.oldest_due_secs + 59) / 60;
                                view! {
                                    <a class="tile" href="#/receipts" data-alert=alert data-receipts-tile>
                                        <span>{w.home_tile}</span><strong>{r.due}</strong>
                                        {(r.failed > 0).then(|| view! { <small>{format!("{}: {}", w.failed, r.failed)}</small> })}
                                        {(r.register_alerts > 0).then(|| view! { <small>{w.alert}</small> })}
                                        {(r.due > 0).then(|| view! { <small>{t.oldest_waits.replace("{n}", &minutes.to_string())}</small> })}
                                    </a>
                                }
                            })}
                        </div>
                        {period(&ctx, t.today, &summary.today)}
                        {period(&ctx, t.week, &summary.week)}
                    }.into_any()
                }
            }}
        </section>
    }
}

fn period(ctx: &Ctx, title: &'static str, figures: &PeriodFigures) -> impl IntoView {
    let t: &Texts = ctx.texts();
    let lang = ctx.lang.get();
    let cell = |label: &'static str, key: &'static str, figure: &Figure| {
        let amount = format::money(&figure.amount, "KZT", lang);
        view! { <div class="figure" data-figure=key><span>{label}</span><strong>{figure.count}</strong><small>{amount}</small></div> }
    };
    view! {
        <h2>{title}</h2>
        <div class="figures">
            {cell(t.paid, "paid", &figures.paid)}
            {cell(t.refunded, "refunded", &figures.refunded)}
            {cell(t.failed, "failed", &figures.failed)}
            {cell(t.waiting, "waiting", &figures.waiting)}
            {cell(t.in_review, "review", &figures.review)}
            {cell(t.expired, "expired", &figures.expired)}
        </div>
    }
}
