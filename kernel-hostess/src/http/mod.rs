//! The Hostess's JSON API (feature `http`), mounted by the control
//! surface's server under `/api/v1/hostess`; paths here are relative to it.
//! Also the HTTP pieces the control surface shares with it: JSON errors
//! ([`ApiError`], [`json_errors`]), the bearer token ([`BearerToken`]) and a
//! server that bounds what its clients can hold ([`serve_on`], [`Limits`]).
//!
//! | method and path | what |
//! |---|---|
//! | `GET /guests?mask=&count=` | guests matching `mask` (default every guest), in the stable order; with `count` exactly that many, or 409 saying how many match |
//! | `GET /guests/{uuid}` | one guest |
//! | `GET /menu` | availability by class and owner, for peers |
//! | `GET /reservations` | live reservations |
//! | `POST /reservations` | reserve terminals (`terminals`) or book by masks and counts (`wants`), all or nothing; 201 |
//! | `GET /reservations/{id}` | one reservation |
//! | `POST /reservations/{id}/renew` | renew the lease |
//! | `DELETE /reservations/{id}` | release |
//!
//! A bad mask, identity or request body gives 400 with the parse error as
//! `{"error": ".."}`; taken terminals and too few guests 409; an unknown
//! reservation 404; an expired or released one 410.
//!
//! Reading is open. Modifying calls (`POST`, `DELETE`) are phone calls
//! signed by a known peer for this kernel (see [`crate::phone`]), or local
//! calls with `Authorization: Bearer <token>` when [`Api::bearer_token`] is
//! set; an [`Api`] with neither configured accepts every call (for tests and
//! for a server that authenticates in front of it).
//!
//! `POST /reservations` body (`Content-Type: application/json`):
//!
//! ```json
//! {"ttl_ms": 10000,
//!  "terminals": [{"guest": "6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f", "terminal": "lines"}]}
//! {"ttl_ms": 10000, "wants": [{"mask": "*:*:0x00000a00/0x0000ff00:ops:*:*:*", "count": 4, "terminals": ["lines"]}]}
//! ```
//!
//! Leases made over HTTP always have a TTL (default [`DEFAULT_TTL`]): a
//! caller that dies releases what it held. A lease is held under the
//! caller's authenticated name: [`OPERATOR`] for a local caller, `peer:<name>`
//! for a peer's phone call; a body whose `holder` names anyone else is
//! refused (403). The kernel's own booking of its pipes (holder `control`)
//! is neither released nor renewed here (403): it ends when its pipes are
//! disconnected through the control surface.

mod api;
mod auth;
mod error;
mod serve;
mod shapes;

pub use api::{Api, DEFAULT_TTL, HostessDoc, OPERATOR, router};
pub use auth::{BearerToken, bearer_credentials, require_bearer};
pub use error::{ApiError, ErrorJson, json_errors, no_such_endpoint};
pub use serve::{Limits, Served, serve, serve_on};
pub use shapes::{
    GrantJson, GuestJson, GuestsJson, MenuEntryJson, MenuJson, PickJson, ReservationsJson,
    ReserveJson, TerminalJson, TerminalRefJson, WantJson,
};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `value` as a JSON response with `status`.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the response: {e}"),
        )
        .into_response(),
    }
}

/// Deserializes an optional whole number also when written as `12.0`
/// (JSON Schema's integers include them): `#[serde(deserialize_with =
/// "kernel_hostess::http::whole_number", default)]`.
pub fn whole_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::Deserialize as _;
    use serde::de::Error as _;
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    });
    whole
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("expected a whole number in range, not {number}")))
}

/// A JSON request body: 415 unless `Content-Type` is `application/json`,
/// 400 when it does not parse into `T`.
pub fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("send the body as `Content-Type: application/json` (not `{content_type}`)"),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))
}
