//! Writes a [`Wiring`] as `wiring.toml` text.
//!
//! Given the text the wiring was first read from, the writer edits that
//! text (with `toml_edit`) instead of replacing it: every value the model
//! leaves unchanged keeps its place, its layout and the comments around it,
//! and whatever the model does not describe (tables it has no keys for)
//! stays as written. Unchanged model, unchanged text, byte for byte.

use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, TableLike, Value};

use super::{Connection, Kernel, LintSetting, Mesh, Process, Route, Server, Side, Spanned, Wiring};
use crate::lint::Level;
use crate::spec::{DEFAULT_CAPACITY, Encoding, Restart};

/// `wiring` as wiring.toml text; `original` is the text it was read from,
/// if any, and is kept wherever the model did not change.
pub fn write(wiring: &Wiring, original: Option<&str>) -> String {
    let parsed = original.and_then(|text| {
        let doc = text.parse::<DocumentMut>().ok()?;
        Some((doc, super::parse(text).0))
    });
    let (mut doc, before) = parsed.unwrap_or_default();
    kernel(&mut doc, &before.kernel, &wiring.kernel);
    control(
        &mut doc,
        before.control.listen.as_ref(),
        wiring.control.listen.as_ref(),
    );
    lints(&mut doc, &before.lints, &wiring.lints);
    servers(&mut doc, &before.servers, &wiring.servers);
    processes(&mut doc, &before.processes, &wiring.processes);
    mesh(&mut doc, before.mesh.as_ref(), wiring.mesh.as_ref());
    entries(
        &mut doc,
        "connections",
        &before.connections,
        &wiring.connections,
        &ConnectionEntries,
    );
    entries(
        &mut doc,
        "routes",
        &before.routes,
        &wiring.routes,
        &RouteEntries,
    );
    doc.to_string()
}

fn value<T>(spanned: Option<&Spanned<T>>) -> Option<&T> {
    spanned.map(|s| &s.value)
}

fn string(text: &str) -> Value {
    Value::from(text)
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(String::as_str).collect())
}

/// A restart policy as far as it is written: `never` is the default.
fn written(restart: Restart) -> Option<Restart> {
    (restart != Restart::Never).then_some(restart)
}

/// A TOML table as an inline table value (`{ count = 1000 }`).
fn inline_table(table: &toml::Table) -> Value {
    let text = toml::Value::Table(table.clone()).to_string();
    text.parse::<Value>()
        .unwrap_or_else(|_| Value::InlineTable(InlineTable::new()))
}

/// Sets `key` of `table` to `new` unless it is `old` already (what the
/// model read there), removes it for `None`. A replaced value keeps the
/// spacing and comments around the old one.
fn set<T: PartialEq>(
    table: &mut dyn TableLike,
    key: &str,
    old: Option<&T>,
    new: Option<&T>,
    to_value: impl Fn(&T) -> Value,
) {
    if old == new {
        return;
    }
    match new {
        None => {
            table.remove(key);
        }
        Some(new) => {
            let mut fresh = to_value(new);
            match table.get_mut(key).and_then(Item::as_value_mut) {
                Some(existing) => {
                    *fresh.decor_mut() = existing.decor().clone();
                    *existing = fresh;
                }
                None => {
                    table.insert(key, Item::Value(fresh));
                }
            }
        }
    }
}

/// The table at `key` of the document, made (as `[key]`) when missing.
fn section<'d>(doc: &'d mut DocumentMut, key: &str, implicit: bool) -> &'d mut dyn TableLike {
    let item = doc.entry(key).or_insert_with(|| {
        let mut table = Table::new();
        table.set_implicit(implicit);
        Item::Table(table)
    });
    if item.as_table_like().is_none() {
        let mut table = Table::new();
        table.set_implicit(implicit);
        *item = Item::Table(table);
    }
    // A table-like item by the two steps above.
    item.as_table_like_mut()
        .expect("the item was made a table just above")
}

