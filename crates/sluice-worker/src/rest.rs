//! The Kafka Connect REST API (compat.md section 3): same paths, methods, status codes and
//! JSON shapes, so `curl` scripts and tools written for Connect drive Sluice unchanged.
//! Secrets are masked in every response.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sluice_config::def::{ConfigKey, Default, Valid};
use sluice_config::raw::{is_secret_key, MASK};
use sluice_config::{RawConfig, CLASSES};
use sluice_core::record::SourceOffset;

use crate::herder::{Herder, HerderError};
use crate::store::TargetState;

type AppState = Arc<Herder>;

pub fn router(
    herder: Arc<Herder>,
    metrics: Option<Arc<dyn Fn() -> String + Send + Sync>>,
) -> Router {
    let mut r = Router::new()
        .route("/", get(root))
        .route("/connector-plugins", get(plugins))
        .route("/connector-plugins/{class}/config/validate", put(validate))
        .route("/connectors", get(list).post(create))
        .route("/connectors/{name}", get(info).delete(delete))
        .route("/connectors/{name}/config", get(config).put(put_config))
        .route("/connectors/{name}/status", get(status))
        .route("/connectors/{name}/tasks", get(tasks))
        .route("/connectors/{name}/tasks/{task}/status", get(task_status))
        .route(
            "/connectors/{name}/tasks/{task}/restart",
            post(restart_task),
        )
        .route("/connectors/{name}/restart", post(restart))
        .route("/connectors/{name}/pause", put(pause))
        .route("/connectors/{name}/resume", put(resume))
        .route("/connectors/{name}/stop", put(stop))
        .route("/connectors/{name}/topics", get(topics))
        .route("/connectors/{name}/topics/reset", put(reset_topics))
        .route(
            "/connectors/{name}/offsets",
            get(offsets).patch(alter_offsets).delete(reset_offsets),
        )
        .with_state(herder);
    if let Some(render) = metrics {
        r = r.route("/metrics", get(move || async move { render() }));
    }
    r
}

/// Connect's error body: `{"error_code": 404, "message": "..."}`.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(json!({"error_code": self.0.as_u16(), "message": self.1})),
        )
            .into_response()
    }
}

impl From<HerderError> for ApiError {
    fn from(e: HerderError) -> Self {
        let code = match &e {
            HerderError::NotFound(_) => StatusCode::NOT_FOUND,
            HerderError::Conflict(_) => StatusCode::CONFLICT,
            HerderError::Invalid(_) | HerderError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HerderError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(code, e.to_string())
    }
}

type ApiResult<T> = Result<T, ApiError>;

fn bad_request(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

/// Config values arrive as JSON strings; numbers and booleans are accepted as their text.
fn props_from(value: &Value) -> ApiResult<BTreeMap<String, String>> {
    let obj = value
        .as_object()
        .ok_or_else(|| bad_request("the connector config must be a JSON object"))?;
    obj.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            Value::Bool(b) => Ok((k.clone(), b.to_string())),
            _ => Err(bad_request(format!("the value of {k} must be a string"))),
        })
        .collect()
}

/// Connect's `GET /`, plus where this worker writes (`store`: `kafka://<bootstrap>` or
/// `file://<data dir>`) so clients can check they talk to the worker they mean.
async fn root(State(h): State<AppState>) -> Json<Value> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": "sluice",
        "kafka_cluster_id": "sluice",
        "store": h.store_url(),
    }))
}

/// Every connector class, with its kind and version, from the class table.
async fn plugins() -> Json<Value> {
    Json(Value::Array(
        CLASSES
            .iter()
            .map(|c| json!({"class": c.class, "type": c.kind.name(), "version": c.version}))
            .collect(),
    ))
}

