//! `wiring pull` and `wiring ctl`: the control surface of a running kernel.

use std::io::Read as _;
use std::time::Duration;

/// The environment variable holding the bearer token of the modifying calls.
pub const TOKEN_ENV: &str = "KERNEL_CONTROL_TOKEN";

/// What went wrong talking to a kernel.
#[derive(Debug)]
pub enum Failure {
    /// The kernel could not be reached or the answer not read.
    Transport(String),
    /// The kernel answered with an error status; its `{"error": ..}` text.
    Refused { status: u16, message: String },
    /// A modifying call without a token.
    NoToken,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transport(message) => write!(f, "{message}"),
            Failure::Refused { status, message } => {
                write!(f, "the kernel refused ({status}): {message}")
            }
            Failure::NoToken => write!(
                f,
                "set {TOKEN_ENV} to the control token (its file is named in the kernel's log)"
            ),
        }
    }
}

/// One call to the control surface at `base` (`http://127.0.0.1:8080/`).
pub fn call(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<String, Failure> {
    let url = format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    let mut builder = ureq::http::Request::builder().method(method).uri(&url);
    if let Some(token) = token {
        builder = builder.header("Authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        builder = builder.header("Content-Type", "application/json");
    }
    let request = builder
        .body(body.unwrap_or_default().into_bytes())
        .map_err(|e| Failure::Transport(format!("{url}: {e}")))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .run(request)
        .map_err(|e| Failure::Transport(format!("{method} {url}: {e}")))?;
    let mut text = String::new();
    response
        .body_mut()
        .as_reader()
        .read_to_string(&mut text)
        .map_err(|e| Failure::Transport(format!("{method} {url}: reading the answer: {e}")))?;
    let status = response.status().as_u16();
    if status >= 400 {
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or(text);
        return Err(Failure::Refused { status, message });
    }
    Ok(text)
}

/// The modifying call of `verb` with its arguments: method, path, body.
pub fn verb(verb: &Verb) -> (&'static str, String, Option<String>) {
    match verb {
        Verb::Connect { from, to } => (
            "POST",
            "api/v1/connections".into(),
            Some(serde_json::json!({ "from": from, "to": to }).to_string()),
        ),
        Verb::Disconnect { id } => ("DELETE", format!("api/v1/connections/{id}"), None),
        Verb::Pause { id } => ("POST", format!("api/v1/connections/{id}/pause"), None),
        Verb::Resume { id } => ("POST", format!("api/v1/connections/{id}/resume"), None),
        Verb::Restart { server } => ("POST", format!("api/v1/servers/{server}/restart"), None),
        Verb::Stop { server } => ("POST", format!("api/v1/servers/{server}/stop"), None),
    }
}

/// The modifying calls of the control surface.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Verb {
    /// Connects producer `from` to consumer `to` (`server.terminal` each).
    Connect { from: String, to: String },
    /// Removes the connection with this id.
    Disconnect { id: String },
    /// Holds a connection's messages.
    Pause { id: String },
    /// Lets a paused connection flow again.
    Resume { id: String },
    /// Restarts a server.
    Restart { server: String },
    /// Stops a server.
    Stop { server: String },
}
