//! A server's `config` table against its `Config` type (`impl Server for X
//! { type Config = .. }`), where the scanned sources decide it: keys the
//! struct does not read, values of the wrong type, required fields missing
//! (E0105), and a server without `config` whose `Config` has no `Default`
//! (E0106). What they cannot decide (a type from elsewhere, a `Deserialize`
//! written by hand, `flatten`) is left to the generated config tests and
//! to the kernel's boot.

use std::collections::HashMap;

use toml::Spanned;
use toml::de::{DeTable, DeValue};
use wiring_model::names::closest;

use super::Linter;
use super::types::Resolver;
use crate::diagnostic::{Code, Finding};
use crate::scan::ServerType;
use crate::scan::configs::{ConfigField, ConfigStruct};

/// Derives that cannot implement `Default`: with only these (and no
/// `impl Default`), a type surely has none.
const KNOWN_DERIVES: &[&str] = &[
    "Debug",
    "Clone",
    "Copy",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Hash",
    "Deserialize",
    "Serialize",
];

/// What a Rust type, by its canonical text, accepts.
enum Expect<'a> {
    Bool,
    Integer {
        min: i128,
        max: i128,
    },
    Float,
    String,
    Option(&'a str),
    Array(&'a str),
    Map,
    Struct(&'a ConfigStruct),
    /// Anything: the lint cannot tell.
    Unknown,
}

/// A server's config being checked: names for messages.
struct Place<'s> {
    server: &'s str,
    /// The key path inside the config, `limits.max`; empty at the top.
    path: String,
}

impl Place<'_> {
    /// Element `index` of the array at this place.
    fn item(&self, index: usize) -> Place<'_> {
        Place {
            server: self.server,
            path: format!("{}[{index}]", self.path),
        }
    }

    fn at(&self, key: &str) -> Place<'_> {
        Place {
            server: self.server,
            path: if self.path.is_empty() {
                key.to_string()
            } else {
                format!("{}.{key}", self.path)
            },
        }
    }
}

/// `a::b::C` for the canonical `crate::a::b::C`, the key of the scan's maps.
fn scan_key(canonical: &str) -> &str {
    canonical.strip_prefix("crate::").unwrap_or(canonical)
}

/// The last segment of a type path, for messages.
fn short(canonical: &str) -> &str {
    let base = canonical.split('<').next().unwrap_or(canonical);
    base.rsplit("::").next().unwrap_or(base)
}

/// `a string`, `an integer`: a TOML type name as the schema errors say it.
fn with_article(type_str: &str) -> String {
    match type_str.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {type_str}"),
        _ => format!("a {type_str}"),
    }
}

/// The value of `servers.<instance>.config` in the wiring file, by
/// instance: one pass over the servers table (a search of it per instance is
/// quadratic in large kernels).
fn config_values<'d, 'i>(document: &'d DeTable<'i>) -> HashMap<&'d str, &'d Spanned<DeValue<'i>>> {
    let get = |table: &'d DeTable<'i>, key: &str| {
        table
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| v)
    };
    let Some(servers) = get(document, "servers").and_then(|s| s.get_ref().as_table()) else {
        return HashMap::new();
    };
    servers
        .iter()
        .filter_map(|(name, instance)| {
            let config = get(instance.get_ref().as_table()?, "config")?;
            Some((name.get_ref().as_ref(), config))
        })
        .collect()
}

impl<'a> Linter<'a> {
    pub(super) fn configs(&mut self) {
        let Ok(document) = DeTable::parse(self.source) else {
            return;
        };
        let document = document.into_inner();
        let values = config_values(&document);
        let resolver = Resolver::new(self.scan);
        // By server type: resolving it is the same for each of its instances.
        let mut config_types: HashMap<&str, Option<String>> = HashMap::new();
        for (i, server) in self.wiring.servers.iter().enumerate() {
            let Some(ty) = self.types[i] else {
                continue;
            };
            let config = config_types
                .entry(ty.path.as_str())
                .or_insert_with(|| self.config_type(&resolver, ty));
            let Some(config) = config.clone() else {
                continue;
            };
            let place = Place {
                server: &server.name.value,
                path: String::new(),
            };
            match values.get(server.name.value.as_str()).copied() {
                // A `config` that is no table is a schema error already.
                Some(value) if server.config.is_some() => {
                    self.check(&resolver, &config, value, &place);
                }
                None if server.config.is_none()
                    && self.has_default(&resolver, &config) == Some(false) =>
                {
                    self.missing_config(i, &config);
                }
                Some(_) | None => {}
            }
        }
    }

