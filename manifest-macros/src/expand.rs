//! Parses, validates and generates the `Manifest` impl.
//!
//! The generated code names the kernel only through `<kernel>::__private`
//! (`::kernel` unless `#[manifest(crate = "..")]` says otherwise).

use manifest_syntax::{Auth, Fallback, ManifestDef, TerminalDef};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, LitInt, Path};

/// The impls for a valid server; otherwise its errors plus stub impls and
/// the port markers of the terminals that can be told, so the user sees the
/// derive's messages and no follow-on errors where the server is used.
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    match manifest_syntax::parse(input) {
        Ok(def) => expand(&def),
        Err(errors) => {
            let errors = errors.into_compile_error();
            let stub = stub(input, &manifest_syntax::fallback(input));
            quote! {
                #errors
                #stub
            }
        }
    }
}

fn expand(def: &ManifestDef) -> TokenStream {
    let krate = &def.krate;
    let private = quote!(#krate::__private);
    let ident = &def.ident;
    let name = &def.name;
    let class = LitInt::new(&format!("{:#010x}", def.class), Span::call_site());
    let owner = &def.owner;
    let auth = match def.auth {
        Auth::Yes => quote!(#private::Auth::Yes),
        Auth::No => quote!(#private::Auth::No),
        Auth::Optional => quote!(#private::Auth::Optional),
    };
    let auth_mechanism = &def.auth_mechanism;
    let terminals = def.terminals.iter().map(|t| terminal_manifest(&private, t));
    let attaches = def.terminals.iter().map(|t| {
        let field = &t.field;
        let name = &t.name;
        // On the field type, like the other uses of `Terminal`, so that a type
        // that is no terminal gets one error there.
        let ty = &t.ty;
        let attach = quote_spanned!(ty.span()=> <#ty as #private::Terminal>::__attach);
        quote! {
            #attach(&mut self.#field, ports, #name)?;
        }
    });
    let kind_checks = def.terminals.iter().map(|t| kind_check(&private, t));
    let ports = def
        .terminals
        .iter()
        .map(|t| port_fn(&private, &t.name, &t.ty, t.field.span()));
    let stage = stage(&private, def);
    quote! {
        #[automatically_derived]
        impl #private::Manifest for #ident {
            const MANIFEST: #private::ServerManifest = #private::ServerManifest {
                name: #name,
                class: #class,
                owner: #owner,
                auth: #auth,
                auth_mechanism: #auth_mechanism,
                terminals: &[#(#terminals),*],
            };
        }

        #[automatically_derived]
        impl #private::Attach for #ident {
            fn attach(
                &mut self,
                ports: &mut #private::Ports,
            ) -> ::core::result::Result<(), #private::Error> {
                #(#attaches)*
                ::core::result::Result::Ok(())
            }
        }

        #[automatically_derived]
        impl #ident {
            #(#ports)*
        }

        #stage

        // The wiring lints read a terminal's kind from its type's name; make sure
        // the type really is that kind of terminal.
        const _: () = {
            #(#kind_checks)*
        };
    }
}

/// `Stage` for a server with exactly one input and one output terminal, so
/// that it can be a `Transform` (fused, or on its own thread); nothing else.
fn stage(private: &TokenStream, def: &ManifestDef) -> TokenStream {
    let (inputs, outputs): (Vec<&TerminalDef>, Vec<&TerminalDef>) =
        def.terminals.iter().partition(|t| !t.kind.is_producer());
    let ([input], [output]) = (&inputs[..], &outputs[..]) else {
        return TokenStream::new();
    };
    let ident = &def.ident;
    let (in_field, in_msg) = (&input.field, &input.message);
    let (out_field, out_msg) = (&output.field, &output.message);
    quote! {
        #[automatically_derived]
        impl #private::Stage<#in_msg, #out_msg> for #ident {
            #[inline]
            fn recv(&mut self) -> ::core::option::Option<#in_msg> {
                self.#in_field.recv()
            }
            #[inline]
            fn send(
                &mut self,
                msg: #out_msg,
            ) -> ::core::result::Result<(), #private::SendError<#out_msg>> {
                self.#out_field.send(msg)
            }
            #[inline]
            fn send_drain(&mut self, msgs: &mut ::std::vec::Vec<#out_msg>) -> usize {
                match self.#out_field.send_all(msgs.drain(..)) {
                    ::core::result::Result::Ok(()) => 0,
                    ::core::result::Result::Err(#private::SendError((_, rest))) => 1 + rest.count(),
                }
            }
        }
    }
}

fn terminal_manifest(private: &TokenStream, t: &TerminalDef) -> TokenStream {
    let name = &t.name;
    let ty = &t.ty;
    let kind = quote_spanned!(ty.span()=> <#ty as #private::Terminal>::KIND);
    let message_type = manifest_syntax::type_text(&t.message);
    let doc = t.doc.as_deref().unwrap_or_default();
    quote! {
        #private::TerminalManifest {
            name: #name,
            kind: #kind,
            message_type: #message_type,
            doc: #doc,
        }
    }
}

