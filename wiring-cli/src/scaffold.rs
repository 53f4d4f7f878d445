//! `wiring new`: a kernel crate that builds and runs, with two servers wired
//! in `wiring.toml`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const BUILD_RS: &str = r#"fn main() {
    wiring_build::compile("wiring.toml").unwrap_or_else(|e| e.exit());
}
"#;

const MAIN_RS: &str = r#"//! The kernel: its servers are in `servers`, their wiring in `wiring.toml`.

mod servers;

kernel::include_wiring!();

fn main() -> std::process::ExitCode {
    kernel::run(wiring::kernel) // until every server finishes, or ctrl-c
}
"#;

const SERVERS_RS: &str = r#"//! The servers: structs deriving `Manifest`, whose terminal fields are
//! what `wiring.toml` connects.

use kernel::prelude::*;

/// Sends 1, 2, ..., `count`.
#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Counter {
    pub numbers: Output<u64>,
    count: u64,
}

#[derive(serde::Deserialize)]
pub struct CounterConfig {
    pub count: u64,
}

impl Server for Counter {
    type Config = CounterConfig; // from `config` in wiring.toml
    fn new(config: CounterConfig) -> Self {
        Counter {
            numbers: Output::default(),
            count: config.count,
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        for n in 1..=self.count {
            if ctx.stopping() {
                break;
            }
            self.numbers.send(n)?; // blocks while the pipe is full
        }
        Ok(()) // returning closes the output: downstream sees end of stream
    }
}

/// Prints the sum of what it receives.
#[derive(Manifest)]
#[manifest(class = 0x0a02, owner = "ops")]
pub struct Total {
    pub numbers: Input<u64>,
}

impl Server for Total {
    type Config = ();
    fn new(_: ()) -> Self {
        Total {
            numbers: Input::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let sum: u64 = self.numbers.iter().sum();
        println!("sum: {sum}");
        Ok(())
    }
}
"#;

/// This command's own checkout of the wiring project, if it is still there:
/// a new crate depends on its `kernel` and `wiring-build` by path.
pub fn own_workspace() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    dir.join("kernel/Cargo.toml")
        .is_file()
        .then(|| dir.to_path_buf())
}

/// `my-kernel` for the folder `.../My Kernel`: a valid package name.
fn package_name(path: &Path) -> String {
    let raw = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('-').to_string();
    match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => name,
        Some(_) => format!("kernel-{name}"),
        None => "kernel-crate".to_string(),
    }
}

fn cargo_toml(name: &str, workspace: Option<&Path>) -> String {
    let dependency = |krate: &str| match workspace {
        Some(dir) => format!(
            "{{ path = {} }}",
            toml_string(&dir.join(krate).display().to_string())
        ),
        None => "\"0.1\"".to_string(),
    };
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [dependencies]\nkernel = {}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\n\
         [build-dependencies]\nwiring-build = {}\n",
        dependency("kernel"),
        dependency("wiring-build"),
    )
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn wiring_toml(name: &str) -> String {
    format!(
        "[kernel]\nname = \"{}\"\n\n\
         # [control]\n# listen = \"127.0.0.1:0\"   # serve the control surface (HMI, API)\n\n\
         [servers.counter]\ntype = \"servers::Counter\"   # path from the crate root\n\
         config = {{ count = 100 }}\n\n\
         [servers.total]\ntype = \"servers::Total\"\n\n\
         [[connections]]\nfrom = \"counter.numbers\"\nto = \"total.numbers\"\n",
        name.replace('-', "_")
    )
}

/// Creates the crate at `path`, which must not exist or be empty.
pub fn create(path: &Path, workspace: Option<&Path>) -> io::Result<()> {
    if path.exists() && fs::read_dir(path)?.next().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("`{}` exists and is not empty", path.display()),
        ));
    }
    let workspace = match workspace {
        Some(dir) => Some(fs::canonicalize(dir)?),
        None => None,
    };
    let name = package_name(path);
    fs::create_dir_all(path.join("src"))?;
    let files = [
        ("Cargo.toml", cargo_toml(&name, workspace.as_deref())),
        ("build.rs", BUILD_RS.to_string()),
        ("wiring.toml", wiring_toml(&name)),
        ("src/main.rs", MAIN_RS.to_string()),
        ("src/servers.rs", SERVERS_RS.to_string()),
    ];
    for (file, text) in files {
        fs::write(path.join(file), text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_are_valid() {
        assert_eq!(package_name(Path::new("/tmp/My Kernel")), "my-kernel");
        assert_eq!(package_name(Path::new("9lives")), "kernel-9lives");
        assert_eq!(package_name(Path::new("/")), "kernel-crate");
    }
}
