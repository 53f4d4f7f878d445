//! The generated file written out directly as formatted text.
//!
//! Going through tokens, `syn` and prettyplease costs about a microsecond
//! per token, seconds for a wiring of 10,000 servers. The file is regular,
//! so it is written here line by line, in exactly the layout the token path
//! gives (tests compare the two on generated plans). Plans this writer does
//! not cover (names that need raw identifiers or are not identifiers, lines
//! long enough for prettyplease to break them) return `None`, and the
//! caller takes the token path.

use std::collections::HashMap;
use std::fmt::Write as _;

use wiring_model::Restart;

use super::{HEADER, ident};
use crate::plan::{Plan, ServerPlan};

/// The longest `manifest: &<..>::MANIFEST,` line kept on one line here.
const MANIFEST_LINE_MAX: usize = 89;
/// The longest `config: ::core::option::Option::Some(..),` line that
/// prettyplease keeps on one line (its trailing comma does not count against
/// the margin of 89); longer ones it breaks after `Some(`.
const SOME_LINE_MAX: usize = 90;
/// The same for `control: ..`, which is not the last field: its comma counts.
const CONTROL_LINE_MAX: usize = 89;
/// The longest `{ty},` line in a config test kept as is here.
const TEST_TYPE_LINE_MAX: usize = 89;

/// A string literal exactly as the token path prints it.
fn lit(text: &str) -> String {
    proc_macro2::Literal::string(text).to_string()
}

/// `crate::a::B` for `a::B` when every segment is a plain identifier.
fn plain_type(path: &str) -> Option<String> {
    let mut out = String::from("crate");
    for segment in path.split("::") {
        let id = ident(segment)?.to_string();
        if id.starts_with("r#") {
            return None;
        }
        out.push_str("::");
        out.push_str(&id);
    }
    Some(out)
}

/// Names written into statements: no character that could confuse the
/// statement joining of the token path (`,)`, `,>`) or need escaping.
fn plain_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

fn restart(restart: Restart) -> &'static str {
    match restart {
        Restart::Never => "::kernel::Restart::Never",
        Restart::OnFailure => "::kernel::Restart::OnFailure",
        Restart::Always => "::kernel::Restart::Always",
    }
}

/// Memoised type paths and port functions: few distinct ones, many uses.
#[derive(Default)]
struct Names<'p> {
    types: HashMap<&'p str, Option<String>>,
    ports: HashMap<&'p str, Option<String>>,
}

impl<'p> Names<'p> {
    fn ty(&mut self, path: &'p str) -> Option<String> {
        self.types
            .entry(path)
            .or_insert_with(|| plain_type(path))
            .clone()
    }

    fn port(&mut self, terminal: &'p str) -> Option<String> {
        self.ports
            .entry(terminal)
            .or_insert_with(|| {
                let id = ident(&manifest_syntax::port_fn_name(terminal))?.to_string();
                (!id.starts_with("r#")).then_some(id)
            })
            .clone()
    }
}

fn server_spec(out: &mut String, server: &ServerPlan, ty: &str) -> Option<()> {
    let manifest = format!("            manifest: &<{ty} as ::kernel::Manifest>::MANIFEST,");
    if manifest.len() > MANIFEST_LINE_MAX {
        return None;
    }
    out.push_str("        ::kernel::ServerSpec {\n");
    let _ = writeln!(out, "            name: {},", lit(&server.name));
    let _ = writeln!(out, "            type_path: {},", lit(&server.type_path));
    out.push_str(&manifest);
    out.push('\n');
    let _ = writeln!(
        out,
        "            uuid: ::kernel::Uuid::from_u128(0x{:032x}),",
        server.uuid.as_u128()
    );
    let _ = writeln!(out, "            identity: {},", lit(&server.identity));
    let _ = writeln!(out, "            restart: {},", restart(server.restart));
    match &server.config {
        Some(config) => {
            let config = lit(config);
            let line = format!("            config: ::core::option::Option::Some({config}),");
            if line.len() <= SOME_LINE_MAX {
                out.push_str(&line);
                out.push('\n');
            } else {
                out.push_str("            config: ::core::option::Option::Some(\n");
                let _ = writeln!(out, "                {config},");
                out.push_str("            ),\n");
            }
        }
        None => out.push_str("            config: ::core::option::Option::None,\n"),
    }
    out.push_str("        },\n");
    Some(())
}

