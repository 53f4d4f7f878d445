//! Scans a crate's sources with syn for the structs deriving `Manifest`.
//!
//! Starting at the crate roots, `mod` declarations are followed the way rustc
//! follows them (`foo.rs`, `foo/mod.rs`, nested directories for non-`mod.rs`
//! parents, inline `mod a { .. }`, `#[path = ".."]`). Every module's struct,
//! enum and type alias names and its `use` imports are recorded, for the type
//! check of the lints.
//!
//! The crate the kernel is included in is the root of the module paths.
//! Other crates whose servers it wires (the package's library when the
//! kernel is in its binary, libraries of servers it depends on) are scanned
//! under a first segment `::name`, and reached through [`Scan::externs`].

pub mod configs;
mod crates;
mod dependencies;
mod modules;
mod package;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

use manifest_syntax::ManifestDef;

use crate::lint::types::Resolver;

pub use crates::{add_dependencies, package};
pub use dependencies::Dependencies;
pub use modules::{add_crate, add_dependency_crate, scan};
pub use package::Package;

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
    /// The other crates each scanned crate can name, by its crate root
    /// (`[]` for the crate the kernel is in): extern name -> crate root.
    pub externs: BTreeMap<ModPath, BTreeMap<String, ModPath>>,
    /// The package's library, when the kernel is included in its binary: a
    /// `type` not found from the binary's root is looked up from there.
    pub library: Option<ModPath>,
    /// Structs deriving `Deserialize`, by path (like [`Scan::servers`]).
    pub config_structs: BTreeMap<String, configs::ConfigStruct>,
    /// The derives of every struct, by path.
    pub derives: BTreeMap<String, Vec<String>>,
    /// `impl Server for X` blocks with their `type Config`.
    pub server_impls: Vec<configs::ServerImpl>,
    /// `impl Default for X` blocks: the module and the type as written.
    pub default_impls: Vec<(ModPath, syn::Type)>,
    /// First segments of `type` paths that are neither in the crate nor
    /// libraries it depends on (looked up in `cargo metadata`).
    pub not_dependencies: BTreeSet<String>,
    /// Files scanned already (canonical paths).
    seen: HashSet<PathBuf>,
}

/// The root of the modules of the crate that `module` is in.
pub fn crate_root(module: &[String]) -> ModPath {
    match module.first() {
        Some(first) if first.starts_with("::") => vec![first.clone()],
        _ => Vec::new(),
    }
}

impl Scan {
    /// Where the struct or enum a `type` path names is defined (its key in
    /// [`Scan::servers`]): from the crate root, else from the package's library.
    fn definition(&self, path: &str) -> Option<String> {
        let resolver = Resolver::new(self);
        resolver.definition(&Vec::new(), path).or_else(|| {
            let library = self.library.as_ref()?;
            resolver.definition(library, path)
        })
    }

    /// The server type at `path` (`servers::Sensor`), directly or through `pub use`.
    pub fn server(&self, path: &str) -> Option<&ServerType> {
        self.servers
            .get(path)
            .or_else(|| self.servers.get(&self.definition(path)?))
    }

    /// The Rust path by which the crate the kernel is in names the type at
    /// `path`: `crate::servers::Sensor`, `::fieldlib::Thermo`, or the
    /// library's `::plant::servers::Sensor` for a kernel in a binary.
    pub fn rust_path(&self, path: &str) -> String {
        let resolver = Resolver::new(self);
        let first = path.split("::").next().unwrap_or_default();
        let local = self
            .modules
            .get(&Vec::new())
            .is_some_and(|m| m.items.contains_key(first) || m.uses.contains_key(first));
        if resolver.definition(&Vec::new(), path).is_some() {
            let extern_crate = self
                .externs
                .get(&Vec::new())
                .is_some_and(|e| e.contains_key(first));
            return if !local && extern_crate {
                format!("::{path}")
            } else {
                format!("crate::{path}")
            };
        }
        match &self.library {
            Some(library) if resolver.definition(library, path).is_some() => {
                format!("{}::{path}", library.join("::"))
            }
            _ => format!("crate::{path}"),
        }
    }

    /// The extern crate names that resolving `path` (a `type`) needed and
    /// did not find, with the crate root that named each.
    pub fn missing_externs(&self, path: &str) -> BTreeSet<(ModPath, String)> {
        let resolver = Resolver::new(self);
        let _ = resolver.definition(&Vec::new(), path);
        if let Some(library) = &self.library {
            let _ = resolver.definition(library, path);
        }
        resolver.missing()
    }

