//! The `#[main]` and `#[test]` attributes of `moduvex-runtime`.
//!
//! The one idea: both attributes turn an `async fn` into a plain `fn`
//! whose body builds a runtime and blocks on the original body. Use them
//! through the re-exports, `#[moduvex_runtime::main]` and
//! `#[moduvex_runtime::test]` (the `macros` feature, on by default).
//!
//! Arguments (all optional, comma-separated):
//!
//! | argument | meaning |
//! |---|---|
//! | `flavor = "current_thread"` | one thread: the caller's (default for `#[test]`) |
//! | `flavor = "multi_thread"` | tokio's name: N workers, idle ones steal (default for `#[main]`) |
//! | `flavor = "work_stealing"` | the same as `multi_thread` |
//! | `flavor = "thread_per_core"` | N workers, no task migration |
//! | `worker_threads = N` | worker count for the multi-thread flavors (alone: `multi_thread`) |
//!
//! Choose `thread_per_core` for a server that runs one accept loop per
//! worker on its own `SO_REUSEPORT` listener (`Handle::spawn_on_each_worker`)
//! and wants each connection to stay on the core that accepted it; a
//! tokio-style single accept loop wants the default, where idle workers
//! steal the connection tasks.
//! | `start_paused = true` | the runtime's clock starts paused (`Builder::start_paused`); current-thread only |
//! | `crate = "path"` | where `moduvex_runtime` is, if renamed or re-exported |

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, Lit, Meta, ReturnType, Token};

/// Runs an `async fn main` on a moduvex runtime.
///
/// With no arguments the runtime is `Runtime::new()`'s (work-stealing, as
/// tokio's `multi_thread`); see the crate docs for `flavor`,
/// `worker_threads` and `crate`.
///
/// ```
/// #[moduvex_runtime::main(flavor = "current_thread")]
/// async fn main() {
///     let task = moduvex_runtime::spawn(async { 6 * 7 });
///     assert_eq!(task.await.unwrap(), 42);
/// }
/// ```
///
/// expands to (roughly)
///
/// ```text
/// fn main() {
///     moduvex_runtime::block_on(async {
///         let task = moduvex_runtime::spawn(async { 6 * 7 });
///         assert_eq!(task.await.unwrap(), 42);
///     })
/// }
/// ```
///
/// The function may return a value (such as `Result<(), E>`); it takes no
/// arguments and must be `async`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a moduvex runtime (current-thread unless a
/// `flavor` says otherwise). Other attributes, such as `#[should_panic]`
/// or `#[ignore]`, are kept.
///
/// ```
/// #[moduvex_runtime::test]
/// async fn adds() {
///     assert_eq!(moduvex_runtime::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
/// # fn main() {}
/// ```
///
/// `start_paused = true` starts the runtime's clock paused (current-thread
/// only, as tokio's): timers complete as soon as nothing else can run.
///
/// ```
/// use std::time::Duration;
/// use moduvex_runtime::time::{sleep, Instant};
///
/// #[moduvex_runtime::test(start_paused = true)]
/// async fn an_hour_passes_at_once() {
///     let start = Instant::now();
///     sleep(Duration::from_secs(3600)).await;
///     assert!(start.elapsed() >= Duration::from_secs(3600));
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args.into(), item.into()).into()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[moduvex_runtime::main]",
            Kind::Test => "#[moduvex_runtime::test]",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    ThreadPerCore,
    WorkStealing,
}

const FLAVORS: &str =
    "\"current_thread\", \"thread_per_core\" or \"work_stealing\" (or tokio's \"multi_thread\")";
const ARGUMENTS: &str =
    "`flavor = \"...\"`, `worker_threads = N`, `start_paused = true` or `crate = \"path\"`";

impl Flavor {
    fn parse(value: &str, span: Span) -> syn::Result<Flavor> {
        match value {
            "current_thread" => Ok(Flavor::CurrentThread),
            "thread_per_core" => Ok(Flavor::ThreadPerCore),
            // tokio's multi-thread runtime is work-stealing: code written
            // for `#[tokio::main(flavor = "multi_thread")]` keeps its meaning.
            "work_stealing" | "multi_thread" => Ok(Flavor::WorkStealing),
            other => Err(syn::Error::new(
                span,
                format!("unknown flavor \"{other}\": expected one of {FLAVORS}"),
            )),
        }
    }

