//! The caller's side of phone calls: signs requests and sends them to a
//! peer kernel's Hostess API over plain HTTP (loopback or a trusted
//! network) with a blocking HTTP client.

use std::net::SocketAddr;
use std::time::Duration;

use super::sign::{canonical, nonce, sign};
use super::{HEADER_KERNEL, HEADER_NONCE, HEADER_PEER, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use crate::clock::unix_millis;

/// A response of a phone call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The body, JSON (`{"error": ...}` for a refusal).
    pub body: String,
}

/// Why a phone call could not be made (a refusal is a [`Response`]).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The request could not be made (a path or header HTTP does not allow).
    #[error("bad request to {addr}: {reason}")]
    BadRequest {
        /// The peer's address.
        addr: SocketAddr,
        /// What is wrong with the request.
        reason: String,
    },
    /// The peer could not be reached or its answer not read.
    #[error("cannot call {addr}: {source}")]
    Http {
        /// The peer's address.
        addr: SocketAddr,
        /// The HTTP client's error.
        #[source]
        source: Box<ureq::Error>,
    },
}

/// A request, signed and ready to send (kept so tests can replay it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// `GET`, `POST`, `DELETE`, ...
    pub method: String,
    /// Relative to the API root; the signature covers it.
    pub path: String,
    /// The signing headers (`x-hostess-*`) and the content type.
    pub headers: Vec<(String, String)>,
    /// The body; the signature covers it.
    pub body: Vec<u8>,
}

/// Calls one peer kernel's Hostess API as one peer.
#[derive(Clone)]
pub struct PhoneClient {
    addr: SocketAddr,
    /// Where the Hostess API is mounted on the peer, e.g. `/api/v1/hostess`.
    base: String,
    /// The name of the kernel called.
    kernel: String,
    peer: String,
    secret: Vec<u8>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for PhoneClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneClient")
            .field("addr", &self.addr)
            .field("base", &self.base)
            .field("kernel", &self.kernel)
            .field("peer", &self.peer)
            .finish()
    }
}

/// How long a call may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(10);

impl PhoneClient {
    /// Calls the Hostess API of kernel `kernel` at `http://{addr}{base}` as
    /// `peer`.
    pub fn new(
        addr: SocketAddr,
        base: &str,
        kernel: &str,
        peer: &str,
        secret: impl Into<Vec<u8>>,
    ) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            // A refusal is an answer, with its JSON body.
            .http_status_as_error(false)
            .build()
            .into();
        PhoneClient {
            addr,
            base: base.trim_end_matches('/').to_owned(),
            kernel: kernel.to_owned(),
            peer: peer.to_owned(),
            secret: secret.into(),
            agent,
        }
    }

    /// Signs a request now with a fresh nonce.
    pub fn sign(&self, method: &str, path: &str, body: &[u8]) -> SignedRequest {
        let timestamp = unix_millis();
        let nonce = nonce();
        let text = canonical(
            &self.kernel,
            method,
            path,
            &self.peer,
            timestamp,
            &nonce,
            body,
        );
        let signature = sign(&self.secret, &text);
        SignedRequest {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            headers: vec![
                (HEADER_PEER.to_owned(), self.peer.clone()),
                (HEADER_KERNEL.to_owned(), self.kernel.clone()),
                (HEADER_TIMESTAMP.to_owned(), timestamp.to_string()),
                (HEADER_NONCE.to_owned(), nonce),
                (HEADER_SIGNATURE.to_owned(), signature),
            ],
            body: body.to_vec(),
        }
    }

    /// Signs and sends a request; `path` is relative to the API root.
    pub fn call(&self, method: &str, path: &str, body: &[u8]) -> Result<Response, CallError> {
        let request = self.sign(method, path, body);
        self.send(&request)
    }

    /// Sends a signed request (again: a replay).
    pub fn send(&self, request: &SignedRequest) -> Result<Response, CallError> {
        let addr = self.addr;
        let bad = |reason: String| CallError::BadRequest { addr, reason };
        let http = |source| CallError::Http {
            addr,
            source: Box::new(source),
        };
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(format!("http://{addr}{}{}", self.base, request.path));
        if !request.body.is_empty() {
            builder = builder.header("content-type", "application/json");
        }
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let http_request = builder
            .body(request.body.clone())
            .map_err(|e| bad(e.to_string()))?;
        let mut response = self.agent.run(http_request).map_err(http)?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(http)?;
        Ok(Response { status, body })
    }
}