/// `PUT /connector-plugins/{class}/config/validate` in Connect's `ConfigInfos` shape: a
/// definition and a value for every key the class declares (Connect's shared keys first), the
/// configured transforms' keys, and any other key that was set. Sluice adds `warnings`
/// (unknown keys, keys with no effect) beside each value's `errors`.
async fn validate(
    State(h): State<AppState>,
    Path(class): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Json<Value>> {
    let mut props = props_from(&body)?;
    match props.get("connector.class") {
        None => {
            props.insert("connector.class".into(), class.clone());
        }
        Some(c) if c != &class && !class.ends_with(c.as_str()) && !c.ends_with(class.as_str()) => {
            return Err(bad_request(format!(
                "Connector class in the config ({c}) doesn't match the class in the URL ({class})"
            )))
        }
        Some(_) => {}
    }
    let raw = RawConfig {
        name: props.get("name").cloned().unwrap_or_default(),
        props: props.clone(),
    };
    let checked = h.check(&raw);
    let mut defs: Vec<(String, &'static ConfigKey, String)> = Vec::new();
    if let Some(c) = checked.class {
        let own = c.defs();
        // Connect lists its shared keys before the connector's own.
        for d in own.iter().skip(1).chain(own.iter().take(1)) {
            for k in d.keys {
                defs.push((k.name.to_owned(), k, k.group.to_owned()));
            }
        }
    }
    for alias in raw
        .get("transforms")
        .map(sluice_config::common::list_of)
        .unwrap_or_default()
    {
        let prefix = format!("transforms.{alias}.");
        if let Some(t) = raw
            .get(&format!("{prefix}type"))
            .and_then(|c| sluice_transforms::find_transform(c.trim()))
        {
            for k in t.def.keys {
                defs.push((
                    format!("{prefix}{}", k.name),
                    k,
                    format!("Transforms: {alias}"),
                ));
            }
        }
    }
    let mut configs: Vec<Value> = Vec::new();
    let mut listed: Vec<String> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    let value_of = |key: &str| {
        props.get(key).map(|v| {
            if is_secret_key(key) {
                MASK.to_owned()
            } else {
                v.clone()
            }
        })
    };
    let errors_of = |key: &str| -> Vec<String> {
        checked
            .issues
            .iter()
            .filter(|i| i.key == key)
            .map(|i| i.to_string())
            .collect()
    };
    let warnings_of = |key: &str| -> Vec<String> {
        checked
            .warnings
            .iter()
            .filter(|i| i.key == key)
            .map(|i| i.to_string())
            .collect()
    };
    for (order, (name, k, group)) in defs.iter().enumerate() {
        if !groups.contains(group) {
            groups.push(group.clone());
        }
        let recommended: Vec<&str> = match k.valid {
            Valid::OneOf(v) => v.to_vec(),
            _ => Vec::new(),
        };
        configs.push(json!({
            "definition": {
                "name": name,
                "type": k.ty.name(),
                "required": k.default == Default::Required,
                "default_value": k.default_value(),
                "importance": k.importance.name(),
                "documentation": k.doc,
                "group": group,
                "width": "NONE",
                "display_name": name,
                "dependents": [],
                "order": order + 1,
            },
            "value": {
                "name": name,
                "value": value_of(name),
                "recommended_values": recommended,
                "errors": errors_of(name),
                "warnings": warnings_of(name),
                "visible": true,
            },
        }));
        listed.push(name.clone());
    }
    // Keys set (or named by a problem) that no definition covers.
    let mut others: Vec<String> = props.keys().cloned().collect();
    others.extend(checked.issues.iter().map(|i| i.key.clone()));
    others.extend(checked.warnings.iter().map(|i| i.key.clone()));
    for key in others {
        if listed.contains(&key) {
            continue;
        }
        listed.push(key.clone());
        configs.push(json!({
            "definition": {
                "name": key, "type": if is_secret_key(&key) { "PASSWORD" } else { "STRING" },
                "required": false, "default_value": null, "importance": "LOW",
                "documentation": "", "group": "Other", "width": "NONE", "display_name": key,
                "dependents": [], "order": -1,
            },
            "value": {
                "name": key, "value": value_of(&key), "recommended_values": [],
                "errors": errors_of(&key), "warnings": warnings_of(&key), "visible": true,
            },
        }));
    }
    Ok(Json(json!({
        "name": checked.class.map_or(class.as_str(), |c| c.class),
        "error_count": checked.issues.len(),
        "groups": groups,
        "configs": configs,
    })))
}

/// `?expand=status&expand=info` (repeated keys, which serde's query parser doesn't take).
fn expands(query: &Option<String>) -> (bool, bool) {
    let mut status = false;
    let mut info = false;
    for pair in query.as_deref().unwrap_or("").split('&') {
        if let Some(v) = pair.strip_prefix("expand=") {
            status |= v == "status";
            info |= v == "info";
        }
    }
    (status, info)
}

async fn list(State(h): State<AppState>, RawQuery(q): RawQuery) -> Json<Value> {
    let (status, info) = expands(&q);
    if status || info {
        Json(h.expanded(status, info))
    } else {
        Json(json!(h.names()))
    }
}

#[derive(Deserialize)]
struct CreateBody {
    name: Option<String>,
    config: Option<Value>,
}

async fn create(
    State(h): State<AppState>,
    Json(body): Json<CreateBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut props = props_from(body.config.as_ref().unwrap_or(&json!({})))?;
    let name = body
        .name
        .or_else(|| props.get("name").cloned())
        .ok_or_else(|| bad_request("Connector name must be given (\"name\" beside \"config\")"))?;
    props.entry("name".into()).or_insert_with(|| name.clone());
    h.put_config(&name, props, true).await?;
    Ok((StatusCode::CREATED, Json(h.info(&name)?)))
}

async fn info(State(h): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(h.info(&name)?))
}

async fn config(State(h): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(h.config(&name)?)))
}

