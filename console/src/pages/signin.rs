//! The sign-in form.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::app::Ctx;

#[component]
pub fn SignIn() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let (user, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (problem, busy) = (RwSignal::new(None::<String>), RwSignal::new(false));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let (name, secret) = (user.get_untracked(), password.get_untracked());
        spawn_local(async move {
            match api::sign_in(&name, &secret).await {
                Ok(session) => {
                    ctx.notice.set(None);
                    ctx.session.set(Some(Some(session)));
                }
                Err(ApiError::SignedOut) => problem.set(Some(ctx.texts().wrong_credentials.to_owned())),
                Err(error) => problem.set(Some(ctx.problem(&error))),
            }
            password.set(String::new());
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
                <p class="problem" role="alert">{move || problem.get().unwrap_or_default()}</p>
                <button type="submit" class="primary" aria-busy=move || busy.get().to_string()>{move || ctx.texts().sign_in}</button>
            </form>
        </main>
    }
}
