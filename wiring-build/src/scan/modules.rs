//! Follows `mod` declarations from the crate roots, like rustc does.

use std::fs;
use std::path::{Path, PathBuf};

use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;

use super::{Item, MacroCall, ModPath, Module, Scan, ServerType, configs};
use crate::error::Error;

/// Scans the crate `roots` (`src/lib.rs`, `src/main.rs`) following `mod`
/// declarations, then every `.rs` file under `extra_dirs` not reached yet;
/// all of them make up the crate the kernel is included in.
pub fn scan(roots: &[PathBuf], extra_dirs: &[PathBuf]) -> Result<Scan, Error> {
    let mut scan = Scan::default();
    for root in roots {
        add_crate(&mut scan, root, Vec::new())?;
    }
    for dir in extra_dirs {
        let mut files = Vec::new();
        rust_files(dir, &mut files)?;
        files.sort();
        let mut walker = Walker::new(&mut scan, dir);
        for file in files {
            let relative = file.strip_prefix(dir).unwrap_or(&file);
            let (module, mod_rs) = module_of(relative);
            walker.file(&file, module, mod_rs)?;
        }
    }
    Ok(scan)
}

/// Adds the crate whose root file is `root` to `scan`, its modules under
/// `prefix` (empty for the crate the kernel is included in, `["::name"]`
/// for another crate).
pub fn add_crate(scan: &mut Scan, root: &Path, prefix: ModPath) -> Result<(), Error> {
    let base = root.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    Walker::new(scan, &base).file(root, prefix, true)
}

/// Adds a dependency's crate like [`add_crate`], skipping the files that
/// cannot be read or parsed and the modules that cannot be found: the
/// dependency builds without our help, and a server in a skipped file is
/// reported as not found.
pub fn add_dependency_crate(scan: &mut Scan, root: &Path, prefix: ModPath) -> Result<(), Error> {
    let base = root.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let mut walker = Walker::new(scan, &base);
    walker.lenient = true;
    walker.file(root, prefix, true)
}

