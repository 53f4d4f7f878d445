//! Decides, where it can, whether two message types are the same type.
//!
//! A type is resolved from the module it is written in to a canonical text:
//! primitives as they are, well-known std types by one spelling (`String`,
//! `std::collections::HashMap<K, V>`), scanned structs and enums by their path
//! from the crate root (`crate::msgs::Reading`), `type` aliases expanded, and
//! composites (tuples, arrays, slices, references, generics) of those. Anything
//! else (a type from another crate, a glob import we cannot see through, a
//! macro) is undecidable: `None`, and the check is left to rustc.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use crate::scan::{Item, ModPath, Scan, crate_root};

const MAX_DEPTH: usize = 32;

const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
    "i128", "isize", "f32", "f64",
];

/// Types the std prelude puts in scope, by name.
const PRELUDE: &[&str] = &["String", "Vec", "Option", "Result", "Box"];

/// What `kernel::prelude::*` brings in; none is a message type we can decide.
const KERNEL_PRELUDE: &[&str] = &[
    "Combine",
    "Context",
    "Input",
    "Manifest",
    "Multiplex",
    "Output",
    "SendError",
    "Server",
    "ServerError",
];

/// Well-known std paths (with `core`/`alloc` already read as `std`) and the
/// canonical spelling of the type they name.
const STD_TYPES: &[(&str, &str)] = &[
    ("std::string::String", "String"),
    ("std::vec::Vec", "Vec"),
    ("std::option::Option", "Option"),
    ("std::result::Result", "Result"),
    ("std::boxed::Box", "Box"),
    ("std::collections::HashMap", "std::collections::HashMap"),
    (
        "std::collections::hash_map::HashMap",
        "std::collections::HashMap",
    ),
    ("std::collections::BTreeMap", "std::collections::BTreeMap"),
    (
        "std::collections::btree_map::BTreeMap",
        "std::collections::BTreeMap",
    ),
    ("std::collections::HashSet", "std::collections::HashSet"),
    (
        "std::collections::hash_set::HashSet",
        "std::collections::HashSet",
    ),
    ("std::collections::BTreeSet", "std::collections::BTreeSet"),
    (
        "std::collections::btree_set::BTreeSet",
        "std::collections::BTreeSet",
    ),
    ("std::collections::VecDeque", "std::collections::VecDeque"),
    (
        "std::collections::vec_deque::VecDeque",
        "std::collections::VecDeque",
    ),
    (
        "std::collections::BinaryHeap",
        "std::collections::BinaryHeap",
    ),
    (
        "std::collections::binary_heap::BinaryHeap",
        "std::collections::BinaryHeap",
    ),
    ("std::sync::Arc", "std::sync::Arc"),
    ("std::rc::Rc", "std::rc::Rc"),
    ("std::time::Duration", "std::time::Duration"),
    ("std::time::Instant", "std::time::Instant"),
    ("std::time::SystemTime", "std::time::SystemTime"),
    ("std::path::PathBuf", "std::path::PathBuf"),
    ("std::ffi::OsString", "std::ffi::OsString"),
    ("std::net::SocketAddr", "std::net::SocketAddr"),
    ("std::net::IpAddr", "std::net::IpAddr"),
    ("std::net::Ipv4Addr", "std::net::Ipv4Addr"),
    ("std::net::Ipv6Addr", "std::net::Ipv6Addr"),
];

/// What a path names.
#[derive(Debug, Clone)]
enum Target<'a> {
    Primitive(String),
    Std(&'static str),
    Type {
        module: ModPath,
        name: String,
    },
    Alias {
        module: ModPath,
        ty: &'a syn::Type,
        params: &'a [String],
    },
    Module(ModPath),
}

/// The outcome of looking a name up.
enum Lookup<'a> {
    Found(Target<'a>),
    /// It may exist, but we cannot tell what it is.
    Undecidable,
    NotFound,
}

/// Resolves message types against a scan.
pub struct Resolver<'a> {
    scan: &'a Scan,
    /// Names of other crates a path needed that were not scanned, with the
    /// crate root that named each.
    missing: RefCell<BTreeSet<(ModPath, String)>>,
}

