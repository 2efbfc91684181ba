//! What every page of the console reads and does alike: the language, the session, the
//! route, the notice above the sign-in, how a failed call is shown, and moving to a route.

use epay_api_types::AdminSession;
use leptos::prelude::*;

use crate::api::ApiError;
use crate::i18n::{self, Lang, Texts};
use crate::route::Route;

/// What every page reads.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub lang: RwSignal<Lang>,
    /// `None` until the proxy said; then `Some(None)` when nobody is signed in.
    pub session: RwSignal<Option<Option<AdminSession>>>,
    pub route: RwSignal<Route>,
    /// Why the sign-in shows (the session ended...).
    pub notice: RwSignal<Option<&'static str>>,
}

impl Ctx {
    pub fn texts(&self) -> &'static Texts {
        i18n::texts(self.lang.get())
    }

    pub fn csrf(&self) -> String {
        self.session.get_untracked().flatten().map(|s| s.csrf_token).unwrap_or_default()
    }

    pub fn is_operator(&self) -> bool {
        self.session.get().flatten().is_some_and(|s| s.role == epay_api_types::Role::Operator)
    }

    /// Whatever a call says, a 401 means the session ended: back to the sign-in.
    pub fn seen(&self, error: &ApiError) {
        if *error == ApiError::SignedOut {
            self.notice.set(Some(self.texts().session_ended));
            self.session.set(Some(None));
        }
    }

    /// The text a failed call shows: a translated headline and the proxy's words.
    pub fn problem(&self, error: &ApiError) -> String {
        self.seen(error);
        let t = self.texts();
        let headline = match error {
            ApiError::Forbidden(_) => t.forbidden,
            ApiError::Wait(secs) => return t.wait.replace("{n}", &secs.to_string()),
            _ => t.failed_to_load,
        };
        let detail = error.detail();
        if detail.is_empty() { headline.to_owned() } else { format!("{headline} {detail}") }
    }
}

pub fn go(route: &Route) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_hash(&route.hash());
    }
}
