//! The bearer token of modifying calls, for the Hostess API and the control
//! surface alike: `Authorization: Bearer <token>`, the scheme matched
//! case-insensitively (RFC 7235), the token compared in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq as _;

use super::ApiError;

/// A bearer token; cheap to clone, never shown by `Debug`.
#[derive(Clone)]
pub struct BearerToken(Arc<str>);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(..)")
    }
}

impl BearerToken {
    /// The token callers must present.
    pub fn new(token: impl AsRef<str>) -> Self {
        BearerToken(Arc::from(token.as_ref()))
    }

    /// The token itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `given` is this token, in time independent of where they
    /// differ.
    pub fn matches(&self, given: &str) -> bool {
        given.as_bytes().ct_eq(self.0.as_bytes()).into()
    }

    /// Accepts a request whose headers carry this token; 401 otherwise.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        match bearer_credentials(headers) {
            Some(given) if self.matches(given) => Ok(()),
            Some(_) => Err(ApiError::unauthorized("wrong bearer token")),
            None => Err(ApiError::unauthorized(
                "this call modifies the kernel: send `Authorization: Bearer <token>`",
            )),
        }
    }
}

/// The credentials of an `Authorization` header with the `Bearer` scheme.
pub fn bearer_credentials(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// Middleware for the routes of modifying calls:
/// `route_layer(middleware::from_fn_with_state(token, require_bearer))`.
pub async fn require_bearer(
    State(token): State<BearerToken>,
    request: Request,
    next: Next,
) -> Response {
    match token.check(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(header::AUTHORIZATION, v);
        }
        h
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_the_token_exact() {
        let token = BearerToken::new("s3cret");
        for ok in [
            "Bearer s3cret",
            "bearer s3cret",
            "BEARER  s3cret ",
            "bEaReR s3cret",
        ] {
            assert_eq!(token.check(&headers(ok)), Ok(()), "{ok}");
        }
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cretx",
            "Bearer S3CRET",
            "Basic s3cret",
            "s3cret",
            "Bearer",
            "",
        ] {
            assert_eq!(
                token.check(&headers(wrong)).map_err(|e| e.status.as_u16()),
                Err(401),
                "{wrong}"
            );
        }
        assert_eq!(format!("{token:?}"), "BearerToken(..)");
    }
}