/// The module path of a file found under an extra source folder, and whether it
/// is a `mod.rs`-like file (`a/b/mod.rs` is `a::b`, `a/c.rs` is `a::c`).
fn module_of(relative: &Path) -> (ModPath, bool) {
    let mut module: ModPath = relative
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let stem = relative
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let mod_rs = matches!(stem, "mod" | "lib" | "main");
    if !mod_rs {
        module.push(stem.to_string());
    }
    (module, mod_rs)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io = |source| Error::Io {
        action: "list",
        path: dir.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Where a module's `mod x;` children are looked for.
struct Dirs {
    /// `mod x;` is `child_dir/x.rs` or `child_dir/x/mod.rs`.
    child_dir: PathBuf,
    /// `#[path = "p"] mod x;` is `path_base/p`.
    path_base: PathBuf,
}

struct Walker<'s> {
    scan: &'s mut Scan,
    /// Files are named relative to this folder in messages.
    base: PathBuf,
    /// Skips what cannot be scanned instead of failing.
    lenient: bool,
}

fn join(module: &ModPath, name: &str) -> String {
    if module.is_empty() {
        name.to_string()
    } else {
        format!("{}::{name}", module.join("::"))
    }
}

impl<'s> Walker<'s> {
    fn new(scan: &'s mut Scan, base: &Path) -> Self {
        Walker {
            scan,
            base: base.to_path_buf(),
            lenient: false,
        }
    }

    /// Scans one file holding module `module`.
    fn file(&mut self, path: &Path, module: ModPath, mod_rs: bool) -> Result<(), Error> {
        match self.read(path, module, mod_rs) {
            Err(Error::Io { .. } | Error::RustSyntax { .. }) if self.lenient => Ok(()),
            result => result,
        }
    }

    fn read(&mut self, path: &Path, module: ModPath, mod_rs: bool) -> Result<(), Error> {
        let key = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.scan.seen.insert(key) {
            return Ok(());
        }
        let text = fs::read_to_string(path).map_err(|source| Error::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        self.scan.files.push(path.to_path_buf());
        let file = syn::parse_file(&text).map_err(|e| {
            let start = e.span().start();
            Error::RustSyntax {
                path: path.to_path_buf(),
                line: start.line,
                column: start.column + 1,
                message: e.to_string(),
            }
        })?;
        let parent = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
        let child_dir = if mod_rs {
            parent.clone()
        } else {
            let stem = path
                .file_stem()
                .map(|s| s.to_os_string())
                .unwrap_or_default();
            parent.join(stem)
        };
        let dirs = Dirs {
            child_dir,
            path_base: parent,
        };
        self.items(&file.items, module, &dirs, path)
    }

    fn items(
        &mut self,
        items: &[syn::Item],
        module: ModPath,
        dirs: &Dirs,
        file: &Path,
    ) -> Result<(), Error> {
        let mut info = Module {
            file: file.to_path_buf(),
            ..Module::default()
        };
        let mut children = Vec::new();
        for item in items {
            match item {
                syn::Item::Struct(s) => {
                    let name = s.ident.unraw().to_string();
                    let params = s.generics.type_params().count();
                    info.items.insert(name.clone(), Item::Struct { params });
                    let derives = configs::derives(&s.attrs);
                    if derives.iter().any(|d| d == "Deserialize") && params == 0 {
                        self.scan
                            .config_structs
                            .insert(join(&module, &name), configs::config_struct(s, &module));
                    }
                    self.scan.derives.insert(join(&module, &name), derives);
                    if manifest_syntax::derives_manifest(&s.attrs) {
                        let path = join(&module, &name);
                        let input = syn::DeriveInput::from(s.clone());
                        match manifest_syntax::parse(&input) {
                            Ok(def) => {
                                self.scan.broken.remove(&path);
                                self.scan.servers.insert(
                                    path.clone(),
                                    ServerType {
                                        path,
                                        module: module.clone(),
                                        def,
                                    },
                                );
                            }
                            Err(_) => {
                                self.scan.broken.insert(path);
                            }
                        }
                    }
                }
                syn::Item::Enum(e) => {
                    let params = e.generics.type_params().count();
                    info.items
                        .insert(e.ident.unraw().to_string(), Item::Enum { params });
                }
                syn::Item::Type(t) => {
                    let params = t
                        .generics
                        .type_params()
                        .map(|p| p.ident.unraw().to_string())
                        .collect();
                    info.items.insert(
                        t.ident.unraw().to_string(),
                        Item::Alias {
                            ty: t.ty.clone(),
                            params,
                        },
                    );
                }
                syn::Item::Union(u) => {
                    info.items.insert(u.ident.unraw().to_string(), Item::Other);
                }
                syn::Item::Trait(t) => {
                    info.items.insert(t.ident.unraw().to_string(), Item::Other);
                }
                syn::Item::Mod(m) => {
                    info.items.insert(m.ident.unraw().to_string(), Item::Module);
                    children.push(m);
                }
                syn::Item::Use(u) => use_tree(&u.tree, Vec::new(), &mut info),
                syn::Item::Impl(i) => {
                    let transform = match &i.trait_ {
                        Some((path, _)) => {
                            path.segments.last().is_some_and(|s| s.ident == "Transform")
                        }
                        _ => false,
                    };
                    if transform {
                        self.scan
                            .transform_impls
                            .push((module.clone(), (*i.self_ty).clone()));
                    }
                    if let Some(found) = configs::server_impl(i, &module) {
                        self.scan.server_impls.push(found);
                    } else if let Some(ty) = configs::default_impl(i) {
                        self.scan.default_impls.push((module.clone(), ty));
                    }
                }
                // A macro that may write items the scan cannot see.
                syn::Item::Macro(m) if m.ident.is_none() => {
                    let name = m
                        .mac
                        .path
                        .segments
                        .iter()
                        .map(|s| s.ident.unraw().to_string())
                        .collect::<Vec<_>>()
                        .join("::");
                    let shown = file.strip_prefix(&self.base).unwrap_or(file);
                    info.macros.push(MacroCall {
                        name,
                        file: shown.display().to_string(),
                        line: m.mac.path.span().start().line,
                    });
                }
                _ => {}
            }
        }
        let entry = self.scan.modules.entry(module.clone()).or_default();
        if entry.file.as_os_str().is_empty() {
            entry.file = info.file;
        }
        entry.items.extend(info.items);
        entry.uses.extend(info.uses);
        entry.globs.extend(info.globs);
        entry.macros.extend(info.macros);
        for child in children {
            self.module(child, &module, dirs, file)?;
        }
        Ok(())
    }

    fn module(
        &mut self,
        item: &syn::ItemMod,
        parent: &ModPath,
        dirs: &Dirs,
        file: &Path,
    ) -> Result<(), Error> {
        let name = item.ident.unraw().to_string();
        let path_attr = path_attribute(&item.attrs);
        let mut module = parent.clone();
        module.push(name.clone());
        if let Some((_, items)) = &item.content {
            let dir = match &path_attr {
                Some(p) => dirs.path_base.join(p),
                None => dirs.child_dir.join(&name),
            };
            let inner = Dirs {
                child_dir: dir.clone(),
                path_base: dir,
            };
            return self.items(items, module, &inner, file);
        }
        let candidates = match &path_attr {
            Some(p) => vec![(dirs.path_base.join(p), true)],
            None => vec![
                (dirs.child_dir.join(format!("{name}.rs")), false),
                (dirs.child_dir.join(&name).join("mod.rs"), true),
            ],
        };
        match candidates.iter().find(|(c, _)| c.is_file()) {
            Some((found, mod_rs)) => self.file(found, module, *mod_rs),
            // A module behind `#[cfg(..)]` may well not exist on this platform.
            None if self.lenient || item.attrs.iter().any(|a| a.path().is_ident("cfg")) => Ok(()),
            None => {
                let start = item.ident.span().start();
                Err(Error::ModuleNotFound {
                    module: module.join("::"),
                    declared_in: file.to_path_buf(),
                    line: start.line,
                    column: start.column + 1,
                    candidates: candidates.into_iter().map(|(c, _)| c).collect(),
                })
            }
        }
    }
}

/// The string of `#[path = ".."]`, if any.
fn path_attribute(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| {
        if !attr.path().is_ident("path") {
            return None;
        }
        let syn::Meta::NameValue(nv) = &attr.meta else {
            return None;
        };
        match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        }
    })
}

