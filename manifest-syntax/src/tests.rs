//! Tests of the public API on whole structs.

use super::*;
use syn::{DeriveInput, parse_quote};

fn errors(input: DeriveInput) -> Vec<String> {
    match parse(&input) {
        Ok(def) => panic!("expected errors, parsed {def:?}"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

fn error(input: DeriveInput) -> String {
    let all = errors(input);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap_or_default()
}

#[test]
fn parses_a_full_server() {
    let input: DeriveInput = parse_quote! {
        #[derive(Debug, kernel::Manifest)]
        #[manifest(name = "flow-meter", class = 0x0a01, owner = "ops", auth = "optional", auth_mechanism = "hmac-sha256")]
        pub struct FlowMeter {
            #[terminal(name = "raw", doc = "pulses")]
            pub pulses: Input<u32>,
            pub rate: kernel::Output<f64>,
            pub alarms: Multiplex<Vec<u8>>,
            r#type: Combine<(u8, String)>,
            count: u64,
        }
    };
    assert!(derives_manifest(&input.attrs));
    let def = parse(&input).unwrap();
    assert_eq!(def.ident, "FlowMeter");
    assert_eq!(def.name, "flow-meter");
    assert_eq!(def.class, 0x0a01);
    assert_eq!(def.owner, "ops");
    assert_eq!(def.auth, Auth::Optional);
    assert_eq!(def.auth_mechanism, "hmac-sha256");
    let summary: Vec<(String, String, TerminalKind, String, String, Option<String>)> = def
        .terminals
        .iter()
        .map(|t| {
            (
                t.field.to_string(),
                t.name.clone(),
                t.kind,
                type_text(&t.ty),
                type_text(&t.message),
                t.doc.clone(),
            )
        })
        .collect();
    let expected = [
        (
            "pulses",
            "raw",
            TerminalKind::Input,
            "Input<u32>",
            "u32",
            Some("pulses"),
        ),
        (
            "rate",
            "rate",
            TerminalKind::Output,
            "kernel::Output<f64>",
            "f64",
            None,
        ),
        (
            "alarms",
            "alarms",
            TerminalKind::Multiplex,
            "Multiplex<Vec<u8>>",
            "Vec<u8>",
            None,
        ),
        (
            "r#type",
            "type",
            TerminalKind::Combine,
            "Combine<(u8, String)>",
            "(u8, String)",
            None,
        ),
    ];
    let expected: Vec<(String, String, TerminalKind, String, String, Option<String>)> = expected
        .iter()
        .map(|(f, n, k, t, m, d)| {
            (
                f.to_string(),
                n.to_string(),
                *k,
                t.to_string(),
                m.to_string(),
                d.map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(summary, expected);
}

#[test]
fn applies_defaults() {
    let def = parse(&parse_quote! {
        #[manifest(class = 1, owner = "ops")]
        struct HTTPServer { out: Output<u8> }
    })
    .unwrap();
    assert_eq!(def.name, "http_server");
    assert_eq!(def.auth, Auth::No);
    assert_eq!(def.auth_mechanism, "none");
    assert_eq!(def.terminals[0].doc, None);
}

#[test]
fn explicit_no_auth_with_none_mechanism_is_fine() {
    let def = parse(&parse_quote! {
        #[manifest(class = 1, owner = "ops", auth = "no", auth_mechanism = "none")]
        struct S { out: Output<u8> }
    })
    .unwrap();
    assert_eq!(def.auth, Auth::No);
}

#[test]
fn refuses_enums_unions_tuples_and_units() {
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "ops")]
            enum E { A }
        }),
        "`#[derive(Manifest)]` needs a struct with named fields, not an enum"
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "ops")]
            union U { a: u8 }
        }),
        "`#[derive(Manifest)]` needs a struct with named fields, not a union"
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "ops")]
            struct T(Output<u8>);
        }),
        "`#[derive(Manifest)]` needs a struct with named fields; a terminal is named after its field"
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "ops")]
            struct U;
        }),
        "`#[derive(Manifest)]` needs a struct with named terminal fields, not a unit struct"
    );
}

