//! Which crates the build step scans: the crate the kernel is included in,
//! the package's library when that is its binary, and the libraries of
//! servers that `type` paths name, found through `cargo metadata`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{Dependencies, ModPath, Package, Scan, add_crate, add_dependency_crate, scan};
use crate::error::Error;

/// Scans the package in `dir` (and every `.rs` file under `extra_dirs`).
///
/// With both a library and a binary, the binary is the crate the kernel is
/// in unless only the library includes it (`include_wiring!`); the
/// library's servers are then reached as `::<library>::..`, and a `type`
/// written from the library's root (`servers::Sensor`) is found there too.
/// `Cargo.toml` counts among the scanned files: it names the dependencies.
pub fn package(dir: &Path, extra_dirs: &[PathBuf]) -> Result<Scan, Error> {
    let mut scan = crates_of(dir, extra_dirs)?;
    let manifest = dir.join("Cargo.toml");
    if manifest.is_file() {
        scan.files.push(manifest);
    }
    Ok(scan)
}

fn crates_of(dir: &Path, extra_dirs: &[PathBuf]) -> Result<Scan, Error> {
    let package = Package::at(dir)?;
    let (library, binary) = match (&package.library, &package.binary) {
        (Some(library), Some(binary)) => (library, binary),
        (Some((root, _)), None) | (None, Some(root)) => {
            return scan(std::slice::from_ref(root), extra_dirs);
        }
        (None, None) => {
            return Err(Error::NoCrateRoot {
                dir: dir.to_path_buf(),
            });
        }
    };
    let (library_root, name) = library;
    let mut both = scan(std::slice::from_ref(binary), extra_dirs)?;
    let prefix: ModPath = vec![format!("::{name}")];
    add_crate(&mut both, library_root, prefix.clone())?;
    if includes_wiring(&both, &prefix) && !includes_wiring(&both, &Vec::new()) {
        return scan(std::slice::from_ref(library_root), extra_dirs);
    }
    both.externs
        .entry(Vec::new())
        .or_default()
        .insert(name.clone(), prefix.clone());
    both.library = Some(prefix);
    Ok(both)
}

/// True when a module of the crate rooted at `root` invokes
/// `include_wiring!` (or `include!`, as the macro expands).
fn includes_wiring(scan: &Scan, root: &ModPath) -> bool {
    scan.modules
        .iter()
        .filter(|(module, _)| super::crate_root(module) == *root)
        .flat_map(|(_, m)| &m.macros)
        .any(|call| {
            let name = call.name.rsplit("::").next().unwrap_or_default();
            name == "include_wiring" || name == "include"
        })
}

