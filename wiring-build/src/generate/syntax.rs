//! Syntax nodes of the generated file built directly, for the parts that
//! repeat once per server or pipe: going through tokens and `syn`'s parser
//! costs about a microsecond per token, seconds for 10,000 servers, where
//! building the nodes costs a tenth of that. prettyplease formats them with
//! the rest.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Path, PathSegment, Stmt, Type};

/// An identifier made for generated code (`text` is known to be one).
pub(super) fn ident(text: &str) -> Ident {
    Ident::new(text, Span::call_site())
}

/// `a::b::c` from its segments.
pub(super) fn path<'a>(segments: impl IntoIterator<Item = &'a Ident>) -> Path {
    Path {
        leading_colon: None,
        segments: segments
            .into_iter()
            .map(|s| PathSegment::from(s.clone()))
            .collect(),
    }
}

pub(super) fn path_expr(path: Path) -> Expr {
    Expr::Path(syn::ExprPath {
        attrs: Vec::new(),
        qself: None,
        path,
    })
}

pub(super) fn path_type(path: Path) -> Type {
    Type::Path(syn::TypePath {
        attrs: Vec::new(),
        qself: None,
        path,
    })
}

pub(super) fn str_lit(text: &str) -> Expr {
    Expr::Lit(syn::ExprLit {
        attrs: Vec::new(),
        lit: syn::Lit::Str(syn::LitStr::new(text, Span::call_site())),
    })
}

/// An integer literal written as `repr` (`16`, `0x0a01`).
pub(super) fn int_lit(repr: &str) -> Expr {
    Expr::Lit(syn::ExprLit {
        attrs: Vec::new(),
        lit: syn::Lit::Int(syn::LitInt::new(repr, Span::call_site())),
    })
}

/// `func(args..)`.
pub(super) fn call(func: Expr, args: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::Call(syn::ExprCall {
        attrs: Vec::new(),
        func: Box::new(func),
        paren_token: Default::default(),
        args: args.into_iter().collect(),
    })
}

/// `&expr`.
pub(super) fn reference(expr: Expr) -> Expr {
    Expr::Reference(syn::ExprReference {
        attrs: Vec::new(),
        and_token: Default::default(),
        mutability: None,
        expr: Box::new(expr),
    })
}

/// `<ty as trait_path>::item`.
pub(super) fn qualified(ty: Type, trait_path: &Ident, item: &Ident) -> Expr {
    Expr::Path(syn::ExprPath {
        attrs: Vec::new(),
        qself: Some(syn::QSelf {
            lt_token: Default::default(),
            ty: Box::new(ty),
            position: 1,
            as_token: Some(Default::default()),
            gt_token: Default::default(),
        }),
        path: path([trait_path, item]),
    })
}

/// `receiver.method::<ty>(args..)?;`, `::<ty>` when `ty` is given.
pub(super) fn try_method_stmt(
    receiver: &Ident,
    method: &Ident,
    ty: Option<Type>,
    args: impl IntoIterator<Item = Expr>,
) -> Stmt {
    let turbofish = ty.map(|ty| syn::AngleBracketedGenericArguments {
        colon2_token: Some(Default::default()),
        lt_token: Default::default(),
        args: Punctuated::from_iter([syn::GenericArgument::Type(ty)]),
        gt_token: Default::default(),
    });
    let call = Expr::MethodCall(syn::ExprMethodCall {
        attrs: Vec::new(),
        receiver: Box::new(path_expr(path([receiver]))),
        dot_token: Default::default(),
        method: method.clone(),
        turbofish,
        paren_token: Default::default(),
        args: args.into_iter().collect(),
    });
    let tried = Expr::Try(syn::ExprTry {
        attrs: Vec::new(),
        expr: Box::new(call),
        question_token: Default::default(),
    });
    Stmt::Expr(tried, Some(Default::default()))
}