fn kernel(doc: &mut DocumentMut, old: &Kernel, new: &Kernel) {
    let fields =
        |k: &Kernel| [&k.name, &k.fqdn, &k.owner].map(|f| f.as_ref().map(|s| s.value.clone()));
    if fields(old) == fields(new) {
        return;
    }
    let table = section(doc, "kernel", false);
    set(
        table,
        "name",
        value(old.name.as_ref()),
        value(new.name.as_ref()),
        |s| string(s),
    );
    set(
        table,
        "fqdn",
        value(old.fqdn.as_ref()),
        value(new.fqdn.as_ref()),
        |s| string(s),
    );
    set(
        table,
        "owner",
        value(old.owner.as_ref()),
        value(new.owner.as_ref()),
        |s| string(s),
    );
}

fn control(doc: &mut DocumentMut, old: Option<&Spanned<String>>, new: Option<&Spanned<String>>) {
    if old.is_none() && new.is_none() {
        return;
    }
    let table = section(doc, "control", false);
    set(table, "listen", value(old), value(new), |s| string(s));
    if table.is_empty() {
        doc.remove("control");
    }
}

fn mesh(doc: &mut DocumentMut, old: Option<&Mesh>, new: Option<&Mesh>) {
    let Some(new) = new else {
        if old.is_some() {
            doc.remove("mesh");
        }
        return;
    };
    let table = section(doc, "mesh", false);
    // An empty list is not written: it is what a missing key means.
    fn texts(list: &[Spanned<String>]) -> Option<Vec<String>> {
        (!list.is_empty()).then(|| list.iter().map(|s| s.value.clone()).collect())
    }
    let lists = |m: &Mesh| [texts(&m.listen), texts(&m.peers), texts(&m.offer)];
    let before = old.map(lists).unwrap_or_default();
    for ((key, old), new) in ["listen", "peers", "offer"]
        .into_iter()
        .zip(before)
        .zip(lists(new))
    {
        set(table, key, old.as_ref(), new.as_ref(), |list| strings(list));
    }
}

fn level_name(level: Option<Level>) -> &'static str {
    match level {
        None => "allow",
        Some(Level::Warning) => "warn",
        Some(Level::Error) => "deny",
    }
}

fn lints(doc: &mut DocumentMut, old: &[LintSetting], new: &[LintSetting]) {
    let setting = |list: &[LintSetting], name: &str| {
        list.iter()
            .rev()
            .find(|l| l.code.name() == name)
            .map(|l| level_name(l.level))
    };
    let changed = old.len() != new.len()
        || new
            .iter()
            .any(|l| setting(old, l.code.name()) != Some(level_name(l.level)));
    if !changed {
        return;
    }
    let table = section(doc, "lints", false);
    for lint in old {
        if setting(new, lint.code.name()).is_none() {
            table.remove(lint.code.name());
        }
    }
    for lint in new {
        let name = lint.code.name();
        set(
            table,
            name,
            setting(old, name).as_ref(),
            Some(&level_name(lint.level)),
            |l| string(l),
        );
    }
    if table.is_empty() {
        doc.remove("lints");
    }
}

/// The subtable of `parent` named `name`, made when missing; a new one is
/// placed after the tables of the same section, not at the end of the file.
fn entry_table<'t>(parent: &'t mut dyn TableLike, name: &str) -> &'t mut dyn TableLike {
    if !parent.contains_key(name) {
        let last = parent
            .iter()
            .filter_map(|(_, item)| item.as_table().and_then(Table::position))
            .max();
        let mut table = Table::new();
        table.set_position(last);
        parent.insert(name, Item::Table(table));
    }
    let item = parent
        .get_mut(name)
        .expect("the entry was inserted just above");
    if item.as_table_like().is_none() {
        *item = Item::Table(Table::new());
    }
    item.as_table_like_mut()
        .expect("the item was made a table just above")
}

/// Syncs the subtables of `[key]` named by `name` (`[servers.<name>]`,
/// `[processes.<name>]`) with `new`: the ones gone are removed, and `fill`
/// writes each remaining one, given the entry it was in `old` (if any).
fn named_tables<T>(
    doc: &mut DocumentMut,
    key: &str,
    (old, new): (&[T], &[T]),
    name: impl Fn(&T) -> &str,
    fill: impl Fn(&mut dyn TableLike, Option<&T>, &T),
) {
    if old.is_empty() && new.is_empty() {
        return;
    }
    let table = section(doc, key, true);
    for gone in old
        .iter()
        .filter(|o| !new.iter().any(|n| name(n) == name(o)))
    {
        table.remove(name(gone));
    }
    for entry in new {
        let before = old.iter().find(|o| name(o) == name(entry));
        fill(entry_table(table, name(entry)), before, entry);
    }
}

