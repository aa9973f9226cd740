//! Stage one of the generator: read the Julia files of a package checkout with adlint's own
//! parser and facts, and keep what the tables are computed from. Rules keep their
//! signatures; functions are kept only when they may end in a foreign call or write into
//! an argument (directly, or through calls to such functions), with the calls between them.

use super::{Extracted, SourceInfo, XFunction, XRule};
use crate::facts::{self, FileFacts, FunctionKind, Param, RuleDeclKind, SiteKind, Value};
use crate::knowledge::tables::Arity;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One package to read: its identity and the folders of its code, relative to `root`.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub info: SourceInfo,
    pub root: PathBuf,
    pub dirs: Vec<String>,
}

/// A function of a checkout before pruning.
struct Method {
    x: XFunction,
    /// Callee names, for the reachability that decides what is kept.
    callees: Vec<String>,
}

/// Read every checkout, then keep the functions that matter for the closures (see the
/// module docs), over all checkouts at once: a package's function that calls Base's
/// `unsafe_copyto!` is kept when Base is among the checkouts. Files `check` would skip
/// (over 16 MB, binary, not UTF-8, unreadable) are skipped with their reason in `skipped`.
pub fn extract(
    checkouts: &[Checkout],
    skipped: &mut Vec<String>,
) -> std::io::Result<Vec<Extracted>> {
    // Per checkout: rules, methods, exported names, struct names.
    type Read = (Vec<XRule>, Vec<Method>, Vec<String>, Vec<String>);
    let mut per_source: Vec<Read> = Vec::new();
    for c in checkouts {
        let mut rules = Vec::new();
        let mut methods = Vec::new();
        let mut exports = Vec::new();
        let mut structs = Vec::new();
        for file in julia_files(&c.root, &c.dirs)? {
            let text = match crate::workspace::read_source(&file) {
                Ok(t) => t,
                Err(why) => {
                    skipped.push(format!("{}: {why}", file.display()));
                    continue;
                }
            };
            let rel = file
                .strip_prefix(&c.root)
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            let facts = facts::extract(&text);
            read_rules(&facts, &text, &rel, &mut rules);
            read_functions(&facts, &rel, &mut methods);
            exports.extend(facts.exports.iter().map(|(_, n)| n.to_string()));
            structs.extend(facts.structs.iter().map(|st| st.name.to_string()));
        }
        exports.sort();
        exports.dedup();
        structs.sort();
        structs.dedup();
        per_source.push((rules, methods, exports, structs));
    }
    // What may end in a foreign call or a write: the direct ones, then their callers.
    let mut relevant: HashSet<String> = HashSet::new();
    for (_, methods, _, _) in &per_source {
        for m in methods {
            if m.x.foreign.is_some() || !m.x.writes.is_empty() {
                relevant.insert(m.x.name.clone());
            }
        }
    }
    loop {
        let before = relevant.len();
        for (_, methods, _, _) in &per_source {
            for m in methods {
                if !relevant.contains(&m.x.name) && m.callees.iter().any(|c| relevant.contains(c)) {
                    relevant.insert(m.x.name.clone());
                }
            }
        }
        if relevant.len() == before {
            break;
        }
    }
    let mut out = Vec::new();
    for (c, (rules, methods, exports, structs)) in checkouts.iter().zip(per_source) {
        let mut functions: Vec<XFunction> = methods
            .into_iter()
            .filter(|m| relevant.contains(&m.x.name))
            .map(|mut m| {
                m.x.calls.retain(|call| relevant.contains(call_name(call)));
                m.x
            })
            .collect();
        functions.sort_by(|a, b| (&a.name, &a.at).cmp(&(&b.name, &b.at)));
        out.push(Extracted {
            source: c.info.clone(),
            exports,
            structs,
            rules,
            functions,
        });
    }
    Ok(out)
}

/// The callee name of an encoded call (`Base.copyto!(1,_)` -> `copyto!`).
pub(super) fn call_name(call: &str) -> &str {
    let head = call.split('(').next().unwrap_or(call);
    head.rsplit('.').next().unwrap_or(head)
}

