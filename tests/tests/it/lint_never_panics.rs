//! Whatever a wiring file holds, linting it returns findings: it never panics.
//!
//! Random text, and the golden wiring files mutated (bytes cut, inserted,
//! replaced, lines repeated or swapped), are linted against the fixture
//! servers and rendered.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use wiring_build::scan::Scan;

fn lint_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("lint")
}

thread_local! {
    /// Syntax trees are not `Sync`: one scan per test thread.
    static SCAN: Scan = wiring_build::scan::scan(&[lint_dir().join("servers/lib.rs")], &[])
        .unwrap_or_else(|e| panic!("cannot scan the fixture servers: {e}"));
}

fn goldens() -> &'static [String] {
    static GOLDENS: OnceLock<Vec<String>> = OnceLock::new();
    GOLDENS.get_or_init(|| {
        let mut files: Vec<PathBuf> = fs::read_dir(lint_dir())
            .map(|dir| {
                dir.filter_map(|e| e.ok().map(|e| e.path().join("wiring.toml")))
                    .filter(|p| p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|f| fs::read_to_string(f).ok())
            .collect()
    })
}

/// Lints and renders; any panic fails the property.
fn lint_and_render(source: &str) {
    let (_, findings) = SCAN.with(|scan| wiring_build::lint::lint(source, scan));
    let findings = wiring_build::Findings::new("wiring.toml", source, findings);
    let rendered = findings.render();
    if findings.is_empty() {
        assert!(rendered.is_empty());
    } else {
        assert!(!rendered.is_empty());
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Replace { at: usize, with: char },
    RepeatLine { line: usize },
    SwapLines { a: usize, b: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let text = prop_oneof![
        "[\\[\\]{}=\",.:#\\n a-z0-9_-]{0,12}",
        Just("[[connections]]\nfrom = \"a.b\"\nto = [\"c.d\"]\n".to_string()),
        Just("\"".to_string()),
        Just("[servers.x]\n".to_string()),
        Just("capacity = -9223372036854775808\n".to_string()),
        Just("é\u{0}\u{7f}".to_string()),
    ];
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), text).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (any::<usize>(), any::<char>()).prop_map(|(at, with)| Mutation::Replace { at, with }),
        any::<usize>().prop_map(|line| Mutation::RepeatLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
    ]
}

fn apply(source: &str, mutation: &Mutation) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    let mut lines: Vec<String> = source.lines().map(str::to_string).collect();
    match mutation {
        Mutation::Delete { at, len } => {
            if !chars.is_empty() {
                let at = at % chars.len();
                let end = (at + len).min(chars.len());
                chars.drain(at..end);
            }
            chars.into_iter().collect()
        }
        Mutation::Insert { at, text } => {
            let at = at % (chars.len() + 1);
            chars.splice(at..at, text.chars());
            chars.into_iter().collect()
        }
        Mutation::Replace { at, with } => {
            if !chars.is_empty() {
                let at = at % chars.len();
                chars[at] = *with;
            }
            chars.into_iter().collect()
        }
        Mutation::RepeatLine { line } => {
            if !lines.is_empty() {
                let line = line % lines.len();
                let copy = lines[line].clone();
                lines.insert(line, copy);
            }
            lines.join("\n")
        }
        Mutation::SwapLines { a, b } => {
            if !lines.is_empty() {
                let (a, b) = (a % lines.len(), b % lines.len());
                lines.swap(a, b);
            }
            lines.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_text_never_panics(source in any::<String>()) {
        lint_and_render(&source);
    }

    #[test]
    fn toml_like_text_never_panics(source in "[\\[\\]{}=\",.:#\\n a-z0-9_-]{0,200}") {
        lint_and_render(&source);
    }

    #[test]
    fn mutated_goldens_never_panic(
        pick in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let goldens = goldens();
        prop_assume!(!goldens.is_empty());
        let mut source = goldens[pick % goldens.len()].clone();
        for m in &mutations {
            source = apply(&source, m);
        }
        lint_and_render(&source);
    }
}

#[test]
fn every_golden_lints_without_panicking() {
    assert!(goldens().len() >= 30);
    for source in goldens() {
        lint_and_render(source);
    }
}