    /// The canonical text of the `Config` of server type `ty`.
    fn config_type(&self, resolver: &Resolver, ty: &ServerType) -> Option<String> {
        self.scan.server_impls.iter().find_map(|found| {
            let self_ty = resolver.canonical(&found.module, &found.self_ty)?;
            (scan_key(&self_ty) == ty.path)
                .then(|| resolver.canonical(&found.module, &found.config))
                .flatten()
        })
    }

    fn expect(&self, canonical: &'a str) -> Expect<'a> {
        let inner = |prefix: &str| {
            canonical
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix('>'))
        };
        if let Some(inner) = inner("Option<") {
            return Expect::Option(inner);
        }
        if let Some(inner) = inner("Vec<") {
            return Expect::Array(inner);
        }
        if inner("std::collections::HashMap<").is_some()
            || inner("std::collections::BTreeMap<").is_some()
        {
            return Expect::Map;
        }
        let int = |min: i128, max: i128| Expect::Integer { min, max };
        match canonical {
            "bool" => Expect::Bool,
            "u8" => int(0, u8::MAX.into()),
            "u16" => int(0, u16::MAX.into()),
            "u32" => int(0, u32::MAX.into()),
            "u64" | "usize" => int(0, u64::MAX.into()),
            "u128" => int(0, i128::MAX),
            "i8" => int(i8::MIN.into(), i8::MAX.into()),
            "i16" => int(i16::MIN.into(), i16::MAX.into()),
            "i32" => int(i32::MIN.into(), i32::MAX.into()),
            "i64" | "i128" | "isize" => int(i64::MIN.into(), i64::MAX.into()),
            "f32" | "f64" => Expect::Float,
            "String" | "std::path::PathBuf" => Expect::String,
            _ => match self.scan.config_structs.get(scan_key(canonical)) {
                Some(found) if !found.opaque => Expect::Struct(found),
                _ => Expect::Unknown,
            },
        }
    }