/// A compile-time check that `Output<T>` is `TerminalKind::Output`, and so on.
fn kind_check(private: &TokenStream, t: &TerminalDef) -> TokenStream {
    let ty = &t.ty;
    let kind = format_ident!("{}", t.kind.type_name());
    let message = format!(
        "terminal `{}`: `{}` is named like `{}` but is another kind of terminal; \
         wiring reads the kind from the type's name",
        t.name,
        manifest_syntax::type_text(ty),
        t.kind.type_name()
    );
    quote_spanned! {ty.span()=>
        ::core::assert!(
            ::core::matches!(
                <#ty as #private::Terminal>::KIND,
                #private::TerminalKind::#kind
            ),
            #message
        );
    }
}

/// The hidden marker fn that generated wiring code calls to let rustc check
/// direction and message type of a connection. Public, so that a kernel in
/// another crate (a binary wiring the servers of its library, or of a
/// library of servers) can call it.
fn port_fn(private: &TokenStream, name: &str, ty: &syn::Type, span: Span) -> TokenStream {
    let fn_name = format_ident!("{}", manifest_syntax::port_fn_name(name), span = span);
    let doc = format!("Type-level marker of terminal `{name}`, for generated wiring code.");
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[allow(dead_code, non_snake_case, private_interfaces)]
        pub const fn #fn_name() -> #private::Port<#ty> {
            #private::Port::new()
        }
    }
}

/// `Manifest` with an empty manifest, an `Attach` that attaches nothing,
/// and the port markers of [`Fallback`], emitted next to the errors.
fn stub(input: &DeriveInput, fallback: &Fallback) -> TokenStream {
    let krate: &Path = &fallback.krate;
    let private = quote!(#krate::__private);
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
    let ports = fallback
        .terminals
        .iter()
        .map(|(name, ty)| port_fn(&private, name, ty, ty.span()));
    quote! {
        #[automatically_derived]
        impl #impl_generics #private::Manifest for #ident #ty_generics #where_clause {
            const MANIFEST: #private::ServerManifest = #private::ServerManifest {
                name: "",
                class: 0,
                owner: "",
                auth: #private::Auth::No,
                auth_mechanism: "none",
                terminals: &[],
            };
        }

        #[automatically_derived]
        impl #impl_generics #private::Attach for #ident #ty_generics #where_clause {
            fn attach(
                &mut self,
                _ports: &mut #private::Ports,
            ) -> ::core::result::Result<(), #private::Error> {
                ::core::result::Result::Ok(())
            }
        }

        #[automatically_derived]
        impl #impl_generics #ident #ty_generics #where_clause {
            #(#ports)*
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
            "impl::kernel::__private::ManifestforSensor",
            "constMANIFEST:::kernel::__private::ServerManifest=::kernel::__private::ServerManifest{name:\"sensor\",class:0x00000a01,owner:\"ops\",auth:::kernel::__private::Auth::No,auth_mechanism:\"none\"",
            "::kernel::__private::TerminalManifest{name:\"readings\",kind:<Output<f64>as::kernel::__private::Terminal>::KIND,message_type:\"f64\",doc:\"\",}",
            "impl::kernel::__private::AttachforSensor",
            "<Output<f64>as::kernel::__private::Terminal>::__attach(&mutself.readings,ports,\"readings\")?;",
            "pubconstfn__wiring_port_readings()->::kernel::__private::Port<Output<f64>>{::kernel::__private::Port::new()}",
        ] {
            assert!(out.contains(&squash(expected)), "{expected}\nnot in\n{out}");
        }
        assert!(!out.contains("compile_error"));
    }

    #[test]
    fn names_the_kernel_by_the_crate_attribute() {
        let out = derive(&parse_quote! {
            #[manifest(class = 1, owner = "ops", crate = "plant::rt")]
            pub struct Sensor {
                pub readings: Output<f64>,
            }
        })
        .to_string();
        let out = squash(&out);
        assert!(!out.contains("::kernel"), "{out}");
        assert!(
            out.contains("implplant::rt::__private::ManifestforSensor"),
            "{out}"
        );
        assert!(
            out.contains("->plant::rt::__private::Port<Output<f64>>"),
            "{out}"
        );
    }

    #[test]
    fn errors_come_with_stubs_and_the_port_markers() {
        let out = derive(&parse_quote! {
            #[manifest(owner = "ops", crate = "plant::rt")]
            pub struct Relay<T> {
                pub out: Output<T>,
                #[terminal(name = "raw")]
                pub input: Input<T>,
                #[terminal(name = "raw")]
                pub again: Input<T>,
            }
        })
        .to_string();
        let out = squash(&out);
        assert!(out.contains(&squash("missing `class`")), "{out}");
        assert!(
            out.contains(
                "impl<T>plant::rt::__private::ManifestforRelay<T>whereSelf:::core::marker::Send+'static"
            ),
            "{out}"
        );
        assert!(
            out.contains("impl<T>plant::rt::__private::AttachforRelay<T>"),
            "{out}"
        );
        assert!(out.contains("terminals:&[]"), "{out}");
        assert!(out.contains("fn__wiring_port_out()"), "{out}");
        assert_eq!(out.matches("fn__wiring_port_raw()").count(), 1, "{out}");
        assert!(!out.contains("__wiring_port_input"), "{out}");
    }
}
