//! The tests' HTTP client: ureq, with a response that keeps status,
//! headers and body whatever the status.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::time::Duration;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

/// Sends one request and reads the whole response.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder.body(body.to_vec()).expect("request");
    let mut response = agent(Duration::from_secs(20))
        .run(request)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let mut bytes = Vec::new();
    response
        .body_mut()
        .as_reader()
        .read_to_end(&mut bytes)
        .unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
    Response {
        status: response.status().as_u16(),
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, &[], b"")
}

/// An open server-sent event stream.
pub struct Events {
    reader: Box<dyn BufRead>,
}

impl Events {
    pub fn open(addr: SocketAddr, path: &str) -> Events {
        Events::try_open(addr, path).unwrap_or_else(|status| panic!("GET {path}: {status}"))
    }

    /// The stream, or the status of the refusal.
    pub fn try_open(addr: SocketAddr, path: &str) -> Result<Events, u16> {
        let response = agent(Duration::from_secs(120))
            .get(format!("http://{addr}{path}"))
            .header("accept", "text/event-stream")
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        match response.status().as_u16() {
            200 => Ok(Events {
                reader: Box::new(BufReader::new(response.into_body().into_reader())),
            }),
            status => Err(status),
        }
    }

    /// What is left of the stream.
    pub fn into_reader(self) -> Box<dyn BufRead> {
        self.reader
    }

    /// Reads until an event named `name` whose data contains `needle`;
    /// returns its data.
    pub fn until(&mut self, name: &str, needle: &str) -> String {
        let mut event = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.reader.read_line(&mut line).expect("read event stream");
            assert!(n > 0, "event stream ended before `{name}`");
            let l = line.trim_end();
            if let Some(e) = l.strip_prefix("event: ") {
                event = e.to_owned();
            } else if let Some(data) = l.strip_prefix("data: ")
                && event == name
                && data.contains(needle)
            {
                return data.to_owned();
            }
        }
    }
}

/// `(state, holder, connectome ids in order)` of `terminal` of the Hostess
/// guest `uuid`, over HTTP.
pub fn terminal_use(addr: SocketAddr, uuid: &str, terminal: &str) -> (String, String, Vec<String>) {
    let r = get(addr, &format!("/api/v1/hostess/guests/{uuid}"));
    assert_eq!(r.status, 200, "{}", r.body);
    let guest = r.json();
    let t = guest["terminals"]
        .as_array()
        .expect("terminals")
        .iter()
        .find(|t| t["name"] == terminal)
        .cloned()
        .expect("terminal");
    let mut ids: Vec<String> = t["connectome"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    (
        t["state"].as_str().unwrap_or_default().to_owned(),
        t["holder"].as_str().unwrap_or_default().to_owned(),
        ids,
    )
}