    fn check(
        &mut self,
        resolver: &Resolver,
        canonical: &str,
        value: &Spanned<DeValue>,
        place: &Place,
    ) {
        let found = value.get_ref();
        let wrong = |expected: String| {
            let what = if place.path.is_empty() {
                "the config".to_string()
            } else {
                format!("`{}` in the config", place.path)
            };
            Finding::new(
                Code::BadConfig,
                value.span(),
                format!("wrong type for {what} of server `{}`", place.server),
            )
            .label(format!(
                "expected {expected}, found {}",
                with_article(found.type_str())
            ))
        };
        let finding = match self.expect(canonical) {
            Expect::Unknown | Expect::Map => None,
            Expect::Bool => (!found.is_bool()).then(|| wrong("a boolean".into())),
            Expect::Float => {
                (!found.is_float() && !found.is_integer()).then(|| wrong("a number".into()))
            }
            Expect::String => (!found.is_str()).then(|| wrong("a string".into())),
            Expect::Integer { min, max } => match found.as_integer() {
                None => Some(wrong(format!("an integer (`{canonical}`)"))),
                Some(int) => {
                    let number =
                        i128::from_str_radix(&int.as_str().replace('_', ""), int.radix()).ok();
                    number.filter(|n| *n < min || *n > max).map(|n| {
                        Finding::new(
                            Code::BadConfig,
                            value.span(),
                            format!(
                                "`{}` in the config of server `{}` is out of range",
                                place.path, place.server
                            ),
                        )
                        .label(if n < 0 && min == 0 {
                            format!("`{canonical}` takes no negative numbers")
                        } else {
                            format!("{n} does not fit in `{canonical}` ({min}..={max})")
                        })
                    })
                }
            },
            Expect::Option(inner) => {
                self.check(resolver, inner, value, place);
                None
            }
            Expect::Array(inner) => match found.as_array() {
                None => Some(wrong(format!("an array (`{canonical}`)"))),
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.check(resolver, inner, item, &place.item(i));
                    }
                    None
                }
            },
            Expect::Struct(config) => match found.as_table() {
                None => Some(wrong(format!("a table (`{}`)", short(canonical)))),
                Some(table) => {
                    self.check_struct(resolver, config, canonical, table, value.span(), place);
                    None
                }
            },
        };
        if let Some(finding) = finding {
            let finding = if place.path.is_empty() {
                finding
            } else {
                finding.note(format!("`{}` is read as `{canonical}`", place.path))
            };
            self.report(finding);
        }
    }

    fn check_struct(
        &mut self,
        resolver: &Resolver,
        config: &ConfigStruct,
        canonical: &str,
        table: &DeTable,
        span: std::ops::Range<usize>,
        place: &Place,
    ) {
        let name = short(canonical);
        let keys: Vec<&str> = config.fields.iter().map(|f| f.key.as_str()).collect();
        for (key, value) in table {
            let field = config.fields.iter().find(|f| {
                f.key == key.get_ref().as_ref()
                    || f.aliases.iter().any(|a| a == key.get_ref().as_ref())
            });
            let Some(field) = field else {
                let key_text = key.get_ref().as_ref();
                let finding = Finding::new(
                    Code::BadConfig,
                    key.span(),
                    format!(
                        "unknown key `{}` in the config of server `{}`",
                        place.at(key_text).path,
                        place.server
                    ),
                )
                .label(format!("`{name}` has no field `{key_text}`"));
                let finding = match closest(key_text, keys.iter().copied()) {
                    Some(near) => {
                        finding.help(format!("a field with a similar name exists: `{near}`"))
                    }
                    None if keys.is_empty() => {
                        finding.help(format!("`{name}` has no fields: remove the key"))
                    }
                    None => finding.help(format!(
                        "the fields of `{name}`: {}",
                        super::quoted_list(&keys.iter().map(|k| k.to_string()).collect::<Vec<_>>())
                    )),
                };
                self.report(finding);
                continue;
            };
            let Some(ty) = &field.ty else {
                continue;
            };
            if let Some(field_type) = resolver.canonical(&config.module, ty) {
                self.check(resolver, &field_type, value, &place.at(&field.key));
            }
        }
        let present = |field: &ConfigField| {
            table.iter().any(|(k, _)| {
                let k = k.get_ref().as_ref();
                field.key == k || field.aliases.iter().any(|a| a == k)
            })
        };
        for field in config.fields.iter().filter(|f| !f.optional) {
            if present(field) {
                continue;
            }
            let finding = Finding::new(
                Code::BadConfig,
                span.clone(),
                format!(
                    "missing field `{}` in the config of server `{}`",
                    place.at(&field.key).path,
                    place.server
                ),
            )
            .label(format!("`{name}` requires `{}`", field.key))
            .help(format!(
                "add `{} = ..`, or give the field `#[serde(default)]`",
                field.key
            ));
            self.report(finding);
        }
    }

    /// Whether the type has `Default`; `None` when the scan cannot tell.
    fn has_default(&self, resolver: &Resolver, canonical: &str) -> Option<bool> {
        match self.expect(canonical) {
            Expect::Bool
            | Expect::Integer { .. }
            | Expect::Float
            | Expect::String
            | Expect::Option(_)
            | Expect::Array(_)
            | Expect::Map => return Some(true),
            Expect::Struct(_) | Expect::Unknown => {}
        }
        if canonical == "()" {
            return Some(true);
        }
        let key = scan_key(canonical);
        let derives = self.scan.derives.get(key)?;
        if derives.iter().any(|d| d == "Default") {
            return Some(true);
        }
        if derives.iter().any(|d| !KNOWN_DERIVES.contains(&d.as_str())) {
            return None;
        }
        let implemented = self.scan.default_impls.iter().any(|(module, ty)| {
            resolver
                .canonical(module, ty)
                .is_some_and(|found| found == canonical)
        });
        Some(implemented)
    }

    fn missing_config(&mut self, server: usize, canonical: &str) {
        let instance = &self.wiring.servers[server];
        let name = short(canonical);
        let required: Vec<String> = match self.expect(canonical) {
            Expect::Struct(config) => config
                .fields
                .iter()
                .filter(|f| !f.optional)
                .map(|f| format!("{} = ..", f.key))
                .collect(),
            _ => Vec::new(),
        };
        let example = if required.is_empty() {
            "config = { .. }".to_string()
        } else {
            format!("config = {{ {} }}", required.join(", "))
        };
        let finding = Finding::new(
            Code::MissingConfig,
            instance.name.span.clone(),
            format!(
                "server `{}` has no `config`, and its `Config` type `{name}` has no `Default`",
                instance.name.value
            ),
        )
        .label("needs a `config` table")
        .help(format!(
            "add `{example}` to `[servers.{}]`, or implement `Default` for `{name}`",
            instance.name.value
        ));
        self.report(finding);
    }
}
