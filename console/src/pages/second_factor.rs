//! Enrolling a second factor: a QR code (and the key, for apps that take it typed) from the
//! proxy, the app's first code to confirm it, then the recovery codes, shown this once.

use epay_api_types::{AdminSession, RecoveryCodes, SecondFactorEnrolment};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::ctx::Ctx;

#[component]
pub fn SecondFactor() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let enrolment = RwSignal::new(None::<SecondFactorEnrolment>);
    let recovery = RwSignal::new(None::<Vec<String>>);
    let (code, problem, busy) = (RwSignal::new(String::new()), RwSignal::new(None::<String>), RwSignal::new(false));
    let must = move || ctx.session.get().flatten().is_some_and(|s| s.must_enrol);
    let start = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let csrf = ctx.csrf();
        spawn_local(async move {
            match api::post::<SecondFactorEnrolment>("/api/admin/second-factor", &serde_json::json!({}), &csrf, None).await {
                Ok(started) => {
                    problem.set(None);
                    enrolment.set(Some(started));
                }
                Err(error) => problem.set(Some(ctx.problem(&error))),
            }
            busy.set(false);
        });
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let (csrf, typed) = (ctx.csrf(), code.get_untracked());
        spawn_local(async move {
            let body = serde_json::json!({"code": typed.trim()});
            match api::post::<RecoveryCodes>("/api/admin/second-factor/confirm", &body, &csrf, None).await {
                Ok(codes) => {
                    problem.set(None);
                    recovery.set(Some(codes.recovery_codes));
                }
                Err(error) => problem.set(Some(ctx.problem(&error))),
            }
            code.set(String::new());
            busy.set(false);
        });
    };
    // The codes are saved: the session (now let in everywhere) is read again.
    let saved = move |_| {
        spawn_local(async move {
            if let Ok(session) = api::get::<AdminSession>("/api/admin/session").await {
                ctx.session.set(Some(Some(session)));
            }
            crate::ctx::go(&crate::route::Route::Home);
        });
    };
    view! {
        <section class="card second-factor">
            <h1>{move || ctx.texts().enrol_title}</h1>
            {move || must().then(|| view! { <p class="notice" role="status">{ctx.texts().enrol_required}</p> })}
            {move || match (enrolment.get(), recovery.get()) {
                (_, Some(codes)) => view! {
                    <h2>{ctx.texts().recovery_title}</h2>
                    <p>{ctx.texts().recovery_intro}</p>
                    <ol class="recovery-codes" data-recovery-codes>
                        {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
                    </ol>
                    <button type="button" class="primary" data-codes-saved on:click=saved>{ctx.texts().recovery_saved}</button>
                }.into_any(),
                (Some(started), None) => view! {
                    <p>{ctx.texts().enrol_intro}</p>
                    <img class="qr" src=started.qr_code.clone() width="220" height="220" alt=started.otpauth_link.clone()/>
                    <p>{ctx.texts().enrol_secret}" "<code data-secret>{started.secret.clone()}</code></p>
                    <form on:submit=confirm>
                        <label>{ctx.texts().code_label}
                            <input name="code" autocomplete="one-time-code" inputmode="numeric" required
                                prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
                        </label>
                        <button type="submit" class="primary" aria-busy=move || busy.get().to_string()>{ctx.texts().enrol_confirm}</button>
                    </form>
                }.into_any(),
                (None, None) => view! {
                    <p>{ctx.texts().enrol_intro}</p>
                    <button type="button" class="primary" data-enrol on:click=start aria-busy=move || busy.get().to_string()>
                        {ctx.texts().enrol_start}
                    </button>
                }.into_any(),
            }}
            <p class="problem" role="alert">{move || problem.get().unwrap_or_default()}</p>
        </section>
    }
}
