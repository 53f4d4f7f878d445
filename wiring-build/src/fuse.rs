//! Which transforms the generated kernel fuses: each chain of transforms
//! joined by one-to-one pipes runs in the thread of the server that feeds
//! it, as direct calls.
//!
//! A pipe is fused when its producer terminal is an `Output` with no other
//! consumer, its consumer is a transform (its type implements `Transform`,
//! it has one input and one output terminal, and its instance does not say
//! `fuse = false`) and the transform's input has no other producer. A chain
//! starts at a fused pipe whose producer is not itself fused into another
//! chain, and goes on while the last transform's output is such a pipe too.
//! A transform after a fan-out is not fused (it runs on its own thread, and
//! can host the transforms after it); one before a fan-in ends its chain.

use std::collections::{HashMap, HashSet};

use wiring_model::TerminalKind;
use wiring_model::wiring::Wiring;

use crate::plan::{Plan, ServerPlan};
use crate::scan::Scan;

/// One fused chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainPlan {
    /// The fused pipes in order, by index in [`Plan::pipes`]; the first is
    /// fed by the host.
    pub pipes: Vec<usize>,
    /// The transforms in order, by index in [`Plan::servers`].
    pub members: Vec<usize>,
}

impl ChainPlan {
    /// `host.out -> t1 -> t2`, for the build's note.
    pub fn describe(&self, plan: &Plan) -> String {
        let mut text = match self.pipes.first().and_then(|&i| plan.pipes.get(i)) {
            Some(pipe) => pipe.from.to_string(),
            None => String::new(),
        };
        for &member in &self.members {
            if let Some(server) = plan.servers.get(member) {
                text.push_str(" -> ");
                text.push_str(&server.name);
            }
        }
        text
    }

    /// The server whose thread runs the chain.
    pub fn host<'p>(&self, plan: &'p Plan) -> Option<&'p str> {
        let pipe = plan.pipes.get(*self.pipes.first()?)?;
        Some(&pipe.from.server)
    }
}

/// The kind of terminal `terminal` of `server`, from its scanned manifest.
fn kind(scan: &Scan, server: &ServerPlan, terminal: &str) -> Option<TerminalKind> {
    let ty = scan.server(&server.type_path)?;
    ty.def
        .terminals
        .iter()
        .find(|t| t.name == terminal)
        .map(|t| t.kind)
}

/// True when `server` can be fused: a `Transform` with one input and one
/// output terminal whose instance does not opt out.
fn fusable(scan: &Scan, wiring: &Wiring, server: &ServerPlan) -> bool {
    let opted_out = wiring
        .servers
        .iter()
        .any(|s| s.name.value == server.name && !s.fuse);
    let Some(ty) = scan.server(&server.type_path) else {
        return false;
    };
    let producers = ty.def.terminals.iter().filter(|t| t.kind.is_producer());
    let consumers = ty.def.terminals.iter().filter(|t| !t.kind.is_producer());
    !opted_out
        && producers.count() == 1
        && consumers.count() == 1
        && scan.is_transform(&server.type_path)
}