#[test]
fn refuses_generics() {
    for input in [
        parse_quote!(
            #[manifest(class = 1, owner = "o")]
            struct G<T> {
                out: Output<T>,
            }
        ),
        parse_quote!(
            #[manifest(class = 1, owner = "o")]
            struct G<'a> {
                out: Output<&'a str>,
            }
        ),
        parse_quote!(
            #[manifest(class = 1, owner = "o")]
            struct G<const N: usize> {
                out: Output<[u8; N]>,
            }
        ),
    ] {
        assert_eq!(
            error(input),
            "generic servers are not supported: `type` in wiring.toml names a concrete struct; declare `G` without type parameters, one struct per message type"
        );
    }
}

#[test]
fn missing_manifest_attribute() {
    assert_eq!(
        error(parse_quote!(
            struct S {
                out: Output<u8>,
            }
        )),
        "missing `#[manifest(class = .., owner = \"..\")]` on `S`"
    );
}

#[test]
fn missing_class_and_owner() {
    assert_eq!(
        errors(parse_quote! {
            #[manifest(name = "s")]
            struct S { out: Output<u8> }
        }),
        vec![
            "missing `class` in `#[manifest(..)]`, like `class = 0x0a01`",
            "missing `owner` in `#[manifest(..)]`, like `owner = \"ops\"`",
        ]
    );
}

#[test]
fn auth_rules() {
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "o", auth = "yes", auth_mechanism = "none")]
            struct S { out: Output<u8> }
        }),
        "`auth_mechanism` must not be \"none\" when `auth = \"yes\"`"
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "o", auth = "optional")]
            struct S { out: Output<u8> }
        }),
        "`auth = \"optional\"` needs an `auth_mechanism` other than \"none\", like `auth_mechanism = \"hmac-sha256\"`"
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "o", auth_mechanism = "hmac")]
            struct S { out: Output<u8> }
        }),
        "`auth_mechanism = \"hmac\"` needs `auth = \"yes\"` or `auth = \"optional\"`; without authentication it must be \"none\""
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "o", auth = "yes", auth_mechanism = "HMAC SHA")]
            struct S { out: Output<u8> }
        }),
        "auth mechanism `HMAC SHA` must match `[a-z0-9-]+`"
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "o", auth = "Yes")]
            struct S { out: Output<u8> }
        }),
        "unknown `auth` value `\"Yes\"`, expected `\"yes\"`, `\"no\"` or `\"optional\"`"
    );
}

#[test]
fn name_and_owner_syntax() {
    assert_eq!(
        error(parse_quote! {
            #[manifest(name = "Flow Meter", class = 1, owner = "o")]
            struct S { out: Output<u8> }
        }),
        "manifest name `Flow Meter` must match `[a-z0-9_-]+`"
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "o")]
            struct Café { out: Output<u8> }
        }),
        "manifest name `café` (from `Café`) must match `[a-z0-9_-]+`; set `#[manifest(name = \"..\")]`"
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "ops team")]
            struct S { out: Output<u8> }
        }),
        "owner `ops team` must match `[A-Za-z0-9._-]+`"
    );
}

#[test]
fn terminal_rules() {
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "o")]
            struct S { count: u64, name: Vec<Output<u8>> }
        }),
        "`S` has no terminal field; add a field of type `Input<T>`, `Output<T>`, `Multiplex<T>` or `Combine<T>`"
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "o")]
            struct S { out: Output<u8>, #[terminal(name = "out")] other: Input<u8> }
        }),
        "duplicate terminal name `out`"
    );
    assert_eq!(
        errors(parse_quote! {
            #[manifest(class = 1, owner = "o")]
            struct S {
                #[terminal(name = "Bad-Name")] a: Output<u8>,
                B: Input<u8>,
                #[terminal(name = "")] c: Input<u8>,
            }
        }),
        vec![
            "terminal name `Bad-Name` must match `[a-z0-9_]+`",
            "terminal name `B` must match `[a-z0-9_]+`; rename the field or set `#[terminal(name = \"..\")]`",
            "terminal name must not be empty",
        ]
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "o")]
            struct S { out: Output<u8>, #[terminal(doc = "n")] count: u64 }
        }),
        "`#[terminal(..)]` on `count`, which is not a terminal; a terminal field has type `Input<T>`, `Output<T>`, `Multiplex<T>` or `Combine<T>`"
    );
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "o")]
            #[terminal(name = "x")]
            struct S { out: Output<u8> }
        }),
        "`#[terminal(..)]` belongs on a terminal field, not on the struct"
    );
}