fn servers(doc: &mut DocumentMut, old: &[Server], new: &[Server]) {
    named_tables(doc, "servers", (old, new), |s| &s.name.value, server);
}

fn server(entry: &mut dyn TableLike, before: Option<&Server>, server: &Server) {
    set(
        entry,
        "type",
        before.and_then(|b| value(b.ty.as_ref())),
        value(server.ty.as_ref()),
        |s| string(s),
    );
    set(
        entry,
        "config",
        before.and_then(|b| value(b.config.as_ref())),
        value(server.config.as_ref()),
        inline_table,
    );
    set(
        entry,
        "uuid",
        before.and_then(|b| value(b.uuid.as_ref())),
        value(server.uuid.as_ref()),
        |s| string(s),
    );
    set(
        entry,
        "restart",
        before.and_then(|b| written(b.restart)).as_ref(),
        written(server.restart).as_ref(),
        |r| string(r.as_str()),
    );
    // Only `fuse = false` is written: fusing is the default.
    set(
        entry,
        "fuse",
        before.and_then(|b| (!b.fuse).then_some(false)).as_ref(),
        (!server.fuse).then_some(false).as_ref(),
        |f| Value::from(*f),
    );
}

fn processes(doc: &mut DocumentMut, old: &[Process], new: &[Process]) {
    named_tables(doc, "processes", (old, new), |p| &p.name.value, process);
}

fn process(entry: &mut dyn TableLike, before: Option<&Process>, process: &Process) {
    set(
        entry,
        "command",
        before.and_then(|b| value(b.command.as_ref())),
        value(process.command.as_ref()),
        |s| string(s),
    );
    let args = |p: &Process| (!p.args.is_empty()).then(|| p.args.clone());
    set(
        entry,
        "args",
        before.and_then(args).as_ref(),
        args(process).as_ref(),
        |a| strings(a),
    );
    let env = |p: &Process| (!p.env.is_empty()).then(|| p.env.clone());
    set(
        entry,
        "env",
        before.and_then(env).as_ref(),
        env(process).as_ref(),
        |vars| {
            let mut table = InlineTable::new();
            for (name, text) in vars {
                table.insert(name, string(text));
            }
            Value::InlineTable(table)
        },
    );
    set(
        entry,
        "restart",
        before.and_then(|b| written(b.restart)).as_ref(),
        written(process.restart).as_ref(),
        |r| string(r.as_str()),
    );
}

/// How the entries of an array of tables (`[[connections]]`, `[[routes]]`)
/// are compared and written.
trait Entries<T> {
    /// Equal in every key the model reads.
    fn same(&self, a: &T, b: &T) -> bool;
    /// The same entry changed (a fan-out that lost a consumer): edited in place.
    fn related(&self, a: &T, b: &T) -> bool;
    /// Writes the keys of `new` into `table`, which holds `old` (or nothing).
    fn fill(&self, table: &mut dyn TableLike, old: Option<&T>, new: &T);
}

/// Writes the entries of `key` in the order of `new`: an entry equal to one
/// of `old` keeps that one's text, a changed entry is edited where it was,
/// the rest are added at the end and the ones gone are removed.
fn entries<T, E: Entries<T>>(doc: &mut DocumentMut, key: &str, old: &[T], new: &[T], kind: &E) {
    let unchanged = old.len() == new.len() && old.iter().zip(new).all(|(a, b)| kind.same(a, b));
    if unchanged {
        return;
    }
    if new.is_empty() {
        doc.remove(key);
        return;
    }
    let mut tables: Vec<Option<Table>> = match doc.get(key).and_then(Item::as_array_of_tables) {
        Some(array) if array.len() == old.len() => array.iter().cloned().map(Some).collect(),
        _ => Vec::new(),
    };
    let mut taken = vec![false; tables.len()];
    // Equal entries first, then changed ones, each original used once.
    let mut matched: Vec<Option<usize>> = new
        .iter()
        .map(|n| {
            let found = (0..tables.len()).find(|&i| !taken[i] && kind.same(&old[i], n));
            if let Some(i) = found {
                taken[i] = true;
            }
            found
        })
        .collect();
    for (n, slot) in new.iter().zip(&mut matched) {
        if slot.is_none() {
            *slot = (0..tables.len()).find(|&i| !taken[i] && kind.related(&old[i], n));
            if let Some(i) = *slot {
                taken[i] = true;
            }
        }
    }
    let mut array = ArrayOfTables::new();
    for (n, slot) in new.iter().zip(matched) {
        let (mut table, before) = match slot.and_then(|i| Some((tables[i].take()?, &old[i]))) {
            Some((table, before)) => (table, Some(before)),
            None => (Table::new(), None),
        };
        kind.fill(&mut table, before, n);
        array.push(table);
    }
    doc.insert(key, Item::ArrayOfTables(array));
}

