//! Parses, validates and generates the `Manifest` impl.

use manifest_syntax::{AuthFlag, ManifestDef, TerminalDef};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, LitInt};

/// The impl for a valid server; otherwise its errors plus a stub impl, so the
/// user sees the derive's messages and not follow-on "trait not implemented" errors.
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    match manifest_syntax::parse(input) {
        Ok(def) => expand(&def),
        Err(errors) => {
            let errors = errors.into_compile_error();
            let stub = stub(input);
            quote! {
                #errors
                #stub
            }
        }
    }
}

fn expand(def: &ManifestDef) -> TokenStream {
    let ident = &def.ident;
    let name = &def.name;
    let class = LitInt::new(&format!("{:#010x}", def.class), Span::call_site());
    let owner = &def.owner;
    let auth = match def.auth {
        AuthFlag::Yes => quote!(::kernel::Auth::Yes),
        AuthFlag::No => quote!(::kernel::Auth::No),
        AuthFlag::Optional => quote!(::kernel::Auth::Optional),
    };
    let auth_mechanism = &def.auth_mechanism;
    let terminals = def.terminals.iter().map(terminal_manifest);
    let attaches = def.terminals.iter().map(|t| {
        let field = &t.field;
        let name = &t.name;
        let ty = &t.ty;
        // On the field type, like the other uses of `Terminal`, so that a type
        // that is no terminal gets one error there.
        let attach = quote_spanned!(ty.span()=> <#ty as ::kernel::terminal::Terminal>::attach);
        quote! {
            #attach(&mut self.#field, ports.take(#name))?;
        }
    });
    let kind_checks = def.terminals.iter().map(kind_check);
    let ports = def.terminals.iter().map(port_fn);
    quote! {
        #[automatically_derived]
        impl ::kernel::Manifest for #ident {
            const MANIFEST: ::kernel::ServerManifest = ::kernel::ServerManifest {
                name: #name,
                class: #class,
                owner: #owner,
                auth: #auth,
                auth_mechanism: #auth_mechanism,
                terminals: &[#(#terminals),*],
            };

            fn attach(
                &mut self,
                ports: &mut ::kernel::Ports,
            ) -> ::core::result::Result<(), ::kernel::Error> {
                #(#attaches)*
                ::core::result::Result::Ok(())
            }
        }

        #[automatically_derived]
        impl #ident {
            #(#ports)*
        }

        // The wiring lints read a terminal's kind from its type's name; make sure
        // the type really is that kind of terminal.
        const _: () = {
            #(#kind_checks)*
        };
    }
}

fn terminal_manifest(t: &TerminalDef) -> TokenStream {
    let name = &t.name;
    let ty = &t.ty;
    let kind = quote_spanned!(ty.span()=> <#ty as ::kernel::terminal::Terminal>::KIND);
    let message_type = manifest_syntax::type_text(&t.message);
    let doc = t.doc.as_deref().unwrap_or_default();
    quote! {
        ::kernel::TerminalManifest {
            name: #name,
            kind: #kind,
            message_type: #message_type,
            doc: #doc,
        }
    }
}

/// A compile-time check that `Output<T>` is `TerminalKind::Output`, and so on.
fn kind_check(t: &TerminalDef) -> TokenStream {
    let ty = &t.ty;
    let kind = format_ident!("{}", t.kind.as_str());
    let message = format!(
        "terminal `{}`: `{}` is named like `{}` but is another kind of terminal; \
         wiring reads the kind from the type's name",
        t.name,
        manifest_syntax::type_text(ty),
        t.kind.as_str()
    );
    quote_spanned! {ty.span()=>
        ::core::assert!(
            ::core::matches!(
                <#ty as ::kernel::terminal::Terminal>::KIND,
                ::kernel::TerminalKind::#kind
            ),
            #message
        );
    }
}

/// The hidden marker fn that generated wiring code calls to let rustc check
/// direction and message type of a connection.
fn port_fn(t: &TerminalDef) -> TokenStream {
    let ty = &t.ty;
    let fn_name = format_ident!(
        "{}",
        manifest_syntax::port_fn_name(&t.name),
        span = t.field.span()
    );
    let doc = format!(
        "Type-level marker of terminal `{}` (`{}`), for generated wiring code.",
        t.name,
        t.kind.as_str()
    );
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[allow(dead_code, private_interfaces)]
        pub(crate) const fn #fn_name() -> ::kernel::Port<#ty> {
            ::kernel::Port::new()
        }
    }
}

/// `impl Manifest` with an empty manifest, emitted next to the errors.
fn stub(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    if !generics.params.is_empty() {
        // The bound of `Manifest` itself, so the stub adds no error of its own.
        generics
            .make_where_clause()
            .predicates
            .push(syn::parse_quote!(Self: ::core::marker::Send + 'static));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics ::kernel::Manifest for #ident #ty_generics #where_clause {
            const MANIFEST: ::kernel::ServerManifest = ::kernel::ServerManifest {
                name: "",
                class: 0,
                owner: "",
                auth: ::kernel::Auth::No,
                auth_mechanism: "none",
                terminals: &[],
            };

            fn attach(
                &mut self,
                _ports: &mut ::kernel::Ports,
            ) -> ::core::result::Result<(), ::kernel::Error> {
                ::core::result::Result::Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::derive;
    use syn::parse_quote;

    fn squash(text: &str) -> String {
        text.split_whitespace().collect()
    }

    #[test]
    fn expands_the_pinned_shape() {
        let out = derive(&parse_quote! {
            #[manifest(class = 0x0a01, owner = "ops")]
            pub struct Sensor {
                pub readings: Output<f64>,
                count: u64,
            }
        })
        .to_string();
        let out = squash(&out);
        for expected in [
            "impl::kernel::ManifestforSensor",
            "constMANIFEST:::kernel::ServerManifest=::kernel::ServerManifest{name:\"sensor\",class:0x00000a01,owner:\"ops\",auth:::kernel::Auth::No,auth_mechanism:\"none\"",
            "::kernel::TerminalManifest{name:\"readings\",kind:<Output<f64>as::kernel::terminal::Terminal>::KIND,message_type:\"f64\",doc:\"\",}",
            "<Output<f64>as::kernel::terminal::Terminal>::attach(&mutself.readings,ports.take(\"readings\"))?;",
            "pub(crate)constfn__wiring_port_readings()->::kernel::Port<Output<f64>>{::kernel::Port::new()}",
        ] {
            assert!(out.contains(&squash(expected)), "{expected}\nnot in\n{out}");
        }
        assert!(!out.contains("compile_error"));
    }

    #[test]
    fn errors_come_with_a_stub_impl() {
        let out = derive(&parse_quote! {
            #[manifest(owner = "ops")]
            pub struct Relay<T> {
                pub out: Output<T>,
            }
        })
        .to_string();
        let out = squash(&out);
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
        assert!(out.contains(&squash("missing `class`")), "{out}");
        assert!(
            out.contains(
                "impl<T>::kernel::ManifestforRelay<T>whereSelf:::core::marker::Send+'static"
            ),
            "{out}"
        );
        assert!(out.contains("terminals:&[]"), "{out}");
        assert!(!out.contains("__wiring_port_"), "{out}");
    }
}
