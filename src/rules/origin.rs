//! Where a written-to object comes from: a small flow-insensitive dataflow over locals,
//! parameters (followed to the call sites that bind them) and constructor calls. Writes
//! into a `Dict`, a `Ref` or a `Zygote.Buffer` are supported by Zygote; writes into arrays
//! are not; when the type cannot be known, the mutation rules assume an array and say so.

use super::RuleContext;
use crate::facts::{FuncIdx, Span, Value};
use crate::index::FuncRef;
use crate::knowledge::OriginKind;

#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A container Zygote supports writing into.
    Supported {
        kind: OriginKind,
        at: Option<(u32, Span)>,
    },
    /// Known to be an array: how it was made and where, and whether its elements are
    /// `Bool` (`falses(n)`, `zeros(Bool, n)`): a few in-place functions have rules then.
    Array {
        how: String,
        at: Option<(u32, Span)>,
        bools: bool,
    },
    /// A number or string: not something index writes apply to.
    NotArray,
    /// Not known; `why` says what it is (an argument, a field, a call result).
    Unknown { why: String },
}

impl Origin {
    pub fn is_supported(&self) -> bool {
        matches!(self, Origin::Supported { .. } | Origin::NotArray)
    }
}

fn combine(a: Origin, b: Origin) -> Origin {
    use Origin::*;
    match (a, b) {
        // Holding `Bool` only when every value does.
        (Array { how, at, bools }, Array { bools: also, .. }) => Array {
            how,
            at,
            bools: bools && also,
        },
        (x @ Array { .. }, _) | (_, x @ Array { .. }) => x,
        (x @ Unknown { .. }, _) | (_, x @ Unknown { .. }) => x,
        (x @ Supported { .. }, _) => x,
        (_, y) => y,
    }
}

/// The origin of `value` as seen at `at` in function `func` of `file`. A local assigned
/// before `at` by an assignment that dominates it (earlier, in a block around `at`), and
/// not assigned after it, has that assignment's origin only: after `stk = [];
/// stk = Zygote.Stack(stk)`, `stk` is a `Stack`.
pub fn origin_of(cx: &RuleContext, file: u32, func: FuncIdx, value: &Value, at: Span) -> Origin {
    STEPS.with(|s| s.set(0));
    if let Value::Ident(name) = value {
        let facts = &cx.facts[file as usize];
        let mine: Vec<_> = facts.assigns_to(func, *name).collect();
        let later = mine.iter().any(|a| a.span.start >= at.start);
        let dominating = (mine.iter())
            .filter(|a| a.span.end <= at.start)
            .max_by_key(|a| a.span.start)
            .filter(|a| a.block.contains(at));
        if let (false, Some(a)) = (later, dominating) {
            return with_place(origin_rec(cx, file, func, &a.value, 1), file, a.span);
        }
    }
    origin_rec(cx, file, func, value, 0)
}

/// An origin made by the assignment at `span`, located there.
fn with_place(o: Origin, file: u32, span: Span) -> Origin {
    match o {
        Origin::Array {
            how,
            at: None,
            bools,
        } => Origin::Array {
            how,
            at: Some((file, span)),
            bools,
        },
        Origin::Supported { kind, at: None } => Origin::Supported {
            kind,
            at: Some((file, span)),
        },
        o => o,
    }
}

thread_local! {
    /// Values looked at by the current [`origin_of`]: a function with many call sites
    /// whose arguments are parameters of functions with many call sites multiplies the
    /// work at each level, so one search stops after [`MAX_STEPS`].
    static STEPS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}
const MAX_STEPS: u32 = 512;