/// Scans the libraries that the `types` (as written in `wiring.toml`) need
/// and the scan does not hold yet: the dependencies they name, directly or
/// through re-exports, of the package in `dir`. Asks `cargo metadata` only
/// when some type names another crate.
pub fn add_dependencies(scan: &mut Scan, types: &[&str], dir: &Path) -> Result<(), Error> {
    let mut dependencies: Option<Dependencies> = None;
    // The package each scanned crate root belongs to; `None`: this package.
    let mut owners: BTreeMap<ModPath, String> = BTreeMap::new();
    loop {
        let missing: BTreeSet<(ModPath, String)> = types
            .iter()
            .filter(|t| scan.server(t).is_none() && !scan.is_broken(t))
            .flat_map(|t| scan.missing_externs(t))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let deps = match &mut dependencies {
            Some(deps) => deps,
            None => dependencies.insert(Dependencies::of(dir)?),
        };
        let mut added = false;
        for (root, name) in missing {
            let owner = owners.get(&root).map_or(deps.root(), String::as_str);
            let Some((id, lib_root)) = deps.library(owner, &name) else {
                if root.is_empty() {
                    scan.not_dependencies.insert(name);
                }
                continue;
            };
            let prefix: ModPath = vec![format!("::{name}")];
            if !scan.modules.keys().any(|m| m.first() == prefix.first()) {
                add_dependency_crate(scan, lib_root, prefix.clone())?;
                owners.insert(prefix.clone(), id.to_string());
            }
            let externs = scan.externs.entry(root).or_default();
            added |= externs.insert(name, prefix).is_none();
        }
        if !added {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::diagnostic::{Code, Findings};

    /// Two packages under a temporary folder: `fieldlib`, a library of
    /// servers, and `app`, which depends on it by path.
    struct Workspace(PathBuf);

    impl Workspace {
        fn new(name: &str) -> Workspace {
            let dir = std::env::temp_dir()
                .join(format!("wiring-build-crates-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            let workspace = Workspace(dir);
            let package = |name: &str, deps: &str| {
                format!(
                    "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                     [workspace]\n\n[dependencies]\n{deps}"
                )
            };
            workspace.write("fieldlib/Cargo.toml", &package("fieldlib", ""));
            workspace.write(
                "fieldlib/src/lib.rs",
                "pub mod sensors;\npub use sensors::Thermo;\n#[cfg(feature = \"x\")]\nmod gone;\n",
            );
            workspace.write(
                "fieldlib/src/sensors.rs",
                "#[derive(Manifest)]\n#[manifest(class = 0x0c01, owner = \"field\")]\n\
                 pub struct Thermo { pub readings: Output<f64> }\n",
            );
            workspace.write(
                "app/Cargo.toml",
                &package("app", "fieldlib = { path = \"../fieldlib\" }\n"),
            );
            workspace.write(
                "app/src/main.rs",
                "kernel::include_wiring!();\nfn main() {}\n",
            );
            workspace
        }

        fn write(&self, path: &str, text: &str) {
            let path = self.0.join(path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
            }
            fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        }

        fn app(&self) -> PathBuf {
            self.0.join("app")
        }
    }

    impl Drop for Workspace {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn lint(app: &Path, source: &str) -> Findings {
        let mut scan = package(app, &[]).unwrap_or_else(|e| panic!("{e}"));
        let (wiring, _) = wiring_model::wiring::parse(source);
        let types: Vec<&str> = wiring
            .servers
            .iter()
            .filter_map(|s| s.ty.as_ref().map(|t| t.value.as_str()))
            .collect();
        add_dependencies(&mut scan, &types, app).unwrap_or_else(|e| panic!("{e}"));
        let findings = crate::lint::check(source, &wiring, &scan);
        Findings::new("wiring.toml", source, findings)
    }

    #[test]
    fn types_in_a_dependency_resolve_by_path_and_reexport() {
        let workspace = Workspace::new("resolve");
        let app = workspace.app();
        let mut scan = package(&app, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(scan.files.contains(&app.join("Cargo.toml")));
        let types = ["fieldlib::Thermo", "fieldlib::sensors::Thermo"];
        add_dependencies(&mut scan, &types, &app).unwrap_or_else(|e| panic!("{e}"));
        for ty in types {
            let found = scan.server(ty).map(|s| s.path.clone());
            assert_eq!(
                found.as_deref(),
                Some("::fieldlib::sensors::Thermo"),
                "{ty}"
            );
            assert_eq!(scan.rust_path(ty), format!("::{ty}"));
        }
        // The dependency's sources make the build step rerun.
        let lib = workspace.0.join("fieldlib/src/sensors.rs");
        assert!(scan.files.contains(&lib), "{:?}", scan.files);
        assert!(
            scan.server_paths()
                .contains(&"fieldlib::Thermo".to_string())
        );
    }

    #[test]
    fn unresolved_paths_into_other_crates_are_explained() {
        let workspace = Workspace::new("errors");
        let source = "[kernel]\nname = \"k\"\n\n[servers.a]\ntype = \"fieldlb::Thermo\"\n\n\
                      [servers.b]\ntype = \"nowhere::Gauge\"\n\n\
                      [servers.c]\ntype = \"fieldlib::Thermoo\"\n";
        let findings = lint(&workspace.app(), source);
        let text = findings.render();
        let errors: Vec<Code> = findings
            .codes()
            .into_iter()
            .filter(|c| *c == Code::UnknownServerType)
            .collect();
        assert_eq!(errors.len(), 3, "{text}");
        for needle in [
            "`fieldlb` is neither a module of this crate nor a library in its `[dependencies]`",
            "a server type with a similar name exists: `fieldlib::Thermo`",
            "`nowhere` is neither a module of this crate nor a library in its `[dependencies]`",
            "add the library of servers `nowhere` to `[dependencies]` in Cargo.toml",
        ] {
            assert!(text.contains(needle), "no `{needle}` in:\n{text}");
        }
    }
}