    /// The macro invocations of the module a `type` path would be in (its
    /// path without the last segment), if that module was scanned.
    pub fn macros_near(&self, path: &str) -> &[MacroCall] {
        let mut module: Vec<&str> = path.split("::").collect();
        module.pop();
        let module: ModPath = module.iter().map(|s| (*s).to_string()).collect();
        self.modules
            .get(&module)
            .map_or(&[][..], |m| m.macros.as_slice())
    }

    /// Every path that names a server type: where it is defined, and where it
    /// is re-exported with `use` (`servers::Sensor` for `servers::sensor::Sensor`),
    /// as a `type` would write it (`fieldlib::Thermo` for another crate's).
    pub fn server_paths(&self) -> Vec<String> {
        let resolver = Resolver::new(self);
        let mut paths: Vec<String> = self.servers.keys().cloned().collect();
        for (module, info) in &self.modules {
            let root = crate_root(module);
            for name in info.uses.keys() {
                let mut path = module[root.len()..].to_vec();
                path.push(name.clone());
                if resolver
                    .definition(&root, &path.join("::"))
                    .is_some_and(|d| self.servers.contains_key(&d))
                {
                    paths.push(
                        root.iter()
                            .chain(&path)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join("::"),
                    );
                }
            }
        }
        let mut paths: Vec<String> = paths
            .into_iter()
            .map(|p| p.strip_prefix("::").map(str::to_string).unwrap_or(p))
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    /// True when `path` names a struct deriving `Manifest` whose manifest does
    /// not parse, directly or through `pub use`.
    pub fn is_broken(&self, path: &str) -> bool {
        self.broken.contains(path)
            || self
                .definition(path)
                .is_some_and(|defined| self.broken.contains(&defined))
    }

    /// True when the server type at `path` (`stages::Scale`, or a path that
    /// re-exports it) implements `Transform`: an `impl` block whose trait
    /// path ends in `Transform` names it.
    pub fn is_transform(&self, path: &str) -> bool {
        let Some(defined) = self.definition(path) else {
            return false;
        };
        let resolver = crate::lint::types::Resolver::new(self);
        // Canonical texts of the kernel's crate's types start with `crate::`.
        self.transform_impls.iter().any(|(module, ty)| {
            resolver
                .canonical(module, ty)
                .is_some_and(|t| t.strip_prefix("crate::").unwrap_or(&t) == defined)
        })
    }

    /// True when `path` (`a::B`) names a struct or an enum in the scanned sources.
    pub fn is_type(&self, path: &str) -> bool {
        self.definition(path).is_some()
    }

    /// True when `path` names a struct or enum with type parameters.
    pub fn is_generic(&self, path: &str) -> bool {
        let Some(defined) = self.definition(path) else {
            return false;
        };
        let mut segments: Vec<String> = defined.split("::").map(str::to_string).collect();
        if defined.starts_with("::") {
            // `::name::a::B` splits into "", "name", ...: the root is `::name`.
            segments.remove(0);
            if let Some(first) = segments.first_mut() {
                *first = format!("::{first}");
            }
        }
        let Some(name) = segments.pop() else {
            return false;
        };
        self.modules.get(&segments).is_some_and(|m| {
            matches!(
                m.items.get(&name),
                Some(Item::Struct { params } | Item::Enum { params }) if *params > 0
            )
        })
    }
}

/// A macro invoked where items go (`make_server!(Thermo);`): what it writes
/// is not in the scanned sources.
#[derive(Debug, Clone)]
pub struct MacroCall {
    /// The macro's path, `make_server`.
    pub name: String,
    /// The file, relative to its crate's root folder, and the line.
    pub file: String,
    /// The line of the call, from 1.
    pub line: usize,
}

/// A struct deriving `Manifest`, with its parsed manifest.
#[derive(Debug, Clone)]
pub struct ServerType {
    /// `servers::Sensor`.
    pub path: String,
    /// The module the struct is in: `["servers"]`.
    pub module: ModPath,
    /// What `#[derive(Manifest)]` and `#[manifest]` declare.
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
    /// Macros invoked where items go.
    pub macros: Vec<MacroCall>,
    /// The file the module is in.
    pub file: PathBuf,
}

/// A named item of a module.
#[derive(Debug, Clone)]
pub enum Item {
    /// A struct; `params` counts its generic type parameters.
    Struct {
        /// The number of generic type parameters.
        params: usize,
    },
    /// An enum; `params` counts its generic type parameters.
    Enum {
        /// The number of generic type parameters.
        params: usize,
    },
    /// `type X = ..;`; `params` counts its generic type parameters.
    Alias {
        /// The aliased type.
        ty: Box<syn::Type>,
        /// The names of its generic type parameters.
        params: Vec<String>,
    },
    /// A child module (declared `mod x;` or inline).
    Module,
    /// A union, trait or anything else that is not a message type we can decide.
    Other,
}
