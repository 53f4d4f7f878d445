//! `[mesh]`: Zenoh endpoints and offered terminals.

use toml::de::DeValue;

use super::{DeSpanned, Walker, entries};
use crate::lint::{Code, Finding};
use crate::wiring::{Mesh, Spanned};

const MESH_KEYS: &[&str] = &["listen", "peers", "offer"];

/// A Zenoh endpoint as written in `[mesh]`: `<protocol>/<address>`, with no
/// spaces (Zenoh itself checks the rest when the session opens).
fn is_endpoint(text: &str) -> bool {
    text.split_once('/').is_some_and(|(protocol, address)| {
        !protocol.is_empty()
            && protocol.bytes().all(|b| b.is_ascii_alphanumeric())
            && !address.is_empty()
            && !address.contains(char::is_whitespace)
    })
}

impl Walker<'_> {
    pub(super) fn mesh(&mut self, value: &DeSpanned<'_>) {
        let Some(table) = self.table("`mesh`", value) else {
            return;
        };
        let mut mesh = Mesh {
            span: value.span(),
            ..Mesh::default()
        };
        for (k, v) in entries(table) {
            match k.value {
                "listen" => mesh.listen = self.endpoints("`mesh.listen`", v),
                "peers" => mesh.peers = self.endpoints("`mesh.peers`", v),
                "offer" => mesh.offer = self.spanned_strings("`mesh.offer`", v),
                _ => self.unknown_key(&k, "`[mesh]`", MESH_KEYS),
            }
        }
        self.wiring.mesh = Some(mesh);
    }

    /// An array of strings; wrong items are reported and left out.
    fn spanned_strings(&mut self, what: &str, value: &DeSpanned<'_>) -> Vec<Spanned<String>> {
        let DeValue::Array(array) = value.get_ref() else {
            self.wrong_type(what, "an array of strings", value);
            return Vec::new();
        };
        array
            .iter()
            .filter_map(|item| self.string(&format!("an entry of {what}"), item))
            .collect()
    }

    fn endpoints(&mut self, what: &str, value: &DeSpanned<'_>) -> Vec<Spanned<String>> {
        let mut endpoints = self.spanned_strings(what, value);
        endpoints.retain(|endpoint| {
            let ok = is_endpoint(&endpoint.value);
            if !ok {
                self.report(
                    Finding::new(
                        Code::Schema,
                        endpoint.span.clone(),
                        format!("invalid Zenoh endpoint `{}`", endpoint.value),
                    )
                    .label("expected `<protocol>/<address>`")
                    .help("write an endpoint such as `\"tcp/127.0.0.1:7447\"`"),
                );
            }
            ok
        });
        endpoints
    }
}

#[cfg(test)]
mod tests {
    use super::is_endpoint;

    #[test]
    fn endpoints_have_a_protocol_and_an_address() {
        for good in [
            "tcp/127.0.0.1:7447",
            "tcp/[::1]:7447",
            "udp/10.0.0.1:1",
            "tls/host:1",
        ] {
            assert!(is_endpoint(good), "{good}");
        }
        for bad in ["127.0.0.1:7447", "/127.0.0.1:1", "tcp/", "tcp/a b", "t-p/x"] {
            assert!(!is_endpoint(bad), "{bad}");
        }
    }
}
