//! Which crates the build step scans: the crate the kernel is included in,
//! the package's library when that is its binary, and the libraries of
//! servers that `type` paths name, found through `cargo metadata`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{Dependencies, ModPath, Package, Scan, add_crate, scan};
use crate::error::Error;

/// Scans the package in `dir` (and every `.rs` file under `extra_dirs`).
///
/// With both a library and a binary, the binary is the crate the kernel is
/// in unless only the library includes it (`include_wiring!`); the
/// library's servers are then reached as `::<library>::..`, and a `type`
/// written from the library's root (`servers::Sensor`) is found there too.
pub fn package(dir: &Path, extra_dirs: &[PathBuf]) -> Result<Scan, Error> {
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
                continue;
            };
            let prefix: ModPath = vec![format!("::{name}")];
            if !scan.modules.keys().any(|m| m.first() == prefix.first()) {
                add_crate(scan, lib_root, prefix.clone())?;
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