fn origin_rec(cx: &RuleContext, file: u32, func: FuncIdx, value: &Value, depth: u32) -> Origin {
    let steps = STEPS.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    if depth > 6 || steps > MAX_STEPS {
        return Origin::Unknown {
            why: "its origin is too far away to follow".into(),
        };
    }
    let k = cx.knowledge();
    match value {
        Value::Ident(name) => ident_origin(cx, file, func, name, depth),
        Value::Call { callee, args } => {
            let Some(last) = callee.last() else {
                return Origin::Unknown {
                    why: "it is the result of a call".into(),
                };
            };
            match di_context(cx, file, func, callee) {
                Some("Cache") => {
                    return Origin::Supported {
                        kind: OriginKind::Buffer,
                        at: None,
                    }
                }
                Some(_) => {
                    if let Some(inner) = cx.facts[file as usize].args(*args).first() {
                        return origin_rec(cx, file, func, inner, depth + 1);
                    }
                }
                None => {}
            }
            match k.origin(last) {
                Some(OriginKind::SameAsFirst) => {
                    let first = cx.facts[file as usize].args(*args).first();
                    let inner = first.map(|a| origin_rec(cx, file, func, a, depth + 1));
                    match inner {
                        // `copy(buf)` of a `Zygote.Buffer` is the array it built.
                        Some(Origin::Supported {
                            kind: OriginKind::Buffer,
                            ..
                        }) => Origin::Array {
                            how: format!("made by `{}(...)` of a `Buffer`", callee.join(".")),
                            at: None,
                            bools: false,
                        },
                        Some(o @ (Origin::Supported { .. } | Origin::NotArray)) => o,
                        Some(Origin::Array { bools, .. }) => Origin::Array {
                            how: format!("made by `{}(...)`", callee.join(".")),
                            at: None,
                            // `similar(x, Bool)` gives an element type of its own.
                            bools: bools || makes_bools(cx, file, value),
                        },
                        _ => Origin::Array {
                            how: format!("made by `{}(...)`", callee.join(".")),
                            at: None,
                            bools: makes_bools(cx, file, value),
                        },
                    }
                }
                Some(OriginKind::Array) => Origin::Array {
                    how: format!("made by `{}(...)`", callee.join(".")),
                    at: None,
                    bools: makes_bools(cx, file, value),
                },
                Some(kind) => Origin::Supported { kind, at: None },
                None => Origin::Unknown {
                    why: format!("it is the result of `{}(...)`", callee.join(".")),
                },
            }
        }
        Value::Array => Origin::Array {
            how: "an array literal or comprehension".into(),
            at: None,
            bools: false,
        },
        Value::Number | Value::Str | Value::Nothing | Value::Bool(_) | Value::Tuple => {
            Origin::NotArray
        }
        Value::Path(p) => field_origin(cx, file, func, p).unwrap_or_else(|| Origin::Unknown {
            why: format!("`{}` is a field whose type is not known", p.join(".")),
        }),
        Value::Func(_) => Origin::NotArray,
        _ => Origin::Unknown {
            why: "its type is not known here".into(),
        },
    }
}

fn ident_origin(cx: &RuleContext, file: u32, func: FuncIdx, name: &str, depth: u32) -> Origin {
    let facts = &cx.facts[file as usize];
    let global = || Origin::Unknown {
        why: format!("`{name}` is a global whose type is not known here"),
    };
    // A name never interned is no parameter and assigned nowhere.
    let Some(interned) = crate::name::Name::lookup(name) else {
        return global();
    };
    let binds = |f: FuncIdx| {
        let def = &facts.functions[f as usize];
        let binds = def.param_index_of(interned).is_some()
            || facts.assigns_to(f, interned).next().is_some();
        binds.then_some(true)
    };
    let found =
        crate::facts::first_around(&cx.binders, &facts.functions, file, func, interned, binds);
    let Some(f) = found else {
        return global();
    };
    if let Some(i) = facts.functions[f as usize].param_index_of(interned) {
        return param_origin(cx, FuncRef { file, func: f }, i, name, depth);
    }
    let mut acc: Option<Origin> = None;
    let mut assigns = facts.assigns_to(f, interned).peekable();
    while let Some(a) = assigns.next() {
        let o = with_place(origin_rec(cx, file, f, &a.value, depth + 1), file, a.span);
        acc = Some(match acc {
            None => o,
            Some(prev) => combine(prev, o),
        });
        // With the search's steps spent, every further assignment is "too far to follow":
        // one says it (each of 8,000 writes of a local assigned 8,000 times went through
        // all of them).
        if STEPS.with(|s| s.get()) > MAX_STEPS && assigns.peek().is_some() {
            let a = assigns.next().expect("peeked");
            let o = origin_rec(cx, file, f, &a.value, depth + 1);
            acc = acc.map(|prev| combine(prev, o));
            break;
        }
    }
    acc.unwrap_or_else(global)
}

