//! The console's people: an operator and a viewer signed in with a cookie and a CSRF token.

use std::sync::OnceLock;

use super::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery staple";

pub fn hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| epay_proxy::admin::auth::hash_password(PASSWORD))
}

pub async fn console() -> TestApp {
    console_with(&[]).await
}

/// The console on a proxy with `vars` too.
pub async fn console_with(vars: &[(&str, &str)]) -> TestApp {
    let users = format!("aigerim:operator:{h};dana:viewer:{h}", h = hash());
    let mut all = vec![("ADMIN_USERS", users.as_str()), ("ADMIN_LOCKOUT_AFTER", "3")];
    all.extend_from_slice(vars);
    TestApp::spawn_with(&all).await
}

/// A signed-in person: their cookie and CSRF token.
pub struct Person {
    pub cookie: String,
    pub csrf: String,
}

pub async fn sign_in(app: &TestApp, user: &str, password: &str) -> (u16, Value, Option<String>) {
    let response = app.http.post(app.url("/api/admin/session")).json(&json!({"user": user, "password": password})).send().await.unwrap();
    let status = response.status().as_u16();
    let cookie = response.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_owned());
    (status, response.json().await.unwrap_or(Value::Null), cookie)
}

pub async fn person(app: &TestApp, user: &str) -> Person {
    let (status, session, cookie) = sign_in(app, user, PASSWORD).await;
    assert_eq!(status, 200, "{session}");
    let cookie = cookie.unwrap().split(';').next().unwrap().to_owned();
    Person { cookie, csrf: session["csrfToken"].as_str().unwrap().to_owned() }
}

impl Person {
    pub fn request(&self, app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
        app.http.request(method, app.url(path)).header("cookie", &self.cookie).header("x-csrf-token", &self.csrf)
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> (u16, Value) {
        let response = self.request(app, Method::GET, path).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, app: &TestApp, path: &str, body: Value, key: &str) -> (u16, Value) {
        let response = self.request(app, Method::POST, path).header("Idempotency-Key", key).json(&body).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }
}
