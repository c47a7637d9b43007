//! Who may call the REST API and the console, and which browser requests may change state.
//! Authentication is optional (`rest.auth.basic.*`, `rest.auth.bearer.token`): with it, a
//! request without valid credentials gets 401, whatever its path. Protection against
//! cross-site request forgery always applies: a state-changing request that a browser sends
//! on its own (basic credentials it cached, the console's cookie, or no authentication at all)
//! must come from the worker's own pages. Clients that say who they are in every request
//! (curl, scripts, `Authorization: Bearer`) are not browsers on someone else's page and pass.
//! Never logs nor returns a credential.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::json;
use sluice_config::worker::RestAuth;

/// The header the console sends with every request it makes. A page of another origin cannot
/// send it without a CORS preflight, which this server never grants.
pub const CONSOLE_HEADER: &str = "x-sluice-console";
/// The console's session cookie: the bearer token, hex-encoded.
pub const TOKEN_COOKIE: &str = "sluice_token";
/// Where the console's login form posts the token (reachable without credentials).
pub const LOGIN_PATH: &str = "/ui/login";

/// Puts `router` behind authentication and CSRF protection. `bind` is the address the API
/// listens on: a non-loopback one without authentication is worth a warning.
pub fn protect(router: Router, auth: RestAuth, bind: IpAddr) -> Router {
    if !bind.is_loopback() && !auth.is_enabled() {
        tracing::warn!(
            "the REST API and console listen on {bind} without authentication: anyone who can reach it can create, change and delete connectors; set rest.auth.basic.username and rest.auth.basic.password, or rest.auth.bearer.token, in the worker config"
        );
    }
    let guard = Arc::new(Guard {
        auth,
        loopback: bind.is_loopback(),
    });
    router.layer(axum::middleware::from_fn_with_state(guard, check))
}

struct Guard {
    auth: RestAuth,
    loopback: bool,
}

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    /// `Authorization: Bearer`: a header a page cannot make a browser send for it.
    Explicit,
    /// Basic credentials or the console's cookie: a browser sends them by itself.
    Ambient,
    /// None, or wrong ones.
    Missing,
}

async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let path = request.uri().path();
    if let Err(refused) = guard.same_host(headers) {
        return refused;
    }
    let credential = guard.credential(headers);
    let login = path == LOGIN_PATH && request.method() == Method::POST;
    if guard.auth.is_enabled() && credential == Credential::Missing && !login {
        return guard.unauthorized(path);
    }
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && credential != Credential::Explicit {
        if let Err(why) = from_own_page(headers) {
            return error(
                StatusCode::FORBIDDEN,
                &format!("cross-site request refused: {why}"),
            );
        }
    }
    if login {
        return guard.login(request).await;
    }
    next.run(request).await
}

impl Guard {
    fn credential(&self, headers: &HeaderMap) -> Credential {
        if !self.auth.is_enabled() {
            return Credential::Ambient;
        }
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if let (Some(token), Some(expected)) = (
            strip_scheme(authorization, "bearer"),
            self.auth.bearer.as_deref(),
        ) {
            if same(token.trim().as_bytes(), expected.as_bytes()) {
                return Credential::Explicit;
            }
        }
        if let (Some(encoded), Some((user, password))) =
            (strip_scheme(authorization, "basic"), &self.auth.basic)
        {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .unwrap_or_default();
            let expected = format!("{user}:{password}");
            if same(&decoded, expected.as_bytes()) {
                return Credential::Ambient;
            }
        }
        if let (Some(cookie), Some(expected)) = (cookie(headers, TOKEN_COOKIE), &self.auth.bearer) {
            if same(cookie.as_bytes(), hex(expected.as_bytes()).as_bytes()) {
                return Credential::Ambient;
            }
        }
        Credential::Missing
    }

