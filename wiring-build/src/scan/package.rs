//! The package the build script runs for: its library and binary roots,
//! the library's name, and which of the two includes the generated kernel.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The crate roots of a package, as cargo would find them.
#[derive(Debug, Clone)]
pub struct Package {
    /// The folder holding `Cargo.toml`.
    pub dir: PathBuf,
    /// `src/lib.rs` (or `[lib] path`) with the library's crate name.
    pub library: Option<(PathBuf, String)>,
    /// `src/main.rs`, when it exists.
    pub binary: Option<PathBuf>,
    /// The package name with `-` as `_`: the binary's crate name.
    pub name: Option<String>,
}

impl Package {
    /// The package in `dir`: its library (name from `[lib] name`, else the
    /// package name with `-` as `_`) and binary.
    pub fn at(dir: &Path) -> Result<Package, Error> {
        let manifest: Option<toml::Table> = fs::read_to_string(dir.join("Cargo.toml"))
            .ok()
            .and_then(|text| text.parse().ok());
        let field = |table: &str, key: &str| {
            manifest
                .as_ref()
                .and_then(|m| m.get(table))
                .and_then(|t| t.get(key))
                .and_then(toml::Value::as_str)
                .map(str::to_string)
        };
        let lib_path = dir.join(field("lib", "path").unwrap_or_else(|| "src/lib.rs".into()));
        let name = field("package", "name").map(|name| name.replace('-', "_"));
        let lib_name = field("lib", "name")
            .map(|name| name.replace('-', "_"))
            .or_else(|| name.clone());
        let library = match lib_name {
            Some(name) if lib_path.is_file() => Some((lib_path, name)),
            None if lib_path.is_file() => Some((lib_path, String::new())),
            _ => None,
        };
        let binary = Some(dir.join("src/main.rs")).filter(|p| p.is_file());
        if library.is_none() && binary.is_none() {
            return Err(Error::NoCrateRoot {
                dir: dir.to_path_buf(),
            });
        }
        Ok(Package {
            dir: dir.to_path_buf(),
            library,
            binary,
            name,
        })
    }
}
