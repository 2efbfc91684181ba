//! The console's frame: who is signed in, the language, the route (the address's fragment),
//! the header and the page the route names.

use epay_api_types::AdminSession;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::ctx::Ctx;
use crate::i18n::{self, Lang};
use crate::pages;
use crate::route::Route;

const LANG_KEY: &str = "epay-console-lang";

fn current_route() -> Route {
    Route::parse(&web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default())
}

fn stored_lang() -> Lang {
    let window = web_sys::window();
    let stored = window.as_ref().and_then(|w| w.local_storage().ok().flatten()).and_then(|s| s.get_item(LANG_KEY).ok().flatten());
    let browser = window.and_then(|w| w.navigator().language());
    i18n::lang_from_code(&stored.or(browser).unwrap_or_default())
}

pub fn mount() {
    mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let ctx = Ctx {
        lang: RwSignal::new(stored_lang()),
        session: RwSignal::new(None),
        route: RwSignal::new(current_route()),
        notice: RwSignal::new(None),
    };
    provide_context(ctx);
    let listener = window_event_listener(leptos::ev::hashchange, move |_| ctx.route.set(current_route()));
    on_cleanup(move || listener.remove());
    Effect::new(move |_| {
        let lang = ctx.lang.get();
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            if let Some(root) = document.document_element() {
                let _ = root.set_attribute("lang", lang.tag());
            }
            document.set_title(i18n::texts(lang).title);
        }
    });
    spawn_local(async move {
        let session = api::get::<AdminSession>("/api/admin/session").await.ok();
        ctx.session.set(Some(session));
    });
    view! {
        <div class="console">
            {move || match ctx.session.get() {
                None => view! { <p class="loading">{ctx.texts().loading}</p> }.into_any(),
                Some(None) => view! { <Languages/><pages::signin::SignIn/> }.into_any(),
                Some(Some(session)) if session.must_enrol => view! {
                    <Header/>
                    <main><pages::second_factor::SecondFactor/></main>
                }.into_any(),
                Some(Some(_)) => view! {
                    <Header/>
                    <main>
                        {move || match ctx.route.get() {
                            Route::SecondFactor => view! { <pages::second_factor::SecondFactor/> }.into_any(),
                            Route::Home => view! { <pages::home::Home/> }.into_any(),
                            Route::Orders(filter) => view! { <pages::orders::Orders filter=filter/> }.into_any(),
                            Route::Order(invoice_id) => view! { <pages::order::Order invoice_id=invoice_id/> }.into_any(),
                            Route::Customers(q) => view! { <pages::customers::Customers q=q/> }.into_any(),
                            Route::Customer(account_id) => view! { <pages::customers::Customer account_id=account_id/> }.into_any(),
                            Route::Receipts(status) => view! { <pages::receipts::Receipts status=status/> }.into_any(),
                        }}
                    </main>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn Languages() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <nav class="langs" aria-label="Language / Язык / Тіл">
            {Lang::ALL.into_iter().map(|lang| view! {
                <button type="button" class="lang" lang=lang.tag()
                    aria-pressed=move || (ctx.lang.get() == lang).to_string()
                    on:click=move |_| {
                        ctx.lang.set(lang);
                        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
                            let _ = storage.set_item(LANG_KEY, lang.tag());
                        }
                    }>{i18n::lang_label(lang)}</button>
            }).collect_view()}
        </nav>
    }
}

#[component]
fn Header() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let sign_out = move |_| {
        let csrf = ctx.csrf();
        spawn_local(async move {
            let _ = api::send("DELETE", "/api/admin/session", &csrf).await;
            ctx.notice.set(None);
            ctx.session.set(Some(None));
        });
    };
    let who = move || {
        let session = ctx.session.get().flatten();
        let t = ctx.texts();
        session
            .map(|s| format!("{} · {}", s.user, if s.role == epay_api_types::Role::Operator { t.role_operator } else { t.role_viewer }))
            .unwrap_or_default()
    };
    let here = move |page: &'static str| {
        let on = match ctx.route.get() {
            Route::Home => "home",
            Route::Customers(_) | Route::Customer(_) => "customers",
            Route::Receipts(_) => "receipts",
            _ => "orders",
        };
        if on == page { "page" } else { "false" }
    };
    view! {
        <header class="bar">
            <strong class="brand">{move || ctx.texts().title}</strong>
            <nav class="main-nav">
                <a href="#/" aria-current=move || here("home")>{move || ctx.texts().nav_home}</a>
                <a href="#/orders" aria-current=move || here("orders")>{move || ctx.texts().nav_orders}</a>
                <a href="#/customers" aria-current=move || here("customers") data-nav-customers>{move || pages::customers::words(ctx.lang.get()).nav}</a>
                <a href="#/receipts" aria-current=move || here("receipts") data-nav-receipts>{move || pages::receipts::words(ctx.lang.get()).nav}</a>
            </nav>
            <Languages/>
            <span class="who" data-who>{who}</span>
            {move || ctx.session.get().flatten().filter(|s| !s.second_factor && !s.must_enrol).map(|_| view! {
                <a href="#/second-factor" class="quiet" data-second-factor-link>{ctx.texts().nav_second_factor}</a>
            })}
            <button type="button" class="quiet" data-sign-out on:click=sign_out>{move || ctx.texts().sign_out}</button>
        </header>
    }
}