/// The chains to fuse, in the order of their first pipe.
pub fn chains(plan: &Plan, wiring: &Wiring, scan: &Scan) -> Vec<ChainPlan> {
    let index: HashMap<&str, usize> = plan
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut consumers: HashMap<(&str, &str), usize> = HashMap::new();
    let mut producers: HashMap<(&str, &str), usize> = HashMap::new();
    let mut from: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, pipe) in plan.pipes.iter().enumerate() {
        let out = (pipe.from.server.as_str(), pipe.from.terminal.as_str());
        *consumers.entry(out).or_default() += 1;
        from.entry(out).or_default().push(i);
        *producers
            .entry((pipe.to.server.as_str(), pipe.to.terminal.as_str()))
            .or_default() += 1;
    }
    let transforms: Vec<bool> = plan
        .servers
        .iter()
        .map(|s| fusable(scan, wiring, s))
        .collect();
    // The transform a pipe feeds, when the pipe can be fused.
    let fused_into = |i: usize| -> Option<usize> {
        let pipe = &plan.pipes[i];
        let (producer, consumer) = (
            *index.get(pipe.from.server.as_str())?,
            *index.get(pipe.to.server.as_str())?,
        );
        let one_to_one = consumers.get(&(&pipe.from.server, &pipe.from.terminal)) == Some(&1)
            && producers.get(&(&pipe.to.server, &pipe.to.terminal)) == Some(&1);
        let output =
            kind(scan, &plan.servers[producer], &pipe.from.terminal) == Some(TerminalKind::Output);
        let input = kind(scan, &plan.servers[consumer], &pipe.to.terminal)
            .is_some_and(|k| !k.is_producer());
        (producer != consumer && transforms[consumer] && one_to_one && output && input)
            .then_some(consumer)
    };
    let fused: Vec<Option<usize>> = (0..plan.pipes.len()).map(fused_into).collect();
    let members: HashSet<usize> = fused.iter().flatten().copied().collect();
    let mut chains = Vec::new();
    for (start, first) in fused.iter().enumerate() {
        let Some(first) = *first else { continue };
        let host = &plan.pipes[start].from.server;
        // A producer fused into another chain continues that chain instead.
        if index
            .get(host.as_str())
            .is_some_and(|h| members.contains(h))
        {
            continue;
        }
        let mut chain = ChainPlan {
            pipes: vec![start],
            members: vec![first],
        };
        let mut last = first;
        loop {
            let server = &plan.servers[last];
            let output = scan.server(&server.type_path).and_then(|ty| {
                ty.def
                    .terminals
                    .iter()
                    .find(|t| t.kind.is_producer())
                    .map(|t| t.name.as_str())
            });
            let next = output
                .and_then(|out| from.get(&(server.name.as_str(), out)))
                .and_then(|pipes| match pipes[..] {
                    [only] => fused[only].map(|member| (only, member)),
                    _ => None,
                });
            match next {
                Some((pipe, member)) if !chain.members.contains(&member) => {
                    chain.pipes.push(pipe);
                    chain.members.push(member);
                    last = member;
                }
                _ => break,
            }
        }
        chains.push(chain);
    }
    chains
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::*;

    /// A crate root holding `text`, removed on drop.
    struct Root(PathBuf);

    impl Root {
        fn new(name: &str, text: &str) -> Root {
            // Tests run in parallel: one folder each.
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!(
                "wiring-build-fuse-{name}-{}-{n}",
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
            fs::write(dir.join("lib.rs"), text).unwrap_or_else(|e| panic!("{e}"));
            Root(dir)
        }
    }

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const SERVERS: &str = "use kernel::prelude::*;\n\
        #[derive(Manifest)]\n#[manifest(class = 1, owner = \"o\")]\n\
        pub struct Source { pub out: Output<u64> }\n\
        #[derive(Manifest)]\n#[manifest(class = 2, owner = \"o\")]\n\
        pub struct Fan { pub out: Multiplex<u64> }\n\
        #[derive(Manifest)]\n#[manifest(class = 3, owner = \"o\")]\n\
        pub struct Sink { pub input: Combine<u64> }\n\
        pub mod stages {\n\
            use kernel::prelude::*;\n\
            #[derive(Manifest)]\n#[manifest(class = 4, owner = \"o\")]\n\
            pub struct Scale { pub input: Input<u64>, pub output: Output<u64> }\n\
            impl Transform for Scale {\n\
                type Config = (); type In = u64; type Out = u64;\n\
                fn new(_: ()) -> Self { todo!() }\n\
                fn process(&mut self, x: u64) -> Result<Option<u64>, ServerError> { Ok(Some(x)) }\n\
            }\n\
            #[derive(Manifest)]\n#[manifest(class = 5, owner = \"o\")]\n\
            pub struct Relay { pub input: Input<u64>, pub output: Output<u64> }\n\
        }\n";

    fn plan(wiring_text: &str) -> Plan {
        let root = Root::new("plan", SERVERS);
        let scan =
            crate::scan::scan(&[root.0.join("lib.rs")], &[]).unwrap_or_else(|e| panic!("{e}"));
        let (wiring, findings) = crate::lint::lint(wiring_text, &scan);
        assert!(
            findings.iter().all(|f| f.level != crate::Level::Error),
            "{findings:?}"
        );
        Plan::build(wiring_text, &wiring, &scan).unwrap_or_else(|e| panic!("{e}"))
    }

    fn described(plan: &Plan) -> Vec<String> {
        plan.chains.iter().map(|c| c.describe(plan)).collect()
    }

    const CHAIN: &str = "[kernel]\nname = \"k\"\n\
        [servers.src]\ntype = \"Source\"\n\
        [servers.a]\ntype = \"stages::Scale\"\n\
        [servers.b]\ntype = \"stages::Scale\"\n\
        [servers.c]\ntype = \"stages::Scale\"\n\
        [servers.sink]\ntype = \"Sink\"\n\
        [[connections]]\nfrom = \"src.out\"\nto = \"a.input\"\n\
        [[connections]]\nfrom = \"a.output\"\nto = \"b.input\"\n\
        [[connections]]\nfrom = \"b.output\"\nto = \"c.input\"\n\
        [[connections]]\nfrom = \"c.output\"\nto = \"sink.input\"\n";

    #[test]
    fn fuses_a_chain_of_transforms_into_its_source() {
        let plan = plan(CHAIN);
        assert_eq!(described(&plan), ["src.out -> a -> b -> c"]);
        assert_eq!(plan.chains[0].pipes, [0, 1, 2]);
        assert_eq!(plan.chains[0].host(&plan), Some("src"));
    }

    #[test]
    fn fuse_false_splits_the_chain() {
        let text = CHAIN.replace(
            "[servers.b]\ntype = \"stages::Scale\"\n",
            "[servers.b]\ntype = \"stages::Scale\"\nfuse = false\n",
        );
        let plan = plan(&text);
        // `b` runs on its own thread and hosts `c`.
        assert_eq!(described(&plan), ["src.out -> a", "b.output -> c"]);
    }

    #[test]
    fn only_transforms_fuse_and_never_after_a_fan_out() {
        let text = CHAIN
            .replace("type = \"Source\"", "type = \"Fan\"")
            .replace(
                "[servers.c]\ntype = \"stages::Scale\"\n",
                "[servers.c]\ntype = \"stages::Relay\"\n",
            );
        let plan = plan(&text);
        // `a` follows a multiplexer: own thread, hosting `b`; `c` is no transform.
        assert_eq!(described(&plan), ["a.output -> b"]);
    }

    #[test]
    fn a_transform_before_a_fan_in_ends_its_chain() {
        let text = format!(
            "{CHAIN}[servers.src2]\ntype = \"Source\"\n\
             [[connections]]\nfrom = \"src2.out\"\nto = \"sink.input\"\n"
        );
        let plan = plan(&text);
        assert_eq!(described(&plan), ["src.out -> a -> b -> c"]);
        let generated = crate::generate(&plan);
        for needle in [
            "builder.connect_fused(0,",
            "builder.connect(3,",
            "builder.fuse(0, ::kernel::__private::member_default::<servers::a>(\"a\").then(",
        ] {
            let squeeze = |t: &str| t.split_whitespace().collect::<String>();
            assert!(
                squeeze(&generated).contains(&squeeze(needle)),
                "no `{needle}` in {generated}"
            );
        }
        assert!(
            !generated.contains("server_default::<servers::b>"),
            "{generated}"
        );
    }
}
