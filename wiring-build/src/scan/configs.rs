//! How serde reads a struct deriving `Deserialize`, and which `impl Server`
//! and `impl Default` blocks there are, so that the lints can check a
//! server's `config` table against its `Config` type.

use syn::ext::IdentExt as _;
use syn::punctuated::Punctuated;

use super::ModPath;

/// A struct deriving `serde::Deserialize`, as its derive reads a table.
#[derive(Debug, Clone)]
pub struct ConfigStruct {
    /// The module it is in, where its field types are written.
    pub module: ModPath,
    /// The fields serde reads, in declaration order.
    pub fields: Vec<ConfigField>,
    /// Attributes we do not model (`flatten`, `from`, an unknown `rename_all`,
    /// a field `with`/`deserialize_with` is fine): the keys cannot be judged.
    pub opaque: bool,
}

/// One field as serde reads it.
#[derive(Debug, Clone)]
pub struct ConfigField {
    /// The key in the table (after `rename` / `rename_all`).
    pub key: String,
    /// Other keys it accepts (`alias`).
    pub aliases: Vec<String>,
    /// The Rust type, unless `with` / `deserialize_with` reads it.
    pub ty: Option<syn::Type>,
    /// Absent is fine: `#[serde(default)]` on it or the struct, or an `Option`.
    pub optional: bool,
}

/// `impl Server for X { type Config = T; }`, as written in `module`.
#[derive(Debug, Clone)]
pub struct ServerImpl {
    /// The module the `impl` is written in (where `T`'s path resolves).
    pub module: ModPath,
    /// `X`, the server type, as written.
    pub self_ty: syn::Type,
    /// `T`, the config type, as written.
    pub config: syn::Type,
}

/// The last segments of the derives on `attrs`: `Deserialize`, `Default`.
pub fn derives(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .filter_map(|a| {
            a.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .filter_map(|p| p.segments.last().map(|s| s.ident.unraw().to_string()))
        .collect()
}

/// The serde view of `item`, a struct deriving `Deserialize`.
pub fn config_struct(item: &syn::ItemStruct, module: &ModPath) -> ConfigStruct {
    let mut opaque = !matches!(item.fields, syn::Fields::Named(_));
    let mut all_default = false;
    let mut rename_all: Option<String> = None;
    for attr in item.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                all_default = true;
                if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::LitStr>()?;
                }
            } else if meta.path.is_ident("rename_all") {
                rename_all = deserialize_name(&meta)?.or(rename_all.take());
            } else if meta.path.is_ident("deny_unknown_fields") || meta.path.is_ident("crate") {
                if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::LitStr>()?;
                }
            } else {
                // `from`, `try_from`, `transparent`, `tag`, ...: not modelled.
                opaque = true;
                skip_value(&meta)?;
            }
            Ok(())
        });
        opaque |= parsed.is_err();
    }
    let mut fields = Vec::new();
    for field in &item.fields {
        let Some(ident) = &field.ident else {
            continue;
        };
        let name = ident.unraw().to_string();
        let mut key: Option<String> = None;
        let mut aliases = Vec::new();
        let mut ty = Some(field.ty.clone());
        let mut optional = all_default || is_option(&field.ty);
        let mut skipped = false;
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
            let parsed = attr.parse_nested_meta(|meta| {
                let path = &meta.path;
                if path.is_ident("default") {
                    optional = true;
                    if meta.input.peek(syn::Token![=]) {
                        meta.value()?.parse::<syn::LitStr>()?;
                    }
                } else if path.is_ident("rename") {
                    key = deserialize_name(&meta)?.or(key.take());
                } else if path.is_ident("alias") {
                    aliases.push(meta.value()?.parse::<syn::LitStr>()?.value());
                } else if path.is_ident("skip") || path.is_ident("skip_deserializing") {
                    skipped = true;
                } else if path.is_ident("with") || path.is_ident("deserialize_with") {
                    ty = None;
                    meta.value()?.parse::<syn::LitStr>()?;
                } else if path.is_ident("flatten") {
                    opaque = true;
                } else {
                    // `skip_serializing_if`, `serialize_with`, `borrow`, ...
                    skip_value(&meta)?;
                }
                Ok(())
            });
            opaque |= parsed.is_err();
        }
        if skipped {
            continue;
        }
        let key = match (key, &rename_all) {
            (Some(key), _) => key,
            (None, Some(rule)) => match rename(&name, rule) {
                Some(key) => key,
                None => {
                    opaque = true;
                    name
                }
            },
            (None, None) => name,
        };
        fields.push(ConfigField {
            key,
            aliases,
            ty,
            optional,
        });
    }
    ConfigStruct {
        module: module.clone(),
        fields,
        opaque,
    }
}