impl<'a> Resolver<'a> {
    pub fn new(scan: &'a Scan) -> Self {
        Resolver {
            scan,
            missing: RefCell::new(BTreeSet::new()),
        }
    }

    /// The crates resolution looked for and did not find so far.
    pub fn missing(&self) -> BTreeSet<(ModPath, String)> {
        self.missing.borrow().clone()
    }

    /// The canonical text of `ty` written in `module`, or `None` when undecidable.
    pub fn canonical(&self, module: &ModPath, ty: &syn::Type) -> Option<String> {
        self.ty(module, ty, &HashMap::new(), 0)
    }

    /// Where the struct or enum named by `path` (from the crate root `root`,
    /// as in `type = ".."`) is defined, following `use` re-exports:
    /// `servers::Sensor` may be `servers::sensor::Sensor`.
    pub fn definition(&self, root: &ModPath, path: &str) -> Option<String> {
        let names: Vec<String> = path.split("::").map(str::to_string).collect();
        if names.iter().any(String::is_empty) {
            return None;
        }
        match self.resolve(root, &names, false, 0) {
            Lookup::Found(Target::Type { module, name }) => {
                let mut full = module;
                full.push(name);
                Some(full.join("::"))
            }
            _ => None,
        }
    }

    fn ty(
        &self,
        module: &ModPath,
        ty: &syn::Type,
        subst: &HashMap<String, String>,
        depth: usize,
    ) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        let depth = depth + 1;
        match ty {
            syn::Type::Paren(p) => self.ty(module, &p.elem, subst, depth),
            syn::Type::Group(g) => self.ty(module, &g.elem, subst, depth),
            syn::Type::Never(_) => Some("!".to_string()),
            syn::Type::Tuple(t) => {
                let elems = t
                    .elems
                    .iter()
                    .map(|e| self.ty(module, e, subst, depth))
                    .collect::<Option<Vec<_>>>()?;
                Some(match elems.len() {
                    1 => format!("({},)", elems[0]),
                    _ => format!("({})", elems.join(", ")),
                })
            }
            syn::Type::Array(a) => {
                let elem = self.ty(module, &a.elem, subst, depth)?;
                let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(len),
                    ..
                }) = &a.len
                else {
                    return None;
                };
                let len: u128 = len.base10_parse().ok()?;
                Some(format!("[{elem}; {len}]"))
            }
            syn::Type::Slice(s) => Some(format!("[{}]", self.ty(module, &s.elem, subst, depth)?)),
            syn::Type::Reference(r) => {
                let elem = self.ty(module, &r.elem, subst, depth)?;
                let lifetime = r
                    .lifetime
                    .as_ref()
                    .map(|l| format!("'{} ", l.ident))
                    .unwrap_or_default();
                let mutability = if r.mutability.is_some() { "mut " } else { "" };
                Some(format!("&{lifetime}{mutability}{elem}"))
            }
            syn::Type::Path(p) if p.qself.is_none() => self.path(module, &p.path, subst, depth),
            _ => None,
        }
    }

    fn args(
        &self,
        module: &ModPath,
        arguments: &syn::PathArguments,
        subst: &HashMap<String, String>,
        depth: usize,
    ) -> Option<Vec<String>> {
        match arguments {
            syn::PathArguments::None => Some(Vec::new()),
            syn::PathArguments::AngleBracketed(a) => a
                .args
                .iter()
                .map(|arg| match arg {
                    syn::GenericArgument::Type(t) => self.ty(module, t, subst, depth),
                    syn::GenericArgument::Lifetime(l) => Some(format!("'{}", l.ident)),
                    _ => None,
                })
                .collect(),
            syn::PathArguments::Parenthesized(_) => None,
        }
    }

    fn path(
        &self,
        module: &ModPath,
        path: &syn::Path,
        subst: &HashMap<String, String>,
        depth: usize,
    ) -> Option<String> {
        let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let last = path.segments.last()?;
        if names.len() == 1
            && path.leading_colon.is_none()
            && last.arguments.is_none()
            && let Some(found) = subst.get(&names[0])
        {
            return Some(found.clone());
        }
        // Only the last segment may carry generic arguments in a type path we decide.
        if path
            .segments
            .iter()
            .rev()
            .skip(1)
            .any(|s| !s.arguments.is_none())
        {
            return None;
        }
        let args = self.args(module, &last.arguments, subst, depth)?;
        let target = if path.leading_colon.is_some() {
            match std_path(&names) {
                Some(canonical) => Target::Std(canonical),
                None => return None,
            }
        } else {
            match self.resolve(module, &names, false, depth) {
                Lookup::Found(target) => target,
                Lookup::Undecidable | Lookup::NotFound => return None,
            }
        };
        let with_args = |base: String| {
            if args.is_empty() {
                base
            } else {
                format!("{base}<{}>", args.join(", "))
            }
        };
        match target {
            Target::Primitive(name) => args.is_empty().then_some(name),
            Target::Std(canonical) => Some(with_args(canonical.to_string())),
            Target::Type { module, name } => {
                let mut full = module;
                if crate_root(&full).is_empty() {
                    full.insert(0, "crate".to_string());
                }
                full.push(name);
                Some(with_args(full.join("::")))
            }
            Target::Alias { module, ty, params } => {
                if params.len() != args.len() {
                    return None;
                }
                let subst = params.iter().cloned().zip(args).collect();
                self.ty(&module, ty, &subst, depth + 1)
            }
            Target::Module(_) => None,
        }
    }

    /// Resolves a path written in `module`; `in_use` for the paths of `use` items.
    fn resolve(
        &self,
        module: &ModPath,
        names: &[String],
        in_use: bool,
        depth: usize,
    ) -> Lookup<'a> {
        if depth > MAX_DEPTH {
            return Lookup::Undecidable;
        }
        let Some((first, rest)) = names.split_first() else {
            return Lookup::NotFound;
        };
        if matches!(first.as_str(), "std" | "core" | "alloc") && !self.has_item(module, first) {
            return match std_path(names) {
                Some(canonical) => Lookup::Found(Target::Std(canonical)),
                None => Lookup::Undecidable,
            };
        }
        if rest.is_empty() {
            return self.name(module, first, !in_use, depth);
        }
        let mut current = match first.as_str() {
            "crate" => crate_root(module),
            "self" => module.clone(),
            "super" => {
                let mut parent = module.clone();
                if parent.pop().is_none() {
                    return Lookup::NotFound;
                }
                parent
            }
            _ => match self.name(module, first, false, depth + 1) {
                Lookup::Found(Target::Module(m)) => m,
                Lookup::Found(_) | Lookup::Undecidable => return Lookup::Undecidable,
                Lookup::NotFound => match self.extern_crate(module, first) {
                    Some(root) => root,
                    None => return Lookup::Undecidable,
                },
            },
        };
        let Some((last, middle)) = rest.split_last() else {
            return Lookup::NotFound;
        };
        for segment in middle {
            if segment == "super" {
                if current.pop().is_none() {
                    return Lookup::NotFound;
                }
                continue;
            }
            match self.name(&current, segment, false, depth + 1) {
                Lookup::Found(Target::Module(m)) => current = m,
                Lookup::Found(_) | Lookup::Undecidable => return Lookup::Undecidable,
                Lookup::NotFound => return Lookup::NotFound,
            }
        }
        self.name(&current, last, false, depth + 1)
    }

    /// The root of the crate `name` as the crate of `module` names it; an
    /// unscanned one is noted in [`Resolver::missing`].
    fn extern_crate(&self, module: &ModPath, name: &str) -> Option<ModPath> {
        let root = crate_root(module);
        let found = self
            .scan
            .externs
            .get(&root)
            .and_then(|externs| externs.get(name))
            .cloned();
        if found.is_none() && !matches!(name, "std" | "core" | "alloc" | "self" | "super") {
            self.missing.borrow_mut().insert((root, name.to_string()));
        }
        found
    }

    fn has_item(&self, module: &ModPath, name: &str) -> bool {
        self.scan
            .modules
            .get(module)
            .is_some_and(|m| m.items.contains_key(name) || m.uses.contains_key(name))
    }

    /// Looks `name` up in the scope of `module`: its items, its `use` imports,
    /// primitives, its glob imports, then (when `prelude`) the std prelude.
    fn name(&self, module: &ModPath, name: &str, prelude: bool, depth: usize) -> Lookup<'a> {
        if depth > MAX_DEPTH {
            return Lookup::Undecidable;
        }
        let Some(info) = self.scan.modules.get(module) else {
            return Lookup::Undecidable;
        };
        if let Some(item) = info.items.get(name) {
            let mut child = module.clone();
            return match item {
                Item::Struct { .. } | Item::Enum { .. } => Lookup::Found(Target::Type {
                    module: module.clone(),
                    name: name.to_string(),
                }),
                Item::Alias { ty, params } => Lookup::Found(Target::Alias {
                    module: module.clone(),
                    ty,
                    params,
                }),
                Item::Module => {
                    child.push(name.to_string());
                    Lookup::Found(Target::Module(child))
                }
                Item::Other => Lookup::Undecidable,
            };
        }
        if let Some(path) = info.uses.get(name) {
            return match self.resolve(module, path, true, depth + 1) {
                // A `use` of something we did not scan: another crate.
                Lookup::NotFound => Lookup::Undecidable,
                found => found,
            };
        }
        if prelude && PRIMITIVES.contains(&name) {
            return Lookup::Found(Target::Primitive(name.to_string()));
        }
        for glob in &info.globs {
            if glob == &["kernel".to_string(), "prelude".to_string()] {
                if KERNEL_PRELUDE.contains(&name) {
                    return Lookup::Undecidable;
                }
                continue;
            }
            let mut full = glob.clone();
            full.push(name.to_string());
            if matches!(
                glob.first().map(String::as_str),
                Some("std" | "core" | "alloc")
            ) {
                match std_path(&full) {
                    Some(canonical) => return Lookup::Found(Target::Std(canonical)),
                    None => return Lookup::Undecidable,
                }
            }
            match self.resolve(module, glob, true, depth + 1) {
                Lookup::Found(Target::Module(m)) => match self.name(&m, name, false, depth + 1) {
                    Lookup::NotFound => {}
                    found => return found,
                },
                _ => return Lookup::Undecidable,
            }
        }
        if prelude && let Some(std) = PRELUDE.iter().find(|p| **p == name) {
            return Lookup::Found(Target::Std(std));
        }
        Lookup::NotFound
    }
}