    fn variant(self) -> TokenStream2 {
        match self {
            Flavor::CurrentThread => quote!(CurrentThread),
            Flavor::ThreadPerCore => quote!(ThreadPerCore),
            Flavor::WorkStealing => quote!(WorkStealing),
        }
    }
}

/// The parsed arguments.
#[derive(Default)]
struct Config {
    flavor: Option<Flavor>,
    worker_threads: Option<usize>,
    /// `start_paused = <bool>`, with the argument's span.
    start_paused: Option<(bool, Span)>,
    crate_path: Option<syn::Path>,
}

fn parse_config(args: TokenStream2) -> syn::Result<Config> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut config = Config::default();
    let mut worker_span = Span::call_site();
    for meta in metas {
        let Meta::NameValue(nv) = meta else {
            return Err(syn::Error::new(
                meta.span(),
                format!(
                    "unknown argument `{}`: expected {ARGUMENTS}",
                    meta.to_token_stream()
                ),
            ));
        };
        let name = nv
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_else(|| nv.path.to_token_stream().to_string());
        match name.as_str() {
            "flavor" => {
                if config.flavor.is_some() {
                    return Err(syn::Error::new(nv.span(), "`flavor` is given twice"));
                }
                let value = string_value(&nv.value, "flavor")?;
                config.flavor = Some(Flavor::parse(&value, nv.value.span())?);
            }
            "worker_threads" => {
                if config.worker_threads.is_some() {
                    return Err(syn::Error::new(
                        nv.span(),
                        "`worker_threads` is given twice",
                    ));
                }
                let n = match &nv.value {
                    Expr::Lit(lit) => match &lit.lit {
                        Lit::Int(int) => int.base10_parse::<usize>().ok(),
                        _ => None,
                    },
                    _ => None,
                };
                match n {
                    Some(n) if n > 0 => config.worker_threads = Some(n),
                    _ => {
                        return Err(syn::Error::new(
                            nv.value.span(),
                            "`worker_threads` must be a positive integer literal, such as `worker_threads = 4`",
                        ))
                    }
                }
                worker_span = nv.span();
            }
            "start_paused" => {
                if config.start_paused.is_some() {
                    return Err(syn::Error::new(nv.span(), "`start_paused` is given twice"));
                }
                let value = match &nv.value {
                    Expr::Lit(syn::ExprLit {
                        lit: Lit::Bool(b), ..
                    }) => b.value,
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            "`start_paused` takes a boolean literal: `start_paused = true`",
                        ))
                    }
                };
                config.start_paused = Some((value, nv.span()));
            }
            "crate" => {
                let value = string_value(&nv.value, "crate")?;
                let path = syn::parse_str::<syn::Path>(&value).map_err(|e| {
                    syn::Error::new(nv.value.span(), format!("`crate` must name a path: {e}"))
                })?;
                config.crate_path = Some(path);
            }
            other => {
                return Err(syn::Error::new(
                    nv.path.span(),
                    format!("unknown argument `{other}`: expected {ARGUMENTS}"),
                ))
            }
        }
    }
    if config.flavor == Some(Flavor::CurrentThread) && config.worker_threads.is_some() {
        return Err(syn::Error::new(
            worker_span,
            "`worker_threads` cannot be used with flavor = \"current_thread\", which runs on \
             the calling thread only; use \"thread_per_core\" or \"work_stealing\"",
        ));
    }
    Ok(config)
}

fn string_value(value: &Expr, name: &str) -> syn::Result<String> {
    if let Expr::Lit(syn::ExprLit {
        lit: Lit::Str(s), ..
    }) = value
    {
        return Ok(s.value());
    }
    Err(syn::Error::new(
        value.span(),
        format!("`{name}` takes a string literal, such as `{name} = \"...\"`"),
    ))
}