    /// 401 with the challenges of the configured schemes. The console's pages get the login
    /// form when a token is configured (browsers have no prompt for bearer tokens; with basic
    /// credentials too, they show it when the prompt is cancelled).
    fn unauthorized(&self, path: &str) -> Response {
        let page = path.starts_with("/ui") && !path.starts_with("/ui/api/");
        let mut response = if page && self.auth.bearer.is_some() {
            (StatusCode::UNAUTHORIZED, Html(crate::console::LOGIN_PAGE)).into_response()
        } else {
            error(
                StatusCode::UNAUTHORIZED,
                "authentication required: this worker expects the credentials set in its rest.auth.* worker config",
            )
        };
        let challenges = response.headers_mut();
        if self.auth.basic.is_some() {
            challenges.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"sluice\", charset=\"UTF-8\""),
            );
        }
        if self.auth.bearer.is_some() {
            challenges.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sluice\""),
            );
        }
        response
    }

    /// The console's login: the bearer token in, the session cookie out.
    async fn login(&self, request: Request) -> Response {
        let Some(expected) = &self.auth.bearer else {
            return error(
                StatusCode::NOT_FOUND,
                "this worker has no rest.auth.bearer.token to log in with",
            );
        };
        let body = axum::body::to_bytes(request.into_body(), 64 * 1024)
            .await
            .unwrap_or_default();
        let token = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["token"].as_str().map(str::to_owned))
            .unwrap_or_default();
        if !same(token.trim().as_bytes(), expected.as_bytes()) {
            return error(StatusCode::UNAUTHORIZED, "wrong token");
        }
        let cookie = format!(
            "{TOKEN_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
            hex(expected.as_bytes())
        );
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, v);
        }
        response
    }

    /// A worker on a loopback address without authentication answers browsers only under a
    /// loopback name: a page whose own host name was made to resolve to 127.0.0.1 (DNS
    /// rebinding) would otherwise be same-origin with the API.
    #[allow(clippy::result_large_err)]
    fn same_host(&self, headers: &HeaderMap) -> Result<(), Response> {
        if !self.loopback || self.auth.is_enabled() || !from_browser(headers) {
            return Ok(());
        }
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if is_loopback_host(host) {
            return Ok(());
        }
        Err(error(
            StatusCode::FORBIDDEN,
            &format!("this worker listens on a loopback address without authentication and answers browsers only as localhost or 127.0.0.1, not as {host:?}; to serve it under another name, configure rest.auth.* in the worker config"),
        ))
    }
}

/// Whether a browser sent the request (they add these headers; curl and scripts do not).
fn from_browser(headers: &HeaderMap) -> bool {
    headers.contains_key("sec-fetch-site") || headers.contains_key(header::ORIGIN)
}

/// A state-changing request a browser sent must come from this worker's own pages: the same
/// origin (`Sec-Fetch-Site`, `Origin` against `Host`) and the console's own header.
fn from_own_page(headers: &HeaderMap) -> Result<(), String> {
    if !from_browser(headers) {
        return Ok(());
    }
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return Err(format!("Sec-Fetch-Site is {site}"));
        }
    }
    if let Some(origin) = text("origin") {
        let host = text("host").unwrap_or("");
        let authority = origin.split_once("://").map_or("", |(_, a)| a);
        if !authority.eq_ignore_ascii_case(host) {
            return Err(format!("Origin {origin} is not this worker ({host})"));
        }
    }
    if !headers.contains_key(CONSOLE_HEADER) {
        return Err(format!(
            "a browser request that changes state must carry the {CONSOLE_HEADER} header the console sends"
        ));
    }
    Ok(())
}

