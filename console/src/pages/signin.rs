//! The sign-in form: name and password, then the second factor's code when the proxy asks
//! for it (the password stays in memory for that second send, and is cleared after).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::ctx::Ctx;

#[component]
pub fn SignIn() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let (user, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (problem, busy) = (RwSignal::new(None::<String>), RwSignal::new(false));
    // `Some` once the proxy asked for the second factor's code.
    let code = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let (name, secret, typed) = (user.get_untracked(), password.get_untracked(), code.get_untracked());
        spawn_local(async move {
            match api::sign_in(&name, &secret, typed.as_deref()).await {
                Ok(session) => {
                    ctx.notice.set(None);
                    ctx.session.set(Some(Some(session)));
                }
                Err(ApiError::CodeRequired) => {
                    problem.set(None);
                    code.set(Some(String::new()));
                    busy.set(false);
                    return;
                }
                Err(ApiError::SignedOut) if typed.is_some() => problem.set(Some(ctx.texts().wrong_code.to_owned())),
                Err(ApiError::SignedOut) => problem.set(Some(ctx.texts().wrong_credentials.to_owned())),
                Err(error) => problem.set(Some(ctx.problem(&error))),
            }
            if typed.is_some() {
                code.set(Some(String::new()));
            } else {
                password.set(String::new());
            }
            busy.set(false);
        });
    };
    view! {
        <main class="sign-in">
            <form class="card" on:submit=submit>
                <h1>{move || ctx.texts().sign_in_title}</h1>
                {move || ctx.notice.get().map(|notice| view! { <p class="notice" role="status">{notice}</p> })}
                <label>{move || ctx.texts().user}
                    <input name="user" autocomplete="username" required
                        prop:value=move || user.get() on:input=move |ev| user.set(event_target_value(&ev))/>
                </label>
                <label>{move || ctx.texts().password}
                    <input name="password" type="password" autocomplete="current-password" required
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                {move || code.get().map(|_| view! {
                    <label>{ctx.texts().code_label}
                        <input name="code" autocomplete="one-time-code" inputmode="numeric" required autofocus
                            prop:value=move || code.get().unwrap_or_default()
                            on:input=move |ev| code.set(Some(event_target_value(&ev)))/>
                        <small>{ctx.texts().code_hint}</small>
                    </label>
                })}
                <p class="problem" role="alert">{move || problem.get().unwrap_or_default()}</p>
                <button type="submit" class="primary" aria-busy=move || busy.get().to_string()>{move || ctx.texts().sign_in}</button>
            </form>
        </main>
    }
}
