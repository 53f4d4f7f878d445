//! Scans a crate's sources with syn for the structs deriving `Manifest`.
//!
//! Starting at the crate roots, `mod` declarations are followed the way rustc
//! follows them (`foo.rs`, `foo/mod.rs`, nested directories for non-`mod.rs`
//! parents, inline `mod a { .. }`, `#[path = ".."]`). Every module's struct,
//! enum and type alias names and its `use` imports are recorded, for the type
//! check of the lints.

mod modules;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use manifest_syntax::ManifestDef;

pub use modules::scan;

/// A module path from the crate root: `["servers", "sensor"]`; the root is empty.
pub type ModPath = Vec<String>;

/// Everything the scan found.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Every module reached, by path.
    pub modules: BTreeMap<ModPath, Module>,
    /// The structs deriving `Manifest` whose manifest parsed, by path (`servers::Sensor`).
    pub servers: BTreeMap<String, ServerType>,
    /// The structs deriving `Manifest` whose manifest did not parse; rustc reports them.
    pub broken: BTreeSet<String>,
    /// Every scanned file, for `cargo::rerun-if-changed`.
    pub files: Vec<PathBuf>,
    /// `impl .. Transform for X` blocks: the module they are in and `X`.
    pub transform_impls: Vec<(ModPath, syn::Type)>,
}

impl Scan {
    /// The server type at `path` (`servers::Sensor`), directly or through `pub use`.
    pub fn server(&self, path: &str) -> Option<&ServerType> {
        self.servers.get(path).or_else(|| {
            let defined = crate::lint::types::Resolver::new(self).definition(path)?;
            self.servers.get(&defined)
        })
    }

    /// Every path that names a server type: where it is defined, and where it
    /// is re-exported with `use` (`servers::Sensor` for `servers::sensor::Sensor`).
    pub fn server_paths(&self) -> Vec<String> {
        let resolver = crate::lint::types::Resolver::new(self);
        let mut paths: Vec<String> = self.servers.keys().cloned().collect();
        for (module, info) in &self.modules {
            for name in info.uses.keys() {
                let mut path = module.clone();
                path.push(name.clone());
                let path = path.join("::");
                if resolver
                    .definition(&path)
                    .is_some_and(|d| self.servers.contains_key(&d))
                {
                    paths.push(path);
                }
            }
        }
        paths.sort();
        paths.dedup();
        paths
    }

    /// True when `path` names a struct deriving `Manifest` whose manifest does
    /// not parse, directly or through `pub use`.
    pub fn is_broken(&self, path: &str) -> bool {
        self.broken.contains(path)
            || crate::lint::types::Resolver::new(self)
                .definition(path)
                .is_some_and(|defined| self.broken.contains(&defined))
    }

    /// True when the server type at `path` (`stages::Scale`, or a path that
    /// re-exports it) implements `Transform`: an `impl` block whose trait
    /// path ends in `Transform` names it.
    pub fn is_transform(&self, path: &str) -> bool {
        let resolver = crate::lint::types::Resolver::new(self);
        let Some(defined) = resolver.definition(path) else {
            return false;
        };
        // Canonical texts of crate types start with `crate::`.
        self.transform_impls.iter().any(|(module, ty)| {
            resolver
                .canonical(module, ty)
                .is_some_and(|t| t.strip_prefix("crate::") == Some(&defined))
        })
    }

    /// True when `path` (`a::B`) names a struct or an enum in the scanned sources.
    pub fn is_type(&self, path: &str) -> bool {
        crate::lint::types::Resolver::new(self)
            .definition(path)
            .is_some()
    }
}

/// A struct deriving `Manifest`, with its parsed manifest.
#[derive(Debug, Clone)]
pub struct ServerType {
    /// `servers::Sensor`.
    pub path: String,
    /// The module the struct is in: `["servers"]`.
    pub module: ModPath,
    pub def: ManifestDef,
}

/// What a module declares, as far as the type check needs it.
#[derive(Debug, Clone, Default)]
pub struct Module {
    /// Named items: structs, enums, type aliases, unions, traits, child modules.
    pub items: BTreeMap<String, Item>,
    /// `use a::b::C;` as `C -> [a, b, C]`; `use a::b::C as D;` as `D -> [a, b, C]`.
    pub uses: BTreeMap<String, Vec<String>>,
    /// `use a::b::*;` as `[a, b]`.
    pub globs: Vec<Vec<String>>,
    /// The file the module is in.
    pub file: PathBuf,
}

/// A named item of a module.
#[derive(Debug, Clone)]
pub enum Item {
    /// A struct; `params` counts its generic type parameters.
    Struct {
        params: usize,
    },
    Enum {
        params: usize,
    },
    /// `type X = ..;`; `params` counts its generic type parameters.
    Alias {
        ty: Box<syn::Type>,
        params: Vec<String>,
    },
    /// A child module (declared `mod x;` or inline).
    Module,
    /// A union, trait or anything else that is not a message type we can decide.
    Other,
}