/// What a declared type says of a value (`how` describes the declaration for messages):
/// `None` when it does not tell.
fn declared_origin(cx: &RuleContext, ann: &str, how: impl FnOnce() -> String) -> Option<Origin> {
    let base = crate::facts::base_type_name(ann);
    let supported = |kind| Some(Origin::Supported { kind, at: None });
    if base.contains("Dict") {
        return supported(OriginKind::Dict);
    }
    if base == "Buffer" {
        return supported(OriginKind::Buffer);
    }
    if base.starts_with("Ref") || base == "RefValue" {
        return supported(OriginKind::Ref);
    }
    if base.contains("Array")
        || base.contains("Vector")
        || base.contains("Matrix")
        || cx.knowledge().origin(&base) == Some(OriginKind::Array)
    {
        let bools = base.starts_with("Bit") || ann.contains("{Bool");
        return Some(Origin::Array {
            how: how(),
            at: None,
            bools,
        });
    }
    use crate::facts::TypeFamily;
    match crate::facts::type_family(ann) {
        Some(TypeFamily::Number | TypeFamily::Text) => Some(Origin::NotArray),
        _ => None,
    }
}

/// The origin of `object.field` from the field's declared type, when the object's struct
/// is known (an annotated argument, a functor's own object, a constructor call).
fn field_origin(
    cx: &RuleContext,
    file: u32,
    func: FuncIdx,
    path: &[crate::name::Name],
) -> Option<Origin> {
    let [object, field] = path else { return None };
    let ty = struct_type_of(cx, file, func, &Value::Ident(*object))?;
    let defs = cx.index.structs.get(&crate::name::Name::lookup(&ty)?)?;
    // Every struct of that name must declare the field's type, and say the same.
    let mut declared = None;
    for &(f, s) in defs {
        let def = &cx.facts[f as usize].structs[s];
        let i = def.fields.iter().position(|n| n == field)?;
        let ann = (*def.field_types.get(i)?)?;
        if declared.is_some_and(|d| d != ann) {
            return None;
        }
        declared = Some(ann);
    }
    let ann = declared?;
    declared_origin(cx, &ann, || {
        format!("the field `{ty}.{field}` declared `{ann}`")
    })
}

fn param_origin(cx: &RuleContext, f: FuncRef, index: usize, name: &str, depth: u32) -> Origin {
    let def = &cx.facts[f.file as usize].functions[f.func as usize];
    if let Some(ann) = def.params[index].annotation.as_deref() {
        if let Some(o) = declared_origin(cx, ann, || format!("the argument `{name}::{ann}`")) {
            return o;
        }
    }
    // The values bound to it: at the call sites that reach this function, and at the entry
    // calls that differentiate it with their arguments (`DI.gradient(f, AutoZygote(), x,
    // DI.Cache(c))` runs `f(x, <a Buffer of c>)`), as (file, calling function, value).
    let mut bound: Vec<(u32, FuncIdx, &Value)> = Vec::new();
    for (cf, ci) in cx.graph.call_sites_of(f) {
        let call = &cx.facts[cf as usize].calls[ci as usize];
        let caller = FuncRef {
            file: cf,
            func: call.func,
        };
        if let Some(arg) = cx.facts[cf as usize].args(call.args).get(index) {
            if cx.graph.is_reached(caller) {
                bound.push((cf, call.func, arg));
            }
        }
    }
    for e in cx.graph.entries_of_root(f) {
        let Some((first, _)) = e.passes.filter(|&(_, count)| (index as u32) < count) else {
            continue;
        };
        let call = &cx.facts[e.file as usize].calls[e.call as usize];
        let args = cx.facts[e.file as usize].args(call.args);
        let (first, at) = (first as usize, first as usize + index);
        // A splat at or before it leaves the position unknown.
        let splat =
            (args.get(first..=at)).is_none_or(|a| a.iter().any(|v| matches!(v, Value::Splat(_))));
        if !splat {
            bound.push((e.file, e.caller.func, &args[at]));
        }
    }
    let acc = (bound.into_iter())
        .map(|(file, func, arg)| origin_rec(cx, file, func, arg, depth + 1))
        .reduce(combine);
    acc.unwrap_or(Origin::Unknown {
        why: format!("`{name}` is an argument whose type is not known here"),
    })
}