struct ConnectionEntries;

fn endpoints(side: Option<&Side>) -> Vec<&str> {
    side.map(|s| s.endpoints.iter().map(|e| e.value.as_str()).collect())
        .unwrap_or_default()
}

impl Entries<Connection> for ConnectionEntries {
    fn same(&self, a: &Connection, b: &Connection) -> bool {
        endpoints(a.from.as_ref()) == endpoints(b.from.as_ref())
            && endpoints(a.to.as_ref()) == endpoints(b.to.as_ref())
            && a.capacity == b.capacity
            && a.tap == b.tap
    }

    fn related(&self, a: &Connection, b: &Connection) -> bool {
        endpoints(a.from.as_ref()) == endpoints(b.from.as_ref())
            || endpoints(a.to.as_ref()) == endpoints(b.to.as_ref())
    }

    fn fill(&self, table: &mut dyn TableLike, old: Option<&Connection>, new: &Connection) {
        let side = |side: &Option<Side>| {
            side.as_ref().map(|s| {
                let texts: Vec<String> = s.endpoints.iter().map(|e| e.value.clone()).collect();
                (texts, s.list)
            })
        };
        let side_value = |(texts, list): &(Vec<String>, bool)| match texts.as_slice() {
            [one] if !list => string(one),
            many => strings(many),
        };
        let old_from = old.and_then(|o| side(&o.from));
        let old_to = old.and_then(|o| side(&o.to));
        set(
            table,
            "from",
            old_from.as_ref(),
            side(&new.from).as_ref(),
            side_value,
        );
        set(
            table,
            "to",
            old_to.as_ref(),
            side(&new.to).as_ref(),
            side_value,
        );
        let capacity = |c: &Connection| (c.capacity != DEFAULT_CAPACITY).then_some(c.capacity);
        set(
            table,
            "capacity",
            old.and_then(capacity).as_ref(),
            capacity(new).as_ref(),
            |c| Value::from(i64::try_from(*c).unwrap_or(i64::MAX)),
        );
        let tap = |c: &Connection| c.tap.then_some(true);
        set(
            table,
            "tap",
            old.and_then(tap).as_ref(),
            tap(new).as_ref(),
            |t| Value::from(*t),
        );
    }
}

struct RouteEntries;

impl Entries<Route> for RouteEntries {
    fn same(&self, a: &Route, b: &Route) -> bool {
        value(a.from.as_ref()) == value(b.from.as_ref())
            && same_target(a, b)
            && a.capacity == b.capacity
            && a.encoding == b.encoding
    }

    fn related(&self, a: &Route, b: &Route) -> bool {
        value(a.from.as_ref()) == value(b.from.as_ref())
    }

    fn fill(&self, table: &mut dyn TableLike, old: Option<&Route>, new: &Route) {
        set(
            table,
            "from",
            old.and_then(|o| value(o.from.as_ref())),
            value(new.from.as_ref()),
            |s| string(s),
        );
        if !old.is_some_and(|o| same_target(o, new)) {
            let mut to = InlineTable::new();
            if let Some(guest) = &new.guest {
                to.insert("guest", string(&guest.value));
            }
            if let Some(mask) = &new.mask {
                to.insert("mask", string(&mask.value));
            }
            if let Some(terminal) = &new.terminal {
                to.insert("terminal", string(&terminal.value));
            }
            table.insert("to", Item::Value(Value::InlineTable(to)));
        }
        let capacity = |r: &Route| (r.capacity != DEFAULT_CAPACITY).then_some(r.capacity);
        set(
            table,
            "capacity",
            old.and_then(capacity).as_ref(),
            capacity(new).as_ref(),
            |c| Value::from(i64::try_from(*c).unwrap_or(i64::MAX)),
        );
        let encoding = |r: &Route| (r.encoding != Encoding::default()).then_some(r.encoding);
        set(
            table,
            "encoding",
            old.and_then(encoding).as_ref(),
            encoding(new).as_ref(),
            |e| string(e.as_str()),
        );
    }
}

