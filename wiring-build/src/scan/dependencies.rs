//! The package's dependencies as `cargo metadata` reports them: where each
//! library's sources are and which crates it can name, so that a `type`
//! may name a server in a library of servers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::error::Error;

/// The resolved dependency graph of a package.
#[derive(Debug, Clone)]
pub struct Dependencies {
    /// The package the build step runs for.
    root: String,
    packages: HashMap<String, Library>,
    /// Per package id: extern crate name -> package id (normal dependencies).
    names: HashMap<String, HashMap<String, String>>,
}

/// A package's library target.
#[derive(Debug, Clone)]
struct Library {
    /// Its root file (`src/lib.rs`).
    root: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<PackageJson>,
    resolve: Option<Resolve>,
}

#[derive(Deserialize)]
struct PackageJson {
    id: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    kind: Vec<String>,
    src_path: PathBuf,
}

#[derive(Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    deps: Vec<NodeDep>,
}

#[derive(Deserialize)]
struct NodeDep {
    name: String,
    pkg: String,
    dep_kinds: Vec<DepKind>,
}

#[derive(Deserialize)]
struct DepKind {
    kind: Option<String>,
}

impl Dependencies {
    /// Runs `cargo metadata` for the package in `dir` (the `cargo` running
    /// the build script, when there is one).
    pub fn of(dir: &Path) -> Result<Dependencies, Error> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let manifest = dir.join("Cargo.toml");
        let mut command = Command::new(cargo);
        command
            .args(["metadata", "--format-version", "1", "--manifest-path"])
            .arg(&manifest);
        if std::env::var_os("CARGO_NET_OFFLINE").is_some_and(|v| v == "true") {
            command.arg("--offline");
        }
        let failed = |message: String| Error::Metadata {
            manifest: manifest.clone(),
            message,
        };
        let output = command.output().map_err(|e| failed(e.to_string()))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(failed(stderr.trim().to_string()));
        }
        let metadata: Metadata =
            serde_json::from_slice(&output.stdout).map_err(|e| failed(e.to_string()))?;
        let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let wanted = canonical(&manifest);
        let root = metadata
            .packages
            .iter()
            .find(|p| canonical(&p.manifest_path) == wanted)
            .map(|p| p.id.clone())
            .ok_or_else(|| failed("the package is not in its own metadata".into()))?;
        let packages = metadata
            .packages
            .into_iter()
            .map(|p| {
                let root = p
                    .targets
                    .into_iter()
                    .find(|t| t.kind.iter().any(|k| k == "lib" || k == "rlib"))
                    .map(|t| t.src_path);
                (p.id, Library { root })
            })
            .collect();
        let names = metadata
            .resolve
            .map(|r| r.nodes)
            .unwrap_or_default()
            .into_iter()
            .map(|node| {
                let deps = node
                    .deps
                    .into_iter()
                    .filter(|d| d.dep_kinds.iter().any(|k| k.kind.is_none()))
                    .map(|d| (d.name, d.pkg))
                    .collect();
                (node.id, deps)
            })
            .collect();
        Ok(Dependencies {
            root,
            packages,
            names,
        })
    }

    /// The package the build step runs for.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The library that package `from` names `name`: its id and root file.
    pub fn library(&self, from: &str, name: &str) -> Option<(&str, &Path)> {
        let id = self.names.get(from)?.get(name)?;
        let root = self.packages.get(id)?.root.as_deref()?;
        Some((id.as_str(), root))
    }
}