async fn put_config(
    State(h): State<AppState>,
    Path(name): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let props = props_from(&body)?;
    let created = h.put_config(&name, props, false).await?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(h.info(&name)?)))
}

/// Connect answers 204 with no body; what was cleaned up in the database (the slot, the
/// publication) is in the `Sluice-Cleanup` header.
async fn delete(State(h): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    let cleanup = h.delete(&name).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(value) = cleanup.and_then(|c| axum::http::HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert("sluice-cleanup", value);
    }
    Ok(response)
}

async fn status(State(h): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(h.status(&name)?))
}

async fn tasks(State(h): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let info = h.info(&name)?;
    let tasks: Vec<Value> = info["tasks"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|id| json!({"id": id, "config": info["config"]}))
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(json!(tasks)))
}

async fn task_status(
    State(h): State<AppState>,
    Path((name, task)): Path<(String, u32)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(h.task_status(&name, task)?))
}

async fn restart_task(
    State(h): State<AppState>,
    Path((name, task)): Path<(String, u32)>,
) -> ApiResult<StatusCode> {
    h.task_status(&name, task)?;
    h.restart(&name, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn flag(query: &Option<String>, key: &str) -> bool {
    query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .any(|p| p == key || p == format!("{key}=true"))
}

async fn restart(
    State(h): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let include_tasks = flag(&q, "includeTasks");
    let only_failed = flag(&q, "onlyFailed");
    if !include_tasks && !only_failed {
        h.restart(&name, false).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    // Connect answers 202 with the status as it is once the restart was requested.
    let mut before = h.status(&name)?;
    let restarted = h.restart(&name, only_failed).await?;
    if restarted {
        before["connector"]["state"] = json!("RESTARTING");
        if let Some(tasks) = before["tasks"].as_array_mut() {
            for t in tasks {
                t["state"] = json!("RESTARTING");
                t.as_object_mut().map(|o| o.remove("trace"));
            }
        }
    }
    Ok((StatusCode::ACCEPTED, Json(before)).into_response())
}

async fn pause(State(h): State<AppState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    h.set_target(&name, TargetState::Paused).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn resume(State(h): State<AppState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    h.set_target(&name, TargetState::Started).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn stop(State(h): State<AppState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    h.set_target(&name, TargetState::Stopped).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn topics(State(h): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let topics = h.topics(&name)?;
    Ok(Json(json!({ name: {"topics": topics} })))
}

async fn reset_topics(
    State(h): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    h.reset_topics(&name)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn offsets(State(h): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let list = h.offsets(&name).await?;
    let offsets: Vec<Value> = list
        .into_iter()
        .map(|o| json!({"partition": o.partition, "offset": o.offset}))
        .collect();
    Ok(Json(json!({"offsets": offsets})))
}

async fn alter_offsets(
    State(h): State<AppState>,
    Path(name): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Json<Value>> {
    let list = body["offsets"]
        .as_array()
        .ok_or_else(|| bad_request("The request body must contain an \"offsets\" array of {\"partition\", \"offset\"} objects"))?;
    let mut offsets = Vec::new();
    for o in list {
        let (Some(partition), Some(offset)) = (o.get("partition"), o.get("offset")) else {
            return Err(bad_request(
                "Each entry of \"offsets\" needs a \"partition\" and an \"offset\"",
            ));
        };
        if !partition.is_object() || !(offset.is_object() || offset.is_null()) {
            return Err(bad_request(
                "\"partition\" must be an object and \"offset\" an object or null",
            ));
        }
        offsets.push(SourceOffset {
            partition: partition.clone(),
            offset: offset.clone(),
        });
    }
    h.alter_offsets(&name, Some(offsets)).await?;
    Ok(Json(
        json!({"message": "The offsets for this connector have been altered successfully"}),
    ))
}

async fn reset_offsets(
    State(h): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    h.alter_offsets(&name, None).await?;
    Ok(Json(
        json!({"message": "The offsets for this connector have been reset successfully"}),
    ))
}