fn use_tree(tree: &syn::UseTree, prefix: Vec<String>, module: &mut Module) {
    match tree {
        syn::UseTree::Path(p) => {
            let mut prefix = prefix;
            prefix.push(p.ident.unraw().to_string());
            use_tree(&p.tree, prefix, module);
        }
        syn::UseTree::Name(n) => {
            let ident = n.ident.unraw().to_string();
            if ident == "self" {
                if let Some(last) = prefix.last() {
                    module.uses.insert(last.clone(), prefix.clone());
                }
            } else {
                let mut path = prefix;
                path.push(ident.clone());
                module.uses.insert(ident, path);
            }
        }
        syn::UseTree::Rename(r) => {
            let rename = r.rename.unraw().to_string();
            if rename == "_" {
                return;
            }
            let ident = r.ident.unraw().to_string();
            let mut path = prefix;
            if ident != "self" {
                path.push(ident);
            }
            module.uses.insert(rename, path);
        }
        syn::UseTree::Glob(_) => module.globs.push(prefix),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                use_tree(tree, prefix.clone(), module);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir()
                .join(format!("wiring-build-scan-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            TempDir(dir)
        }

        fn write(&self, path: &str, text: &str) {
            let path = self.0.join(path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
            }
            fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn server(name: &str, message: &str) -> String {
        format!(
            "#[derive(Manifest)]\n#[manifest(class = 1, owner = \"ops\")]\npub struct {name} {{ pub out: Output<{message}> }}\n"
        )
    }

    #[test]
    fn follows_every_kind_of_mod() {
        let dir = TempDir::new("mods");
        dir.write(
            "src/lib.rs",
            "mod a;\nmod b;\nmod inline { mod deep; pub struct X; }\n#[path = \"other/place.rs\"] mod moved;\n#[cfg(windows)] mod absent;\n",
        );
        dir.write("src/a.rs", &format!("mod nested;\n{}", server("A", "f64")));
        dir.write("src/a/nested.rs", &server("Nested", "u8"));
        dir.write(
            "src/b/mod.rs",
            &format!("mod c;\n{}", server("B", "String")),
        );
        dir.write("src/b/c.rs", &server("C", "Vec<u8>"));
        dir.write("src/inline/deep.rs", &server("Deep", "u8"));
        dir.write(
            "src/other/place.rs",
            &format!("mod sub;\n{}", server("Moved", "u8")),
        );
        dir.write("src/other/sub.rs", &server("Sub", "u8"));
        let scan = scan(&[dir.0.join("src/lib.rs")], &[]).unwrap_or_else(|e| panic!("{e}"));
        let servers: Vec<&str> = scan.servers.keys().map(String::as_str).collect();
        assert_eq!(
            servers,
            [
                "a::A",
                "a::nested::Nested",
                "b::B",
                "b::c::C",
                "inline::deep::Deep",
                "moved::Moved",
                "moved::sub::Sub"
            ]
        );
        assert_eq!(scan.files.len(), 8);
        assert!(scan.is_type("inline::X"));
        assert!(!scan.is_type("inline::Y"));
    }

    #[test]
    fn records_aliases_uses_and_broken_manifests() {
        let dir = TempDir::new("items");
        dir.write(
            "src/main.rs",
            "use crate::msgs::{self, Reading as R};\nuse std::collections::*;\npub type Alias = Vec<u8>;\nmod msgs { pub struct Reading; }\n#[derive(Manifest)]\npub struct Broken { pub x: u8 }\n",
        );
        let scan = scan(&[dir.0.join("src/main.rs")], &[]).unwrap_or_else(|e| panic!("{e}"));
        let root = &scan.modules[&Vec::new()];
        assert_eq!(root.uses["msgs"], ["crate", "msgs"]);
        assert_eq!(root.uses["R"], ["crate", "msgs", "Reading"]);
        assert_eq!(
            root.globs,
            [vec!["std".to_string(), "collections".to_string()]]
        );
        assert!(matches!(root.items["Alias"], Item::Alias { .. }));
        assert!(scan.broken.contains("Broken"));
        assert!(scan.is_broken("Broken"));
    }

    #[test]
    fn missing_module_and_bad_syntax_are_errors() {
        let dir = TempDir::new("errors");
        dir.write("src/lib.rs", "mod gone;\n");
        let err = scan(&[dir.0.join("src/lib.rs")], &[]).err();
        assert!(matches!(err, Some(Error::ModuleNotFound { ref module, .. }) if module == "gone"));
        dir.write("src/lib.rs", "struct {\n");
        let err = scan(&[dir.0.join("src/lib.rs")], &[]).err();
        assert!(
            matches!(err, Some(Error::RustSyntax { line: 1, .. })),
            "{err:?}"
        );
        let err = scan(&[dir.0.join("src/nothing.rs")], &[]).err();
        assert!(matches!(err, Some(Error::Io { .. })));
    }

    #[test]
    fn extra_folders_get_module_paths_from_their_layout() {
        let dir = TempDir::new("extra");
        dir.write("src/lib.rs", "");
        dir.write("gen/plant/mod.rs", &server("Plant", "u8"));
        dir.write("gen/plant/pump.rs", &server("Pump", "u8"));
        let scan = scan(&[dir.0.join("src/lib.rs")], &[dir.0.join("gen")])
            .unwrap_or_else(|e| panic!("{e}"));
        let servers: Vec<&str> = scan.servers.keys().map(String::as_str).collect();
        assert_eq!(servers, ["plant::Plant", "plant::pump::Pump"]);
    }
}