/// The generated file, or `None` when the plan needs the token path.
pub(super) fn emit(plan: &Plan) -> Option<String> {
    let mut names = Names::default();
    let mut types: HashMap<&str, String> = HashMap::new();
    let mut by_name: HashMap<&str, &ServerPlan> = HashMap::with_capacity(plan.servers.len());
    for server in &plan.servers {
        let identifier_like = server
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if server.name.is_empty() || !identifier_like {
            return None;
        }
        let ty = names.ty(&server.type_path)?;
        types.entry(server.type_path.as_str()).or_insert(ty);
        by_name.entry(server.name.as_str()).or_insert(server);
    }
    let mut out = String::with_capacity(1024 + plan.servers.len() * 900 + plan.pipes.len() * 600);
    out.push_str(HEADER);
    out.push('\n');
    out.push_str(
        "/// The static description of this kernel: servers, terminals and pipes, each with its id.\n\
         pub static CONNECTOME: ::kernel::Spec = ::kernel::Spec {\n    kernel: ::kernel::KernelSpec {\n",
    );
    let _ = writeln!(out, "        name: {},", lit(&plan.kernel.name));
    let _ = writeln!(out, "        fqdn: {},", lit(&plan.kernel.fqdn));
    let _ = writeln!(out, "        owner: {},", lit(&plan.kernel.owner));
    out.push_str("    },\n");
    if plan.servers.is_empty() {
        out.push_str("    servers: &[],\n");
    } else {
        out.push_str("    servers: &[\n");
        for server in &plan.servers {
            server_spec(&mut out, server, types.get(server.type_path.as_str())?)?;
        }
        out.push_str("    ],\n");
    }
    if plan.pipes.is_empty() {
        out.push_str("    pipes: &[],\n");
    } else {
        out.push_str("    pipes: &[\n");
        for pipe in &plan.pipes {
            out.push_str("        ::kernel::PipeSpec {\n");
            let _ = writeln!(
                out,
                "            id: ::kernel::Uuid::from_u128(0x{:032x}),",
                pipe.id.as_u128()
            );
            for (side, end) in [("from", &pipe.from), ("to", &pipe.to)] {
                let _ = writeln!(out, "            {side}: ::kernel::Endpoint {{");
                let _ = writeln!(out, "                server: {},", lit(&end.server));
                let _ = writeln!(out, "                terminal: {},", lit(&end.terminal));
                out.push_str("            },\n");
            }
            let _ = writeln!(out, "            capacity: {},", pipe.capacity);
            out.push_str("        },\n");
        }
        out.push_str("    ],\n");
    }
    match &plan.control {
        Some(listen) => {
            let listen = lit(listen);
            let line = format!("    control: ::core::option::Option::Some({listen}),");
            if line.len() <= CONTROL_LINE_MAX {
                out.push_str(&line);
                out.push('\n');
            } else {
                out.push_str("    control: ::core::option::Option::Some(\n");
                let _ = writeln!(out, "        {listen},");
                out.push_str("    ),\n");
            }
        }
        None => out.push_str("    control: ::core::option::Option::None,\n"),
    }
    // Processes are few; their layout is left to the token path.
    if !plan.processes.is_empty() {
        return None;
    }
    out.push_str("    processes: &[],\n");
    out.push_str("    mesh: ::core::option::Option::None,\n");
    out.push_str("    routes: &[],\n");
    out.push_str(
        "};\n\n/// Builds the kernel wired by the wiring file: every server, every pipe.\n\
         pub fn kernel() -> ::core::result::Result<::kernel::Kernel, ::kernel::Error> {\n    \
         let mut builder = ::kernel::KernelBuilder::new(&CONNECTOME);\n",
    );
    for server in &plan.servers {
        let ty = types.get(server.type_path.as_str())?;
        let call = if server.config.is_some() {
            "server"
        } else {
            "server_default"
        };
        let _ = writeln!(out, "    builder.{call}::<{ty}>({})?;", lit(&server.name));
    }
    for pipe in &plan.pipes {
        let type_of = |server: &str| -> Option<&String> {
            types.get(by_name.get(server)?.type_path.as_str())
        };
        let (from_ty, to_ty) = (type_of(&pipe.from.server)?, type_of(&pipe.to.server)?);
        let from_fn = names.port(&pipe.from.terminal)?;
        let to_fn = names.port(&pipe.to.terminal)?;
        let (from, to) = (pipe.from.to_string(), pipe.to.to_string());
        if !plain_name(&from) || !plain_name(&to) {
            return None;
        }
        let _ = writeln!(
            out,
            "    builder.connect({}, {from_ty}::{from_fn}(), {}, {to_ty}::{to_fn}())?;",
            lit(&from),
            lit(&to)
        );
    }
    out.push_str("    builder.build()\n}\n");
    let tested: Vec<(usize, &ServerPlan)> = plan
        .servers
        .iter()
        .enumerate()
        .filter(|(_, s)| s.config.is_some())
        .collect();
    if !tested.is_empty() {
        out.push_str("\n#[cfg(test)]\nmod tests {\n");
        for (i, server) in tested {
            let ty = types.get(server.type_path.as_str())?;
            if format!("            {ty},").len() > TEST_TYPE_LINE_MAX {
                return None;
            }
            let _ = write!(
                out,
                "    #[test]\n    fn config_of_{}_deserializes() {{\n        \
                 if let ::core::result::Result::Err(e) = ::kernel::executor::check_config::<\n            \
                 {ty},\n        >(&super::CONNECTOME.servers[{i}]) {{\n            \
                 panic!(\"{{e}}\");\n        }}\n    }}\n",
                server.name
            );
        }
        out.push_str("}\n");
    }
    Some(out)
}