/// Problems with the function itself; these keep the item as written.
fn check_item(kind: Kind, item: &ItemFn) -> syn::Result<()> {
    let sig = &item.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "the `async` keyword is missing from the function declaration",
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!("a function marked {} cannot take arguments", kind.attr()),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            format!("a function marked {} cannot be generic", kind.attr()),
        ));
    }
    if kind == Kind::Test {
        if let Some(attr) = item.attrs.iter().find(|a| a.path().is_ident("test")) {
            return Err(syn::Error::new(
                attr.span(),
                "a second test attribute is given: remove this `#[test]`, \
                 `#[moduvex_runtime::test]` already adds it",
            ));
        }
    }
    Ok(())
}

fn expand(kind: Kind, args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let err = e.to_compile_error();
            return quote!(#item #err);
        }
    };
    if let Err(e) = check_item(kind, &func) {
        let err = e.to_compile_error();
        return quote!(#item #err);
    }
    // A bad argument is reported, but the function is still expanded (on
    // a current-thread runtime) so no second error about an `async fn
    // main` follows.
    let (config, arg_error) = match parse_config(args) {
        Ok(config) => (config, None),
        Err(e) => (Config::default(), Some(e.to_compile_error())),
    };

    let krate = config
        .crate_path
        .clone()
        .map(ToTokens::into_token_stream)
        .unwrap_or_else(|| quote!(::moduvex_runtime));
    let flavor = match (config.flavor, config.worker_threads) {
        (Some(f), _) => Some(f),
        (None, Some(_)) => Some(Flavor::WorkStealing),
        (None, None) if kind == Kind::Test => Some(Flavor::CurrentThread),
        (None, None) => None,
    };
    // As tokio's: a multi-thread runtime's clock cannot pause.
    let arg_error = match (arg_error, config.start_paused) {
        (None, Some((_, span))) if flavor != Some(Flavor::CurrentThread) => Some(
            syn::Error::new(
                span,
                format!(
                    "the `start_paused` option requires the current-thread runtime flavor: \
                     add `flavor = \"current_thread\"` (a multi-thread runtime's clock cannot \
                     be paused){}",
                    if kind == Kind::Test {
                        ", or drop `worker_threads`/`flavor`"
                    } else {
                        ""
                    }
                ),
            )
            .to_compile_error(),
        ),
        (err, _) => err,
    };
    let start_paused = config
        .start_paused
        .map(|(b, _)| quote!(.start_paused(#b)))
        .unwrap_or_default();
    let block_on = match flavor {
        _ if arg_error.is_some() => quote!(#krate::block_on(body)),
        None => quote! {
            #krate::Runtime::new()
                .expect("failed to start the moduvex runtime")
                .block_on(body)
        },
        Some(flavor) => {
            let variant = flavor.variant();
            let workers = config
                .worker_threads
                .map(|n| quote!(.worker_threads(#n)))
                .unwrap_or_default();
            quote! {
                #krate::Runtime::builder()
                    .flavor(#krate::Flavor::#variant)
                    #workers
                    #start_paused
                    .build()
                    .expect("failed to start the moduvex runtime")
                    .block_on(body)
            }
        }
    };

    let output = match &func.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let body = &func.block;
    let body_span = body.span();
    // Naming the output type lets `?` and `return` inside the body infer
    // their types as they would in a plain `fn`.
    let new_body = quote_spanned! {body_span=>
        {
            let body = async move #body;
            let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = #output>> =
                ::core::pin::pin!(body);
            #block_on
        }
    };
    func.sig.asyncness = None;
    func.block = match syn::parse2(new_body) {
        Ok(block) => Box::new(block),
        Err(e) => return e.to_compile_error(),
    };
    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => quote!(),
    };
    quote! {
        #arg_error
        #test_attr
        #func
    }
}

mod select;

/// `select!`'s match check: the pattern with its bindings' `ref`/`mut`
/// removed (see `select.rs`). Not part of the API.
#[doc(hidden)]
#[proc_macro]
pub fn __select_check_pattern(input: TokenStream) -> TokenStream {
    select::clean_pattern(input.into()).into()
}