fn is_loopback_host(host: &str) -> bool {
    // `name:port`, `[v6]:port`, or either without a port.
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `value` without its `scheme ` prefix (case-insensitive, as RFC 7235 says).
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = value.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then_some(rest)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// Compares in time independent of where the inputs differ, so timing does not reveal a
/// secret's prefix.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Connect's error body.
fn error(code: StatusCode, message: &str) -> Response {
    (
        code,
        Json(json!({"error_code": code.as_u16(), "message": message})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::{get, post};
    use tower::ServiceExt;

    fn app(auth: RestAuth, bind: &str) -> Router {
        let router = Router::new()
            .route(
                "/connectors",
                get(|| async { "[]" }).post(|| async { "made" }),
            )
            .route("/ui/", get(|| async { "console" }))
            .route(LOGIN_PATH, post(|| async { "unreached" }));
        protect(router, auth, bind.parse().unwrap())
    }

    fn auth() -> RestAuth {
        RestAuth {
            basic: Some(("admin".into(), "pw".into())),
            bearer: Some("tok".into()),
        }
    }

    async fn call(app: &Router, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        app.clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn credentials_are_required_when_configured() {
        let app = app(auth(), "0.0.0.0");
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("admin:pw")
        );
        let wrong = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("admin:nope")
        );
        let r = call(&app, "GET", "/connectors", &[]).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let challenges: Vec<_> = r.headers().get_all("www-authenticate").iter().collect();
        assert_eq!(challenges.len(), 2);
        let r = call(&app, "GET", "/ui/", &[]).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        for ok in [basic.as_str(), "Bearer tok", "bearer tok"] {
            let r = call(&app, "GET", "/connectors", &[("authorization", ok)]).await;
            assert_eq!(r.status(), StatusCode::OK, "{ok}");
        }
        for bad in [wrong.as_str(), "Bearer tok2", "Bearer", "tok"] {
            let r = call(&app, "GET", "/connectors", &[("authorization", bad)]).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{bad}");
        }
        let r = call(
            &app,
            "GET",
            "/ui/",
            &[("cookie", "a=b; sluice_token=746f6b")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        // curl with basic credentials changes state as before.
        let r = call(&app, "POST", "/connectors", &[("authorization", &basic)]).await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn browsers_change_state_only_from_the_console() {
        let app = app(RestAuth::default(), "127.0.0.1");
        let host = ("host", "127.0.0.1:8083");
        let r = call(&app, "POST", "/connectors", &[host]).await;
        assert_eq!(r.status(), StatusCode::OK, "curl-style clients pass");
        let forged = [
            host,
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ];
        let r = call(&app, "POST", "/connectors", &forged).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let no_header = [
            host,
            ("origin", "http://127.0.0.1:8083"),
            ("sec-fetch-site", "same-origin"),
        ];
        let r = call(&app, "POST", "/connectors", &no_header).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let console = [
            host,
            ("origin", "http://127.0.0.1:8083"),
            ("sec-fetch-site", "same-origin"),
            (CONSOLE_HEADER, "1"),
        ];
        let r = call(&app, "POST", "/connectors", &console).await;
        assert_eq!(r.status(), StatusCode::OK);
        // Reading is not forgery.
        let r = call(&app, "GET", "/connectors", &forged).await;
        assert_eq!(r.status(), StatusCode::OK);
        // DNS rebinding: a browser calling a loopback worker under another name.
        let rebound = [
            ("host", "evil.example:8083"),
            ("sec-fetch-site", "same-origin"),
        ];
        let r = call(&app, "GET", "/connectors", &rebound).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // A bearer token in a header is not something a browser sends by itself.
        let app = self::app(auth(), "0.0.0.0");
        let r = call(
            &app,
            "POST",
            "/connectors",
            &[
                ("authorization", "Bearer tok"),
                ("origin", "http://evil.example"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn the_console_logs_in_with_the_token() {
        let app = app(auth(), "0.0.0.0");
        let login = |token: &'static str| {
            Request::builder()
                .method("POST")
                .uri(LOGIN_PATH)
                .header(CONSOLE_HEADER, "1")
                .header("content-type", "application/json")
                .body(Body::from(format!("{{\"token\":\"{token}\"}}")))
                .unwrap()
        };
        let r = app.clone().oneshot(login("nope")).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = app.clone().oneshot(login("tok")).await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let cookie = r.headers()["set-cookie"].to_str().unwrap();
        assert!(cookie.starts_with("sluice_token=746f6b;"), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    }

    #[test]
    fn loopback_host_names() {
        for h in [
            "localhost:8083",
            "127.0.0.1:1",
            "[::1]:8083",
            "127.0.0.1",
            "a.localhost",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["evil.example:8083", "10.0.0.1:8083", "[2001:db8::1]:80", ""] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
