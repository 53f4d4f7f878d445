//! Reads a wiring file: walks its spanned TOML tree by hand, so that every
//! schema problem is found in one pass, each with the span of the offending
//! text. One file per part of the file: `[kernel]`, `[control]` and
//! `[lints]`; servers and processes; `[mesh]`; connections and routes.

mod connections;
mod kernel;
mod mesh;
mod servers;

use serde::Deserialize as _;
use toml::de::{DeArray, DeTable, DeValue};

use super::{Span, Spanned, Wiring};
use crate::lint::{Code, Finding};
use crate::names::closest;

type DeSpanned<'i> = toml::Spanned<DeValue<'i>>;

const TOP_KEYS: &[&str] = &[
    "kernel",
    "control",
    "lints",
    "servers",
    "processes",
    "connections",
    "mesh",
    "routes",
];

/// Parses `source`; the findings are E0001 (then the wiring is empty) or E0002.
pub fn parse(source: &str) -> (Wiring, Vec<Finding>) {
    let (root, errors) = DeTable::parse_recoverable(source);
    // Only the first: the parser's recovery makes the next ones mostly echoes.
    if let Some(e) = errors.first() {
        let finding = syntax_finding(source, e.span(), e.message());
        return (Wiring::default(), vec![finding]);
    }
    // The same tree through serde, for the `config` tables kept as
    // `toml::Table`: what `toml::from_str` gives, without parsing again.
    let document = match toml::Table::deserialize(toml::de::Deserializer::from(root.clone())) {
        Ok(table) => table,
        Err(e) => {
            let finding = syntax_finding(source, e.span(), e.message());
            return (Wiring::default(), vec![finding]);
        }
    };
    let mut walker = Walker {
        source,
        document,
        findings: Vec::new(),
        wiring: Wiring::default(),
    };
    walker.root(root.get_ref());
    (walker.wiring, walker.findings)
}

fn syntax_finding(source: &str, span: Option<Span>, message: &str) -> Finding {
    let span = span.unwrap_or(source.len()..source.len());
    let message = message.trim();
    let message = message.strip_suffix('.').unwrap_or(message);
    Finding::new(Code::Syntax, span, format!("invalid TOML: {message}")).label(message.to_string())
}

struct Walker<'s> {
    source: &'s str,
    document: toml::Table,
    findings: Vec<Finding>,
    wiring: Wiring,
}

