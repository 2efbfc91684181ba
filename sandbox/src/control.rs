//! `GET`/`POST /sandbox/control`: the knobs tests turn (fail the next token requests, slow
//! them down, send expires_in as a string...). A POST replaces every knob.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::Sandbox;
use super::state::Control;

pub async fn show(State(sandbox): State<Arc<Sandbox>>) -> Json<Control> {
    Json(sandbox.control().clone())
}

pub async fn replace(State(sandbox): State<Arc<Sandbox>>, Json(control): Json<Control>) -> Json<Control> {
    tracing::info!(?control, "sandbox: control changed");
    *sandbox.control() = control.clone();
    Json(control)
}