#[test]
fn reports_every_mistake_at_once() {
    let all = errors(parse_quote! {
        #[manifest(colour = "red", class = 0x1_0000_0000, auth = "yes")]
        struct S<T> {
            #[terminal(name = "x", name = "y")] a: Output<T>,
            #[terminal(name = "x")] b: Input<u8>,
        }
    });
    assert_eq!(
        all,
        vec![
            "unknown manifest attribute `colour`, expected `name`, `class`, `owner`, `auth`, `auth_mechanism` or `crate`",
            "`class` must fit in u32 (0 to 0xffffffff)",
            "duplicate terminal attribute `name`",
            "generic servers are not supported: `type` in wiring.toml names a concrete struct; declare `S` without type parameters, one struct per message type",
            "missing `owner` in `#[manifest(..)]`, like `owner = \"ops\"`",
            "`auth = \"yes\"` needs an `auth_mechanism` other than \"none\", like `auth_mechanism = \"hmac-sha256\"`",
            "duplicate terminal name `x`",
        ]
    );
}

#[test]
fn derives_manifest_finds_the_derive() {
    let yes: [DeriveInput; 3] = [
        parse_quote!(
            #[derive(Manifest)]
            struct S;
        ),
        parse_quote!(
            #[derive(Debug, kernel::Manifest)]
            struct S;
        ),
        parse_quote!(
            #[doc = "x"]
            #[derive(Clone, ::kernel::prelude::Manifest)]
            struct S;
        ),
    ];
    for input in yes {
        assert!(derives_manifest(&input.attrs));
    }
    let no: [DeriveInput; 4] = [
        parse_quote!(
            struct S;
        ),
        parse_quote!(
            #[derive(Debug, ManifestLike)]
            struct S;
        ),
        parse_quote!(
            #[manifest(class = 1)]
            struct S;
        ),
        parse_quote!(
            #[derive = "Manifest"]
            struct S;
        ),
    ];
    for input in no {
        assert!(!derives_manifest(&input.attrs));
    }
}

#[test]
fn port_fn_names() {
    assert_eq!(port_fn_name("readings"), "__wiring_port_readings");
}

#[test]
fn crate_attribute_names_the_kernel() {
    let def = parse(&parse_quote! {
        #[manifest(class = 1, owner = "ops")]
        pub struct S { pub out: Output<u8> }
    })
    .unwrap();
    let kernel: syn::Path = parse_quote!(::kernel);
    assert_eq!(def.krate, kernel);
    let def = parse(&parse_quote! {
        #[manifest(class = 1, owner = "ops", crate = "plant::runtime")]
        pub struct S { pub out: Output<u8> }
    })
    .unwrap();
    let runtime: syn::Path = parse_quote!(plant::runtime);
    assert_eq!(def.krate, runtime);
    assert_eq!(
        error(parse_quote! {
            #[manifest(class = 1, owner = "ops", crate = "not a path")]
            pub struct S { pub out: Output<u8> }
        }),
        "`crate` must be a Rust path to the kernel crate, like `crate = \"my_framework::kernel\"`"
    );
}

#[test]
fn fallback_keeps_the_kernel_path_and_the_terminals_it_can_tell() {
    let input: DeriveInput = parse_quote! {
        #[manifest(owner = 5, crate = "rt")]
        pub struct S {
            pub out: Output<u8>,
            #[terminal(name = "raw")]
            pub input: Input<u8>,
            #[terminal(name = "raw")]
            pub again: Input<u8>,
            #[terminal(name = "bad-name")]
            pub odd: Input<u8>,
            count: u64,
        }
    };
    let fallback = fallback(&input);
    let rt: syn::Path = parse_quote!(rt);
    assert_eq!(fallback.krate, rt);
    let names: Vec<&str> = fallback.terminals.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["out", "raw"]);
}