/// `a string`, `an integer`, ...
fn article(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The entries of a table in the order they were written.
pub(super) fn entries<'a, 'i>(
    table: &'a DeTable<'i>,
) -> Vec<(Spanned<&'a str>, &'a DeSpanned<'i>)> {
    let mut entries: Vec<_> = table
        .iter()
        .map(|(k, v)| (Spanned::new(k.get_ref().as_ref(), k.span()), v))
        .collect();
    entries.sort_by_key(|(k, v)| (k.span.start, v.span().start));
    entries
}

pub(super) fn one_of(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl Walker<'_> {
    pub(super) fn report(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    pub(super) fn unknown_key(&mut self, key: &Spanned<&str>, context: &str, allowed: &[&str]) {
        let help = match closest(key.value, allowed.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("{context} takes {}", one_of(allowed)),
        };
        self.report(
            Finding::new(
                Code::Schema,
                key.span.clone(),
                format!("unknown key `{}` in {context}", key.value),
            )
            .label("unknown key")
            .help(help),
        );
    }

    pub(super) fn wrong_type(&mut self, what: &str, expected: &str, value: &DeSpanned<'_>) {
        self.report(
            Finding::new(
                Code::Schema,
                value.span(),
                format!("{what} must be {expected}"),
            )
            .label(format!(
                "expected {expected}, found {}",
                article(value.get_ref())
            )),
        );
    }

    pub(super) fn missing(&mut self, span: Span, what: &str, help: impl Into<String>) {
        self.report(
            Finding::new(Code::Schema, span, format!("missing {what}"))
                .label(format!("missing {what}"))
                .help(help),
        );
    }

    pub(super) fn string(&mut self, what: &str, value: &DeSpanned<'_>) -> Option<Spanned<String>> {
        match value.get_ref() {
            DeValue::String(s) => Some(Spanned::new(s.to_string(), value.span())),
            _ => {
                self.wrong_type(what, "a string", value);
                None
            }
        }
    }

    fn root(&mut self, root: &DeTable<'_>) {
        let mut kernel_seen = false;
        for (key, value) in entries(root) {
            match key.value {
                "kernel" => {
                    kernel_seen = true;
                    self.kernel(value);
                }
                "control" => self.control(value),
                "lints" => self.lints(value),
                "servers" => self.servers(value),
                "processes" => self.processes(value),
                "connections" => {
                    for (item, table) in self.array_of_tables("`connections`", value) {
                        self.connection(item, table);
                    }
                }
                "mesh" => self.mesh(value),
                "routes" => {
                    for (item, table) in self.array_of_tables("`routes`", value) {
                        self.route(item, table);
                    }
                }
                _ => self.unknown_key(&key, "the wiring file", TOP_KEYS),
            }
        }
        if !kernel_seen {
            self.missing(
                0..0,
                "`[kernel]` table",
                "start the file with `[kernel]` and `name = \"...\"`",
            );
        }
    }

    pub(super) fn table<'a, 'i>(
        &mut self,
        what: &str,
        value: &'a DeSpanned<'i>,
    ) -> Option<&'a DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            _ => {
                self.wrong_type(what, "a table", value);
                None
            }
        }
    }

    pub(super) fn array_of_tables<'a, 'i>(
        &mut self,
        what: &str,
        value: &'a DeSpanned<'i>,
    ) -> Vec<(Span, &'a DeTable<'i>)> {
        let array: &DeArray<'i> = match value.get_ref() {
            DeValue::Array(array) => array,
            _ => {
                self.wrong_type(what, "an array of tables", value);
                return Vec::new();
            }
        };
        let mut tables = Vec::new();
        for item in array.iter() {
            match item.get_ref() {
                DeValue::Table(table) => tables.push((item.span(), table)),
                _ => self.wrong_type(&format!("an entry of {what}"), "a table", item),
            }
        }
        tables
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::Level;
    use crate::spec::Restart;

    #[test]
    fn integers_toml_values_cannot_hold_are_syntax_errors_as_with_from_str() {
        for source in [
            "[kernel]\nname = \"k\"\nbig = 18446744073709551615\n",
            "[kernel]\nname = \"k\"\n[servers.a]\ntype = \"A\"\nconfig = { n = 99999999999999999999 }\n",
        ] {
            let (_, findings) = parse(source);
            let expected = toml::from_str::<toml::Table>(source)
                .err()
                .map(|e| (e.message().to_string(), e.span()));
            let got = findings.first().map(|f| (f.code, f.span.clone()));
            assert_eq!(findings.len(), 1, "{source}");
            assert_eq!(got.map(|g| g.0), Some(Code::Syntax));
            let (message, span) = expected.unwrap_or_default();
            assert!(
                findings[0].message.contains(message.trim()),
                "{}",
                findings[0].message
            );
            assert_eq!(Some(findings[0].span.clone()), span);
        }
    }

    fn codes(source: &str) -> Vec<(Code, String)> {
        let (_, findings) = parse(source);
        findings
            .into_iter()
            .map(|f| (f.code, source[f.span].to_string()))
            .collect()
    }

    #[test]
    fn parses_the_contract_example() {
        let source = r#"
[kernel]
name = "refinery"
fqdn = "plant-a.example"

[lints]
unconnected-input = "deny"

[servers.intake]
type = "servers::Sensor"
config = { count = 1000 }
restart = "on-failure"

[[connections]]
from = "intake.readings"
to = ["a.raw", "b.raw"]
capacity = 16
tap = true

[[routes]]
from = "filter.alerts"
to = { guest = "g", terminal = "lines" }
"#;
        let (wiring, findings) = parse(source);
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(
            wiring.kernel.name.as_ref().map(|n| n.value.as_str()),
            Some("refinery")
        );
        assert_eq!(
            wiring.kernel.fqdn.as_ref().map(|n| n.value.as_str()),
            Some("plant-a.example")
        );
        assert_eq!(wiring.servers.len(), 1);
        let server = &wiring.servers[0];
        assert_eq!(server.restart, Restart::OnFailure);
        assert_eq!(
            server
                .config
                .as_ref()
                .map(|c| toml::to_string(&c.value).unwrap_or_default()),
            Some("count = 1000\n".to_string())
        );
        assert_eq!(wiring.connections[0].capacity, 16);
        assert!(wiring.connections[0].tap);
        let to = wiring.connections[0].to.as_ref().map(|t| t.endpoints.len());
        assert_eq!(to, Some(2));
        assert_eq!(wiring.routes.len(), 1);
        assert_eq!(wiring.level(Code::UnconnectedInput), Some(Level::Error));
        assert_eq!(wiring.level(Code::Cycle), Some(Level::Warning));
    }

    #[test]
    fn collects_every_schema_problem() {
        let found = codes(
            "[kernel]\nname = \"Bad Name\"\ncolour = 1\n[servers.X]\ntpye = \"a\"\n[[connections]]\nfrom = 3\nto = []\ncapacity = 0\ntap = \"yes\"\n",
        );
        let spans: Vec<&str> = found.iter().map(|(_, s)| s.as_str()).collect();
        assert!(found.iter().all(|(c, _)| *c == Code::Schema), "{found:?}");
        assert_eq!(
            spans,
            [
                "\"Bad Name\"",
                "colour",
                "X",
                "tpye",
                "[servers.X]",
                "3",
                "[]",
                "0",
                "\"yes\""
            ]
        );
    }

    #[test]
    fn fuse_is_a_boolean_and_defaults_to_true() {
        let base = "[kernel]\nname = \"k\"\n[servers.a]\ntype = \"A\"\n";
        let (wiring, findings) = parse(base);
        assert!(
            findings.is_empty() && wiring.servers[0].fuse,
            "{findings:?}"
        );
        let (wiring, findings) = parse(&format!("{base}fuse = false\n"));
        assert!(
            findings.is_empty() && !wiring.servers[0].fuse,
            "{findings:?}"
        );
        assert_eq!(
            codes(&format!("{base}fuse = \"no\"\n")),
            [(Code::Schema, "\"no\"".to_string())]
        );
        // A misspelling is an unknown key, with the suggestion.
        let (_, findings) = parse(&format!("{base}fuze = false\n"));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(
            findings[0].help.iter().any(|h| h.contains("fuse")),
            "{findings:?}"
        );
    }

    #[test]
    fn control_listen_is_a_socket_address() {
        for listen in ["127.0.0.1:0", "[::1]:8080", "0.0.0.0:9000"] {
            let source = format!("[kernel]\nname = \"k\"\n[control]\nlisten = \"{listen}\"\n");
            let (wiring, findings) = parse(&source);
            assert!(findings.is_empty(), "{findings:?}");
            assert_eq!(
                wiring.control.listen.map(|l| l.value),
                Some(listen.to_string())
            );
        }
        let (wiring, _) = parse("[kernel]\nname = \"k\"\n[control]\n");
        assert!(wiring.control.listen.is_none());
        let found =
            codes("[kernel]\nname = \"k\"\n[control]\nlisten = \"localhost:80\"\nport = 1\n");
        assert_eq!(
            found,
            [
                (Code::Schema, "\"localhost:80\"".to_string()),
                (Code::Schema, "port".to_string())
            ]
        );
        for bad in [
            "listen = 8080",
            "listen = \"127.0.0.1\"",
            "listen = \" 127.0.0.1:1\"",
        ] {
            let found = codes(&format!("[kernel]\nname = \"k\"\n[control]\n{bad}\n"));
            assert_eq!(found.len(), 1, "{bad}: {found:?}");
            assert_eq!(found[0].0, Code::Schema);
        }
        let found = codes("control = 1\n[kernel]\nname = \"k\"\n");
        assert_eq!(found, [(Code::Schema, "1".to_string())]);
    }

    #[test]
    fn syntax_errors_stop_the_walk() {
        let found = codes("[kernel\nname = 3\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, Code::Syntax);
    }

    #[test]
    fn missing_kernel_is_reported_at_the_start() {
        let (_, findings) = parse("");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].span, 0..0);
    }

    #[test]
    fn mesh_and_routes_with_their_options() {
        let source = r#"
[kernel]
name = "k"
[mesh]
listen = ["tcp/127.0.0.1:7447"]
peers = ["tcp/127.0.0.1:7448", "tcp/[::1]:7449"]
offer = ["alarm.lines"]
[[routes]]
from = "a.out"
to = { mask = "*:archive:*:*:*:*:*", terminal = "lines" }
capacity = 16
encoding = "json"
[[routes]]
from = "a.out"
to = { guest = "g", terminal = "lines" }
"#;
        let (wiring, findings) = parse(source);
        assert!(findings.is_empty(), "{findings:?}");
        let mesh = wiring.mesh.unwrap_or_default();
        let texts = |l: &[Spanned<String>]| l.iter().map(|s| s.value.clone()).collect::<Vec<_>>();
        assert_eq!(texts(&mesh.listen), ["tcp/127.0.0.1:7447"]);
        assert_eq!(texts(&mesh.peers).len(), 2);
        assert_eq!(&source[mesh.offer[0].span.clone()], "\"alarm.lines\"");
        let (masked, exact) = (&wiring.routes[0], &wiring.routes[1]);
        assert_eq!(
            masked.mask.as_ref().map(|m| m.value.as_str()),
            Some("*:archive:*:*:*:*:*")
        );
        assert_eq!(
            (masked.capacity, masked.encoding),
            (16, crate::Encoding::Json)
        );
        assert_eq!(
            (exact.capacity, exact.encoding),
            (crate::DEFAULT_CAPACITY, crate::Encoding::Postcard)
        );
    }

    #[test]
    fn mesh_and_route_schema_errors_point_at_the_text() {
        let found = codes(
            "[kernel]\nname = \"k\"\n[mesh]\nlisten = [\"127.0.0.1:1\"]\npeers = \"tcp/a:1\"\noffer = [3]\nport = 1\n\
             [[routes]]\nfrom = \"a.b\"\nto = { guest = \"g\", mask = \"m\", terminal = \"t\" }\ncapacity = 0\nencoding = \"jsn\"\n\
             [[routes]]\nfrom = \"a.b\"\nto = { terminal = \"t\" }\n",
        );
        let spans: Vec<&str> = found.iter().map(|(_, s)| s.as_str()).collect();
        assert!(found.iter().all(|(c, _)| *c == Code::Schema), "{found:?}");
        assert_eq!(
            spans,
            [
                "\"127.0.0.1:1\"",
                "\"tcp/a:1\"",
                "3",
                "port",
                "\"m\"",
                "0",
                "\"jsn\"",
                "{ terminal = \"t\" }",
            ]
        );
        let (_, findings) = parse(
            "[kernel]\nname = \"k\"\n[[routes]]\nfrom = \"a.b\"\nto = { guest = \"g\", terminal = \"t\" }\nencoding = \"jsn\"\n",
        );
        assert!(
            findings
                .iter()
                .any(|f| f.help.as_deref() == Some("did you mean `\"json\"`?")),
            "{findings:?}"
        );
    }
}
