//! Every refusal as JSON: `{"error": "..."}` with the status that fits,
//! for the Hostess API and the control surface alike, and also for what
//! axum refuses before a handler runs (an unknown route, a wrong method, a
//! malformed query or body, a body over the limit).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorJson {
    /// What went wrong, for a person or an agent to act on.
    pub error: String,
    /// For 409 on too few guests: how many were wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wanted: Option<usize>,
    /// For 409 on too few guests: how many match the mask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<usize>,
    /// For 409 on too few guests: how many of them are free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free: Option<usize>,
}

impl ErrorJson {
    /// An error with a message and nothing else.
    pub fn new(message: impl Into<String>) -> Self {
        ErrorJson {
            error: message.into(),
            wanted: None,
            found: None,
            free: None,
        }
    }
}

/// A refused request: its status and JSON body (and, for 401, the
/// `WWW-Authenticate` challenge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: ErrorJson,
}

impl ApiError {
    /// `status` with `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorJson::new(message),
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: the thing named does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 401: missing or wrong credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.body.error)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = super::json(self.status, &self.body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kernel\""),
            );
        }
        response
    }
}

/// The answer to a path no route serves.
pub async fn no_such_endpoint() -> ApiError {
    ApiError::not_found("no such endpoint; GET /api/v1/ lists them")
}

/// Middleware (`axum::middleware::from_fn(json_errors)`, outermost): turns
/// every error response that is not JSON yet, such as axum's rejections
/// (405 with its `Allow` header, 413, 415, 400 on a duplicate query
/// parameter), into `{"error": ...}` keeping its status and headers.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Rejections carry a short plain-text reason; keep it.
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let mut message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_owned()
    } else {
        text
    };
    if status == StatusCode::METHOD_NOT_ALLOWED {
        // axum adds the `Allow` header after this layer when it is not here yet.
        message = match parts
            .headers
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
        {
            Some(allow) => format!("method not allowed here; use {allow}"),
            None => "method not allowed here; the `Allow` header lists the methods".to_owned(),
        };
    }
    let body = serde_json::to_vec(&ErrorJson::new(message)).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}
