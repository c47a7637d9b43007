//! The web console, served by the worker under `/ui/` beside the REST API: connectors with
//! their state, throughput, lag and retained WAL; a page per connector with its config,
//! status, topics, offsets, snapshot progress and short charts; create and edit forms built
//! from the classes' declared keys; topics with a live tail. The pages are plain HTML, CSS and
//! JavaScript embedded in the binary (no CDN, no build step); they change state only through
//! the REST API, so the console can do nothing a REST client cannot. The few reads the API
//! lacks (history, topics) are here, under `/ui/api/`, and never change anything.

pub mod history;
pub mod tail;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use sluice_core::topics::TopicError;

use crate::herder::{ConnectorView, Herder, HerderError};
use history::History;

/// Shown instead of the console when a bearer token is configured and none was presented.
pub const LOGIN_PAGE: &str = include_str!("assets/login.html");
const INDEX: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");
const FAVICON: &str = include_str!("assets/favicon.svg");

#[derive(Clone)]
pub struct ConsoleState {
    herder: Arc<Herder>,
    history: Arc<History>,
    tails: tail::TailPermits,
}

/// The console's routes; starts sampling the herder for the charts.
pub fn router(herder: Arc<Herder>) -> Router {
    let state = ConsoleState {
        history: History::start(Arc::downgrade(&herder)),
        herder,
        tails: Arc::new(tokio::sync::Semaphore::new(tail::MAX_TAILS)),
    };
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(|| asset("text/html; charset=utf-8", INDEX)))
        .route(
            "/ui/app.js",
            get(|| asset("text/javascript; charset=utf-8", APP_JS)),
        )
        .route(
            "/ui/app.css",
            get(|| asset("text/css; charset=utf-8", APP_CSS)),
        )
        .route("/ui/favicon.svg", get(|| asset("image/svg+xml", FAVICON)))
        // Answered by the authentication layer when a token is configured.
        .route(
            crate::auth::LOGIN_PATH,
            post(|| async {
                ConsoleError(
                    StatusCode::NOT_FOUND,
                    "this worker has no rest.auth.bearer.token to log in with".into(),
                )
            }),
        )
        .route("/ui/api/connectors", get(connectors))
        .route("/ui/api/connectors/{name}", get(connector))
        .route("/ui/api/topics", get(tail::list))
        .route("/ui/api/topics/{topic}/tail", get(tail::tail))
        .with_state(state)
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Small, and they change with the binary: always revalidate.
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // Nothing but this worker: no inline scripts, no other origin, no framing.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        ],
        body,
    )
        .into_response()
}

/// Errors in Connect's shape, as the REST API answers them.
#[derive(Debug)]
pub struct ConsoleError(StatusCode, String);

impl ConsoleError {
    fn internal(message: String) -> Self {
        ConsoleError(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(json!({"error_code": self.0.as_u16(), "message": self.1})),
        )
            .into_response()
    }
}

impl From<TopicError> for ConsoleError {
    fn from(e: TopicError) -> Self {
        let code = match e {
            TopicError::NotFound(_) | TopicError::InvalidName(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ConsoleError(code, e.to_string())
    }
}

impl From<HerderError> for ConsoleError {
    fn from(e: HerderError) -> Self {
        let code = match e {
            HerderError::NotFound(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ConsoleError(code, e.to_string())
    }
}

fn view_json(v: &ConnectorView, events_per_sec: Option<f64>) -> Value {
    json!({
        "name": v.name,
        "type": v.kind.name(),
        "class": v.class,
        "state": v.state,
        "task": v.task.as_ref().map(|t| json!({
            "state": t.state,
            "trace": t.trace,
            "last_error": t.last_error,
            "retries": t.retries,
        })),
        "events_seen": v.events_seen,
        "records_written": v.records_written,
        "events_per_sec": events_per_sec,
        "ms_behind_source": v.ms_behind_source,
        "retained_wal_bytes": v.retained_wal_bytes,
        "warnings": v.warnings,
    })
}

/// `GET /ui/api/connectors`: every connector in one small answer, for the list.
async fn connectors(State(state): State<ConsoleState>) -> Json<Value> {
    let rates = state.history.latest_rates();
    let list: Vec<Value> = state
        .herder
        .views()
        .iter()
        .map(|v| view_json(v, rates.get(&v.name).copied()))
        .collect();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "store": state.herder.store_url(),
        "sample_every_ms": history::SAMPLE_EVERY.as_millis() as u64,
        "connectors": list,
    }))
}

/// `GET /ui/api/connectors/{name}`: one connector with its history and snapshot progress.
async fn connector(
    State(state): State<ConsoleState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ConsoleError> {
    let view = state.herder.view(&name)?;
    let points = state.history.points(&name);
    let rate = points.last().and_then(|p| p.events_per_sec);
    let snapshot = state.herder.snapshot_progress(&name)?;
    let mut out = view_json(&view, rate);
    out["history"] = json!(points);
    out["sample_every_ms"] = json!(history::SAMPLE_EVERY.as_millis() as u64);
    out["snapshot"] = json!({
        "running": snapshot.running,
        "tables": snapshot.tables.iter().map(|t| json!({
            "table": t.table,
            "rows_scanned": t.rows_scanned,
            "rows_estimated": t.rows_estimated,
            "done": t.done,
        })).collect::<Vec<_>>(),
    });
    Ok(Json(out))
}