fn julia_files(root: &Path, dirs: &[String]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for d in dirs {
        let base = root.join(d);
        if base.is_file() {
            out.push(base);
            continue;
        }
        if !base.is_dir() {
            continue;
        }
        for entry in ignore::WalkBuilder::new(&base)
            .standard_filters(false)
            .build()
            .flatten()
        {
            let p = entry.path();
            if p.is_file() && p.extension().is_some_and(|e| e == "jl") {
                out.push(p.to_path_buf());
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn line_of(facts: &FileFacts, offset: u32) -> usize {
    facts.line_index.line_of(offset as usize) + 1
}

/// A parameter as the tables write it: its declared type (`Any` when untyped), `=` after it
/// when it has a default, `...` when it takes the rest.
pub(super) fn encode_param(p: &Param) -> String {
    let mut s = p.annotation.as_deref().unwrap_or("Any").to_string();
    if p.vararg {
        s.push_str("...");
    } else if p.has_default {
        s.push('=');
    }
    s
}

fn arity_of(params: &[Param]) -> Arity {
    let required = params
        .iter()
        .filter(|p| !p.has_default && !p.vararg)
        .count();
    let max = (!params.iter().any(|p| p.vararg)).then_some(params.len());
    Arity { min: required, max }
}

/// What Zygote's adjoints for mutation call to fail (`src/lib/array.jl`): such an adjoint
/// is no rule that makes the function differentiable but the error users see.
const MUTATION_ERROR: [&str; 2] = ["_throw_mutation_error", "error(\"Mutating arrays"];

fn read_rules(facts: &FileFacts, text: &str, rel: &str, out: &mut Vec<XRule>) {
    for d in &facts.rule_decls {
        // A name interpolated into code that `@eval` makes (`$f`) is no function's name.
        if d.target.starts_with('$') {
            continue;
        }
        let body = text.get(d.span.range()).unwrap_or("");
        let raises = MUTATION_ERROR.iter().any(|m| body.contains(m));
        let kind = match d.kind {
            RuleDeclKind::Adjoint | RuleDeclKind::Rrule if raises => "mutation_error",
            RuleDeclKind::Rrule => "rrule",
            RuleDeclKind::ScalarRule => "scalar_rule",
            RuleDeclKind::NonDifferentiable => "non_differentiable",
            RuleDeclKind::Adjoint => "adjoint",
            RuleDeclKind::NoGrad => "nograd",
            RuleDeclKind::Pullback => "pullback",
            RuleDeclKind::OptOut => "opt_out",
        };
        out.push(XRule {
            kind: kind.to_string(),
            function: d.target.to_string(),
            functor: d.functor,
            params: d.params.iter().map(encode_param).collect(),
            arity: d.arity.map(|(min, max)| Arity { min, max }),
            at: format!("{rel}:{}", line_of(facts, d.span.start)),
            since: None,
        });
    }
    // Another backend's import of a ChainRules rule (`Mooncake.@from_rrule ctx
    // Tuple{typeof(f), ...}`, `Enzyme.@import_rrule(typeof(f), ...)`,
    // `ReverseDiff.@grad_from_chainrules f(x::TrackedArray)`): the rule is that backend's too.
    for site in &facts.sites {
        let SiteKind::Macro { path } = &site.kind else {
            continue;
        };
        let Some(last) = path.last() else { continue };
        let backend = match last.as_str() {
            "@from_rrule" | "@from_chainrules" => "mooncake",
            "@import_rrule" | "@import_frule" => "enzyme",
            "@grad_from_chainrules" if path.iter().any(|p| p == "Tracker") => "tracker",
            "@grad_from_chainrules" => "reversediff",
            _ => continue,
        };
        let body = text.get(site.span.range()).unwrap_or("");
        let Some(function) = imported_function(body, last) else {
            continue;
        };
        out.push(XRule {
            kind: format!("import:{backend}"),
            function,
            functor: false,
            params: Vec::new(),
            arity: None,
            at: format!("{rel}:{}", line_of(facts, site.span.start)),
            since: None,
        });
    }
    // `frule`s are not declarations the analysis reads (Zygote does not use them), but the
    // tables list them for the backends that do.
    for f in &facts.functions {
        if f.name.as_deref() != Some("frule") {
            continue;
        }
        // `frule([config,] (Δf, Δx...), ::typeof(g), x...)`.
        let mut params = f.params.iter().skip_while(|p| {
            p.annotation
                .as_deref()
                .is_some_and(|a| a.contains("RuleConfig"))
        });
        let _tangents = params.next();
        let Some(target) = params.next().and_then(|p| p.annotation.as_deref()) else {
            continue;
        };
        let Some(name) = target
            .strip_prefix("typeof(")
            .and_then(|s| s.strip_suffix(')'))
        else {
            continue;
        };
        let rest: Vec<Param> = params.copied().collect();
        out.push(XRule {
            kind: "frule".to_string(),
            function: name.rsplit('.').next().unwrap_or(name).to_string(),
            functor: false,
            params: rest.iter().map(encode_param).collect(),
            arity: Some(arity_of(&rest)),
            at: format!("{rel}:{}", line_of(facts, f.span.start)),
            since: None,
        });
    }
}

/// The named function a closure or a block belongs to: its code runs when that function
/// runs.
fn owner(facts: &FileFacts, mut func: u32) -> Option<u32> {
    loop {
        let f = &facts.functions[func as usize];
        match f.kind {
            FunctionKind::Named => return Some(func),
            FunctionKind::TopLevel | FunctionKind::RuleBody | FunctionKind::Functor { .. } => {
                return None
            }
            _ => func = f.parent.get()?,
        }
    }
}

fn read_functions(facts: &FileFacts, rel: &str, out: &mut Vec<Method>) {
    let mut by_func: HashMap<u32, usize> = HashMap::new();
    for (i, f) in facts.functions.iter().enumerate() {
        if f.kind != FunctionKind::Named || f.in_macro.is_some_and(|m| m == "@generated") {
            continue;
        }
        let Some(name) = f.name.filter(|n| !n.starts_with('$')) else {
            continue;
        };
        by_func.insert(i as u32, out.len());
        out.push(Method {
            x: XFunction {
                name: name.to_string(),
                // Where the method's function lives: the qualifier written, else the
                // module around the definition in this file (`module BLAS`), else the
                // package's own module (empty).
                module: if f.qualifier.is_empty() {
                    f.module
                        .get()
                        .map(|m| facts.modules[m as usize].name.to_string())
                        .unwrap_or_default()
                } else {
                    f.qualifier.join(".")
                },
                arity: arity_of(&f.params),
                at: format!("{rel}:{}", line_of(facts, f.span.start)),
                foreign: None,
                writes: Vec::new(),
                calls: Vec::new(),
            },
            callees: Vec::new(),
        });
    }
    let param_of = |func: u32, v: &Value| -> Option<usize> {
        let name = v.as_name()?;
        facts.functions[func as usize]
            .param_index(name)
            .map(|i| i + 1)
    };
    for call in &facts.calls {
        let Some(func) = owner(facts, call.func) else {
            continue;
        };
        let Some(&m) = by_func.get(&func) else {
            continue;
        };
        let Some(name) = call.name() else { continue };
        let method = &mut out[m];
        match name.as_str() {
            "ccall" | "cglobal" | "llvmcall" | "foreigncall" => {
                method.x.foreign.get_or_insert_with(|| {
                    format!("{name} at {rel}:{}", line_of(facts, call.span.start))
                });
                continue;
            }
            _ => {}
        }
        if call.has_splat {
            continue;
        }
        let args: Vec<String> = facts
            .args(call.args)
            .iter()
            .map(|a| param_of(func, a).map_or("_".to_string(), |i| i.to_string()))
            .collect();
        let encoded = format!("{}({})", call.callee.join("."), args.join(","));
        if !method.x.calls.contains(&encoded) {
            method.x.calls.push(encoded);
            method.callees.push(name.to_string());
        }
    }
    for site in &facts.sites {
        let Some(func) = owner(facts, site.func) else {
            continue;
        };
        let Some(&m) = by_func.get(&func) else {
            continue;
        };
        let target = match &site.kind {
            SiteKind::IndexAssign { target, .. } => target,
            SiteKind::BroadcastAssign { target, .. } => target,
            SiteKind::Macro { path } => {
                if path.last().is_some_and(|n| n == "@ccall") {
                    let line = line_of(facts, site.span.start);
                    out[m]
                        .x
                        .foreign
                        .get_or_insert_with(|| format!("@ccall at {rel}:{line}"));
                }
                continue;
            }
            _ => continue,
        };
        if let Some(i) = param_of(func, target) {
            let w = &mut out[m].x.writes;
            if !w.contains(&i) {
                w.push(i);
                w.sort_unstable();
            }
        }
    }
}

/// The function a rule-importing macro names.
fn imported_function(body: &str, macro_name: &str) -> Option<String> {
    let name_of = |path: &str| {
        let n = path.rsplit('.').next().unwrap_or(path).trim();
        (!n.is_empty()
            && !n.contains('$')
            && n.chars().all(|c| c.is_alphanumeric() || "_!∇".contains(c)))
        .then(|| n.to_string())
    };
    // `@grad_from_chainrules` takes a call (`Base.sum(::typeof(abs2), x)`: the function is
    // `sum`); the others a signature type whose first element is `typeof(f)`.
    if macro_name == "@grad_from_chainrules" {
        let rest = body
            .split_once(macro_name)?
            .1
            .trim_start_matches(['(', ' ', '\n']);
        return name_of(&rest[..rest.find('(')?]);
    }
    let i = body.find("typeof(")?;
    let rest = &body[i + "typeof(".len()..];
    name_of(&rest[..rest.find(')')?])
}