/// The same remote end: guest or mask, and terminal.
fn same_target(a: &Route, b: &Route) -> bool {
    value(a.guest.as_ref()) == value(b.guest.as_ref())
        && value(a.mask.as_ref()) == value(b.mask.as_ref())
        && value(a.terminal.as_ref()) == value(b.terminal.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wiring::parse;

    const PLANT: &str = r#"# The plant.
[kernel]
name = "plant"   # the kernel's name
owner = "ops"

[control]
listen = "127.0.0.1:7000"

[lints]
unconnected-input = "deny"

# Wells.
[servers.north]
type = "servers::Well"
config = { samples = 10, pressure = 182.0 }

[servers.merge]
type = "servers::Merge"
restart = "on-failure"

[servers.sink]
type = "servers::Sink"

[servers.alarm]
type = "servers::Sink"

[processes.probe]
command = "probe"
args = ["--beacon"]
env = { TOKEN = "secret" }

[mesh]
listen = ["tcp/127.0.0.1:7447"]
offer = ["alarm.input"] # from the other plant

# Into the manifold.
[[connections]]
from = "north.out"
to = "merge.input"
capacity = 16

# Fan out.
[[connections]]
from = "merge.out"
to = ["sink.input", "alarm.input"]

[[routes]]
from = "merge.alerts"
to = { guest = "g", terminal = "lines" }

[[routes]]
from = "merge.summary"
to = { mask = "*:archive:*:*:*:*:*", terminal = "lines" }
capacity = 64
encoding = "json"
"#;

    fn read(text: &str) -> Wiring {
        let (wiring, findings) = parse(text);
        assert!(
            findings.iter().all(|f| f.code.name() != "syntax"),
            "{findings:?}"
        );
        wiring
    }

    #[test]
    fn an_unchanged_model_gives_the_text_back() {
        assert_eq!(write(&read(PLANT), Some(PLANT)), PLANT);
    }

    #[test]
    fn a_fresh_text_reads_back_as_the_same_model() {
        let fresh = write(&read(PLANT), None);
        assert_eq!(write(&read(&fresh), None), fresh);
        assert_eq!(write(&read(&fresh), Some(&fresh)), fresh);
        for needle in [
            "[kernel]\nname = \"plant\"\nowner = \"ops\"\n",
            "[servers.north]\ntype = \"servers::Well\"\n",
            "restart = \"on-failure\"",
            "to = [\"sink.input\", \"alarm.input\"]",
            "capacity = 16",
            "to = { guest = \"g\", terminal = \"lines\" }",
            "unconnected-input = \"deny\"",
        ] {
            assert!(fresh.contains(needle), "no `{needle}` in:\n{fresh}");
        }
        for needle in [
            "[mesh]\nlisten = [\"tcp/127.0.0.1:7447\"]\noffer = [\"alarm.input\"]\n",
            "to = { mask = \"*:archive:*:*:*:*:*\", terminal = \"lines\" }\ncapacity = 64\nencoding = \"json\"\n",
        ] {
            assert!(fresh.contains(needle), "no `{needle}` in:\n{fresh}");
        }
        // Defaults are not invented.
        assert!(!fresh.contains("peers"), "{fresh}");
        assert_eq!(fresh.matches("encoding").count(), 1, "{fresh}");
    }

    #[test]
    fn changes_touch_only_what_changed() {
        let mut wiring = read(PLANT);
        // The alarm leaves the fan-out.
        let fan = &mut wiring.connections[1];
        if let Some(to) = &mut fan.to {
            to.endpoints.pop();
        }
        // A new config for the well, a new connection, a process gone.
        if let Some(config) = &mut wiring.servers[0].config {
            config
                .value
                .insert("samples".into(), toml::Value::Integer(20));
        }
        wiring
            .connections
            .push(Connection::new(&["north.alarms"], &["alarm.input"], 4));
        if let Some(alarms) = wiring.connections.last_mut() {
            alarms.tap = true;
        }
        wiring.processes.clear();
        let text = write(&wiring, Some(PLANT));
        let expected = PLANT
            .replace(
                "{ samples = 10, pressure = 182.0 }",
                "{ pressure = 182.0, samples = 20 }",
            )
            .replace(
                "to = [\"sink.input\", \"alarm.input\"]",
                "to = [\"sink.input\"]",
            )
            .replace(
                "[processes.probe]\ncommand = \"probe\"\nargs = [\"--beacon\"]\nenv = { TOKEN = \"secret\" }\n\n",
                "",
            );
        assert!(
            text.starts_with(&expected[..expected.find("[mesh]").unwrap_or(0)]),
            "{text}"
        );
        assert!(
            text.contains(
                "# Fan out.\n[[connections]]\nfrom = \"merge.out\"\nto = [\"sink.input\"]\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "[[connections]]\nfrom = \"north.alarms\"\nto = \"alarm.input\"\ncapacity = 4\ntap = true\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("[mesh]\nlisten = [\"tcp/127.0.0.1:7447\"]"),
            "{text}"
        );
        assert!(!text.contains("probe"), "{text}");
        // And it reads back as the changed model.
        assert_eq!(write(&read(&text), Some(&text)), text);
        assert_eq!(read(&text).connections.len(), 3);
    }

    #[test]
    fn a_new_server_goes_after_the_others() {
        let mut wiring = read(PLANT);
        let mut spare = wiring.servers[2].clone();
        spare.name = Spanned::unplaced("spare".into());
        wiring.servers.push(spare);
        let text = write(&wiring, Some(PLANT));
        let spare = text.find("[servers.spare]").unwrap_or(usize::MAX);
        assert!(
            text.find("[servers.alarm]")
                .is_some_and(|alarm| alarm < spare),
            "{text}"
        );
        assert!(
            text.find("[processes.probe]").is_some_and(|p| spare < p),
            "{text}"
        );
    }

    #[test]
    fn kernel_control_and_lints_are_edited_in_place() {
        let mut wiring = read(PLANT);
        wiring.kernel.owner = None;
        wiring.control.listen = None;
        wiring.lints.clear();
        let text = write(&wiring, Some(PLANT));
        assert!(
            text.starts_with("# The plant.\n[kernel]\nname = \"plant\"   # the kernel's name\n\n"),
            "{text}"
        );
        assert!(
            !text.contains("[control]") && !text.contains("[lints]"),
            "{text}"
        );
    }

    #[test]
    fn mesh_and_routes_are_edited_in_place() {
        let mut wiring = read(PLANT);
        let Some(mesh) = &mut wiring.mesh else {
            panic!("no [mesh] read");
        };
        mesh.peers
            .push(Spanned::unplaced("tcp/127.0.0.1:7448".into()));
        mesh.listen.clear();
        wiring.routes[1].encoding = Encoding::Postcard;
        wiring.routes[1].capacity = 8;
        wiring
            .routes
            .push(Route::to_guest("merge.out", "h", "input"));
        let text = write(&wiring, Some(PLANT));
        assert!(
            text.contains(
                "[mesh]\noffer = [\"alarm.input\"] # from the other plant\npeers = [\"tcp/127.0.0.1:7448\"]\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "terminal = \"lines\" }\ncapacity = 8\n\n[[routes]]\nfrom = \"merge.out\""
            ),
            "{text}"
        );
        assert!(!text.contains("encoding"), "{text}");
        let back = read(&text);
        assert_eq!(back.routes.len(), 3);
        assert_eq!(
            back.routes[2].guest.as_ref().map(|g| g.value.as_str()),
            Some("h")
        );
        assert_eq!(back.mesh.map(|m| m.peers.len()), Some(1));
        // A mesh removed from the model leaves the file.
        let mut gone = read(PLANT);
        gone.mesh = None;
        assert!(!write(&gone, Some(PLANT)).contains("[mesh]"));
    }
}