/// The name of `rename = ".."` / `rename_all = ".."`, or of its
/// `deserialize = ".."` in the `(serialize = .., deserialize = ..)` form.
fn deserialize_name(meta: &syn::meta::ParseNestedMeta) -> syn::Result<Option<String>> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(Some(meta.value()?.parse::<syn::LitStr>()?.value()));
    }
    let mut name = None;
    meta.parse_nested_meta(|inner| {
        let value = inner.value()?.parse::<syn::LitStr>()?.value();
        if inner.path.is_ident("deserialize") {
            name = Some(value);
        }
        Ok(())
    })?;
    Ok(name)
}

/// Consumes `= value` or `(..)` after an attribute we do not model.
fn skip_value(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_value(&inner))?;
    }
    Ok(())
}

/// `Option<..>` as written (serde lets an absent `Option` field be `None`).
fn is_option(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        _ => false,
    }
}

/// A snake_case field name under serde's `rename_all` rule.
fn rename(field: &str, rule: &str) -> Option<String> {
    let words = || field.split('_').filter(|w| !w.is_empty());
    let capitalized = || {
        words().map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
    };
    Some(match rule {
        "lowercase" | "snake_case" => field.to_lowercase(),
        "UPPERCASE" | "SCREAMING_SNAKE_CASE" => field.to_uppercase(),
        "PascalCase" => capitalized().collect(),
        "camelCase" => {
            let pascal: String = capitalized().collect();
            let mut chars = pascal.chars();
            chars
                .next()
                .map(|c| c.to_lowercase().chain(chars).collect())
                .unwrap_or_default()
        }
        "kebab-case" => field.replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => field.replace('_', "-").to_uppercase(),
        _ => return None,
    })
}

/// The `type Config = ..;` of an `impl Server for X` block, if it is one
/// (and not generic).
pub fn server_impl(item: &syn::ItemImpl, module: &ModPath) -> Option<ServerImpl> {
    let (trait_path, _) = item.trait_.as_ref()?;
    let last = trait_path.segments.last()?;
    if last.ident != "Server" || !item.generics.params.is_empty() {
        return None;
    }
    let config = item.items.iter().find_map(|i| match i {
        syn::ImplItem::Type(t) if t.ident == "Config" => Some(t.ty.clone()),
        _ => None,
    })?;
    Some(ServerImpl {
        module: module.clone(),
        self_ty: (*item.self_ty).clone(),
        config,
    })
}

/// The type of an `impl Default for X` block, if it is one.
pub fn default_impl(item: &syn::ItemImpl) -> Option<syn::Type> {
    let (trait_path, _) = item.trait_.as_ref()?;
    (trait_path.segments.last()?.ident == "Default").then(|| (*item.self_ty).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> ConfigStruct {
        config_struct(
            &syn::parse_str(text).unwrap_or_else(|e| panic!("{e}")),
            &Vec::new(),
        )
    }

    #[test]
    fn reads_keys_as_serde_does() {
        let config = read(
            "#[serde(rename_all = \"kebab-case\")]\n\
             struct C { sample_rate: u32, #[serde(rename = \"Gain\")] gain: f64,\n\
             #[serde(default)] tag: String, note: Option<String>,\n\
             #[serde(alias = \"n\")] count: u64, #[serde(skip)] cache: u8,\n\
             #[serde(deserialize_with = \"parse\")] odd: Odd }",
        );
        assert!(!config.opaque);
        let keys: Vec<(&str, bool)> = config
            .fields
            .iter()
            .map(|f| (f.key.as_str(), f.optional))
            .collect();
        assert_eq!(
            keys,
            [
                ("sample-rate", false),
                ("Gain", false),
                ("tag", true),
                ("note", true),
                ("count", false),
                ("odd", false)
            ]
        );
        assert_eq!(config.fields[4].aliases, ["n"]);
        assert!(config.fields[5].ty.is_none());
        assert_eq!(
            rename("sample_rate", "camelCase").as_deref(),
            Some("sampleRate")
        );
        assert_eq!(
            rename("sample_rate", "PascalCase").as_deref(),
            Some("SampleRate")
        );
    }

    #[test]
    fn what_is_not_modelled_is_opaque() {
        assert!(read("struct C { #[serde(flatten)] rest: Other }").opaque);
        assert!(read("#[serde(from = \"Raw\")] struct C { a: u8 }").opaque);
        assert!(read("#[serde(rename_all = \"Title Case\")] struct C { a: u8 }").opaque);
        assert!(read("struct C(u8);").opaque);
        assert!(read("#[serde(default)] struct C { a: u8 }").fields[0].optional);
    }
}