/// The canonical spelling of a well-known std path, reading `core`/`alloc` as `std`.
fn std_path(names: &[String]) -> Option<&'static str> {
    let (first, rest) = names.split_first()?;
    if !matches!(first.as_str(), "std" | "core" | "alloc") {
        return None;
    }
    let text = format!("std::{}", rest.join("::"));
    STD_TYPES
        .iter()
        .find(|(path, _)| *path == text)
        .map(|(_, canonical)| *canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Module;

    fn module(items: &[(&str, Item)], uses: &[(&str, &[&str])], globs: &[&[&str]]) -> Module {
        Module {
            items: items
                .iter()
                .map(|(n, i)| (n.to_string(), i.clone()))
                .collect(),
            uses: uses
                .iter()
                .map(|(n, p)| (n.to_string(), p.iter().map(|s| s.to_string()).collect()))
                .collect(),
            globs: globs
                .iter()
                .map(|g| g.iter().map(|s| s.to_string()).collect())
                .collect(),
            ..Module::default()
        }
    }

    fn alias(text: &str, params: &[&str]) -> Item {
        Item::Alias {
            ty: Box::new(syn::parse_str(text).unwrap_or_else(|e| panic!("{e}"))),
            params: params.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn fixture() -> Scan {
        let mut scan = Scan::default();
        scan.modules.insert(
            vec![],
            module(
                &[
                    ("msgs", Item::Module),
                    ("servers", Item::Module),
                    ("Reading", alias("f64", &[])),
                ],
                &[],
                &[],
            ),
        );
        scan.modules.insert(
            vec!["msgs".into()],
            module(
                &[
                    ("Frame", Item::Struct { params: 0 }),
                    ("Pair", alias("(T, T)", &["T"])),
                    ("Text", alias("std::string::String", &[])),
                ],
                &[],
                &[],
            ),
        );
        scan.modules.insert(
            vec!["servers".into()],
            module(
                &[("String", Item::Struct { params: 0 })],
                &[
                    ("Frame", &["crate", "msgs", "Frame"]),
                    ("Map", &["std", "collections", "HashMap"]),
                    ("Ext", &["serde_json", "Value"]),
                ],
                &[&["kernel", "prelude"]],
            ),
        );
        scan.modules
            .insert(vec!["globbed".into()], module(&[], &[], &[&["some_crate"]]));
        scan.modules.insert(
            vec!["local_glob".into()],
            module(&[], &[], &[&["crate", "msgs"]]),
        );
        scan
    }

    fn canonical(scan: &Scan, module: &[&str], text: &str) -> Option<String> {
        let ty: syn::Type = syn::parse_str(text).unwrap_or_else(|e| panic!("{e}"));
        let module: ModPath = module.iter().map(|s| s.to_string()).collect();
        Resolver::new(scan).canonical(&module, &ty)
    }

    #[test]
    fn resolves_decidable_types() {
        let scan = fixture();
        let root: &[&str] = &[];
        let servers: &[&str] = &["servers"];
        assert_eq!(canonical(&scan, root, "f64").as_deref(), Some("f64"));
        assert_eq!(canonical(&scan, root, "Reading").as_deref(), Some("f64"));
        assert_eq!(
            canonical(&scan, root, "std::string::String").as_deref(),
            Some("String")
        );
        assert_eq!(canonical(&scan, root, "String").as_deref(), Some("String"));
        assert_eq!(
            canonical(&scan, root, "msgs::Text").as_deref(),
            Some("String")
        );
        assert_eq!(
            canonical(&scan, root, "Vec<u8>").as_deref(),
            Some("Vec<u8>")
        );
        assert_eq!(
            canonical(&scan, root, "alloc::vec::Vec<(u8, msgs::Frame)>").as_deref(),
            Some("Vec<(u8, crate::msgs::Frame)>")
        );
        assert_eq!(
            canonical(&scan, root, "msgs::Pair<u8>").as_deref(),
            Some("(u8, u8)")
        );
        assert_eq!(
            canonical(&scan, root, "[u8; 0x10]").as_deref(),
            Some("[u8; 16]")
        );
        assert_eq!(
            canonical(&scan, root, "&'static str").as_deref(),
            Some("&'static str")
        );
        assert_eq!(
            canonical(&scan, servers, "Frame").as_deref(),
            Some("crate::msgs::Frame")
        );
        assert_eq!(
            canonical(&scan, servers, "super::msgs::Frame").as_deref(),
            Some("crate::msgs::Frame")
        );
        assert_eq!(
            canonical(&scan, servers, "Map<String, u8>").as_deref(),
            Some("std::collections::HashMap<crate::servers::String, u8>")
        );
        assert_eq!(
            canonical(&scan, &["local_glob"], "Frame").as_deref(),
            Some("crate::msgs::Frame")
        );
    }

    #[test]
    fn leaves_the_rest_to_rustc() {
        let scan = fixture();
        let servers: &[&str] = &["servers"];
        assert_eq!(canonical(&scan, servers, "Ext"), None);
        assert_eq!(canonical(&scan, servers, "serde_json::Value"), None);
        assert_eq!(canonical(&scan, servers, "Unknown"), None);
        assert_eq!(canonical(&scan, servers, "Input<u8>"), None);
        assert_eq!(canonical(&scan, &["globbed"], "String"), None);
        assert_eq!(canonical(&scan, &["globbed"], "u8").as_deref(), Some("u8"));
        assert_eq!(canonical(&scan, servers, "[u8; N]"), None);
        assert_eq!(canonical(&scan, servers, "<T as Tr>::X"), None);
        assert_eq!(canonical(&scan, servers, "dyn Fn()"), None);
        assert_eq!(canonical(&scan, servers, "std::fmt::Result"), None);
    }

    #[test]
    fn alias_cycles_end() {
        let mut scan = Scan::default();
        scan.modules.insert(
            vec![],
            module(&[("A", alias("B", &[])), ("B", alias("A", &[]))], &[], &[]),
        );
        assert_eq!(canonical(&scan, &[], "A"), None);
    }
}