/// A DifferentiationInterface context, `DI.Cache(c)` or `DI.Constant(c)` (or unqualified
/// where `using DifferentiationInterface` brings it in): its name. DI's Zygote extension
/// hands the function a `Cache` as a `Zygote.Buffer` and a `Constant` as the value itself
/// (zygote-semantics.md §1.2).
fn di_context(
    cx: &RuleContext,
    file: u32,
    func: FuncIdx,
    callee: &[crate::name::Name],
) -> Option<&'static str> {
    const DI: &str = "DifferentiationInterface";
    let (last, qualifier) = callee.split_last()?;
    let name = ["Cache", "Constant"].into_iter().find(|n| last == n)?;
    let module = cx.index.function_module(FuncRef { file, func }, cx.facts);
    let unit = cx.index.unit_of(file);
    let from_di = match qualifier.last() {
        Some(&q) => cx.index.unalias(unit, module, q) == DI,
        None => (cx.index).package_in_scope(unit, module, &[DI.to_string()], *last),
    };
    from_di.then_some(name)
}

/// Whether a call that makes an array makes one of `Bool`: `falses(n)`, `trues(n)`,
/// `BitVector(...)`, or a maker given the type, `zeros(Bool, n)`, `similar(x, Bool)`.
fn makes_bools(cx: &RuleContext, file: u32, value: &Value) -> bool {
    let Value::Call { callee, args } = value else {
        return false;
    };
    let Some(last) = callee.last() else {
        return false;
    };
    if cx.knowledge().makes_bool_array(last) {
        return true;
    }
    // A maker given the element type.
    match last.as_str() {
        "zeros" | "ones" | "similar" | "fill" | "Array" => (cx.facts[file as usize])
            .args(*args)
            .iter()
            .any(|a| a.as_name() == Some("Bool")),
        _ => false,
    }
}

/// The phrase a mutation message uses for the target, in a finding in `file`: where the
/// array was made is a line of that file, or a path and line in another.
pub fn describe(target: &str, origin: &Origin, cx: &RuleContext, file: u32) -> String {
    match origin {
        Origin::Array { how, at, .. } => {
            let place = at
                .map(|(f, s)| match f == file {
                    true => format!(" (line {})", cx.line_of(f, s.start)),
                    false => format!(
                        " ({}:{})",
                        cx.files[f as usize].display,
                        cx.line_of(f, s.start)
                    ),
                })
                .unwrap_or_default();
            format!("`{target}` is an array, {how}{place}")
        }
        Origin::Unknown { why } => {
            format!("adlint assumes `{target}` is an array: {why}")
        }
        _ => format!("`{target}`"),
    }
}

/// The related-information entry pointing at where the array was made.
pub fn related(origin: &Origin, target: &str) -> Option<crate::diagnostic::Related> {
    match origin {
        Origin::Array {
            at: Some((file, span)),
            ..
        } => Some(crate::diagnostic::Related {
            location: crate::diagnostic::Location {
                file: *file,
                span: *span,
            },
            message: format!("`{target}` is allocated here"),
        }),
        _ => None,
    }
}

/// The struct type of an object, when the workspace can tell: an annotated argument, the
/// object of a call method (`(m::T)(x)`), or a local made by a constructor.
pub fn struct_type_of(cx: &RuleContext, file: u32, func: FuncIdx, value: &Value) -> Option<String> {
    let Value::Ident(name) = value else {
        return None;
    };
    let facts = &cx.facts[file as usize];
    let mut cur = Some(func);
    while let Some(f) = cur {
        let def = &facts.functions[f as usize];
        if let crate::facts::FunctionKind::Functor {
            type_name,
            self_name: Some(s),
        } = &def.kind
        {
            if s == name {
                return Some(type_name.to_string());
            }
        }
        if let Some(i) = def.param_index(name) {
            return def.params[i]
                .annotation
                .as_deref()
                .map(crate::facts::base_type_name);
        }
        let assigned: Vec<&Value> = facts
            .assigns
            .iter()
            .filter(|a| a.func == f && a.var == *name)
            .map(|a| &a.value)
            .collect();
        if !assigned.is_empty() {
            return assigned.iter().find_map(|v| match v {
                Value::Call { callee, .. } => callee
                    .last()
                    .filter(|c| cx.index.structs.contains_key(*c))
                    .map(|c| c.to_string()),
                _ => None,
            });
        }
        cur = def.parent.get();
    }
    None
}
