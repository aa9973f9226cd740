//! `boxed-variable`: a local captured by a closure that Julia's lowering puts in a
//! `Core.Box`, in differentiated code.

use super::{Rule, RuleContext};
use crate::diagnostic::{
    Category, Diagnostic, FixBuilder, Location, Related, Severity, MAX_RELATED,
};
use crate::facts::{Assign, AssignKind, FileFacts, FuncIdx, FunctionKind, Span};
use crate::index::FuncRef;
use crate::name::Name;
use std::collections::{BTreeMap, HashMap};

pub struct BoxedVariable;

const DOCS: &str = r#"## What it does
Reports a local variable that a closure captures and that Julia boxes, when the closure is
differentiated or runs inside differentiated code. Closures are `x -> ...`, do-blocks,
inner functions, comprehensions and generators, and the bodies of `Threads.@threads`,
`@spawn` and `@async`. Julia's lowering boxes a captured local unless it is assigned
exactly once (an argument counts as assigned) and that assignment comes before every
capture in the same block: a variable assigned again anywhere, assigned inside the closure,
or assigned only inside an `if`, loop or `try` that does not contain the closure is boxed.
The finding points at the re-binding that makes Julia box the variable; the capture and
the other assignments are related information.

## Why is this bad
A boxed variable is a `Core.Box`, a mutable struct. Zygote differentiates reads and writes
of its `contents` field through its mutable-struct support, which gives `nothing` or wrong
gradients and errors such as `MethodError: no method matching +(::NamedTuple{(:contents,)...},
::Base.RefValue{Any})` (Zygote issues #1290, #1540). Zygote's own test of a stateful closure
`s = 0; f(x) = (s += x)` is marked broken for broadcasting.

It matters where a gradient goes through the box: differentiated code assigns it, or it
holds what an entry returned. A box assigned only outside differentiated code holds a
constant for the gradient (a counter, a setting, data computed before the entry: what the
enclosing code computes is a constant even when it comes from the value passed to the
entry, which differentiates with respect to its own parameter). A box that each closure
assigns before reading it carries no value from one function or call to another (Zygote's
own tests re-bind a testset's `buf` or `A` first thing in a do-block and pass). Both are
reported as `info` hints, with the reason.

## Example
```julia
using Zygote

function interpolate_all(tvals, ts, us)
    idx = 2
    vals = map(tvals) do t
        while idx < length(ts) && ts[idx] < t
            idx += 1
        end
        us[idx]
    end
    return vals
end

gradient(u -> sum(interpolate_all([0.1, 0.6], [0.0, 0.5, 1.0], u)), rand(3))
```

## Use instead
```julia
using Zygote

function interpolate_all(tvals, ts, us)
    vals = map(tvals) do t
        idx = 2
        while idx < length(ts) && ts[idx] < t
            idx += 1
        end
        us[idx]
    end
    return vals
end

gradient(u -> sum(interpolate_all([0.1, 0.6], [0.0, 0.5, 1.0], u)), rand(3))
```
Give the re-bound value a new name, make the variable local to the closure, or bind it in a
`let` block (`let x = x; ... end`) right before the closure.

## Fix safety
A `let` copy freezes the value the closure sees, and a closure that re-binds the variable
stays boxed, so the help shows it (`f = let s = s; () -> s + x end`) only when every
assignment of the variable comes before the closure is made; otherwise it shows the user's
code with a `Ref` that the closure and the re-bindings share (`s = Ref(0.0)`,
`f = () -> s[] + x`, `s[] = 1.0`), which keeps the result. adlint never applies either.
"#;

/// One binding event of a variable in the enclosing function or in the closure.
#[derive(Clone, Copy)]
struct Event {
    span: Span,
    in_closure: bool,
}

impl Rule for BoxedVariable {
    fn name(&self) -> &'static str {
        "boxed-variable"
    }
    fn category(&self) -> Category {
        Category::BoxedVariable
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "captured variable is boxed (Core.Box) in differentiated code"
    }
    fn docs(&self) -> &'static str {
        DOCS
    }
    /// The guidance shows the finding's own code rewritten, and stands in for the help
    /// `check` sets whenever it recognises that code.
    fn fixes(&self) -> &'static [FixBuilder] {
        &[FixBuilder::BoxedGuidance]
    }
    fn check(&self, cx: &RuleContext, out: &mut Vec<Diagnostic>) {
        // Grouped by the primary span: `(a, b) = f()` boxing two variables is one finding.
        let mut found: BTreeMap<(u32, Span), Group> = BTreeMap::new();
        for (fi, facts) in cx.facts.iter().enumerate() {
            let file = fi as u32;
            // Built when the file's first reached closure needs it.
            let mut by_func: Option<ByFunc> = None;
            let mut outers = HashMap::new();
            for (ci, closure) in facts.functions.iter().enumerate() {
                let ci = ci as FuncIdx;
                let is_inner_named = closure.kind == FunctionKind::Named
                    && closure.parent.get().is_some_and(|p| p != 0);
                if !(closure.kind.is_closure() || is_inner_named) {
                    continue;
                }
                if !cx.graph.is_reached(FuncRef { file, func: ci }) {
                    continue;
                }
                let Some(parent) = closure.parent.get() else {
                    continue;
                };
                let pdef = &facts.functions[parent as usize];
                if matches!(
                    pdef.kind,
                    FunctionKind::TopLevel | FunctionKind::Region { .. }
                ) {
                    // Captured globals are not boxed.
                    continue;
                }
                let by_func = by_func.get_or_insert_with(|| ByFunc::new(facts));
                let parent_reached = cx.graph.is_reached(FuncRef { file, func: parent });
                for (var, primary, captures, events, outer) in
                    boxed_in(facts, by_func, &mut outers, parent, ci)
                {
                    // Differentiated code assigns the box (the closure, reached, or the
                    // enclosing function when it is differentiated itself), or a value
                    // that depends on differentiation goes in: a result of an entry call
                    // (`(l, st), back = pullback(...)`), or a value computed from what an
                    // entry differentiates.
                    let differentiated = events.iter().any(|e| e.in_closure)
                        || parent_reached
                        || *outer.carries.get_or_init(|| {
                            (outer.rebinds.iter())
                                .any(|&(span, _)| carries_differentiated(cx, file, parent, span))
                        });
                    // A closure that assigns the variable before it reads it, with no
                    // other code of the enclosing function reading it while it is
                    // differentiated, keeps only its own value in the box: no gradient
                    // crosses from one function or call to another through it.
                    let own_value = !parent_reached
                        && written_first(cx, facts, by_func, file, parent, ci, &var);
                    let entry = found.entry((file, primary)).or_insert_with(|| Group {
                        func: parent,
                        vars: Vec::new(),
                        related: BTreeMap::new(),
                        more: false,
                        differentiated: false,
                        own_value: true,
                    });
                    entry.differentiated |= differentiated;
                    entry.own_value &= own_value;
                    if !entry.vars.contains(&var) {
                        entry.vars.push(var.clone());
                    }
                    for c in captures.into_iter().take(1) {
                        entry.relate(Location { file, span: c }, || {
                            let label = closure.display_name(facts);
                            format!("`{var}` is captured here by the {label}")
                        });
                    }
                    for e in events.iter().filter(|e| e.span != primary) {
                        entry.relate(Location { file, span: e.span }, || {
                            format!(
                                "`{var}` is also assigned here{}",
                                if e.in_closure {
                                    " (inside the closure)"
                                } else {
                                    ""
                                }
                            )
                        });
                    }
                }
            }
        }
        for ((file, span), group) in found {
            let Group {
                func,
                vars,
                related,
                more,
                differentiated,
                own_value,
            } = group;
            let names = vars
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let plural = vars.len() > 1;
            let reached_func = if cx.graph.is_reached(FuncRef { file, func }) {
                func
            } else {
                // The enclosing function may not be differentiated itself (a training
                // loop); the chain then starts at the closure that is.
                closure_reached(cx, file, func).unwrap_or(func)
            };
            let mut d = cx.diagnostic(self, file, reached_func, span, String::new());
            d.function = Some(cx.function_name(FuncRef { file, func }).into());
            d.message = format!(
                "captured variable{} {names} {} boxed: {} re-bound here while a closure captures {} (reached from {}); Zygote differentiates a `Core.Box` as a mutable struct, which gives wrong or `nothing` gradients",
                if plural { "s" } else { "" },
                if plural { "are" } else { "is" },
                if plural { "they are" } else { "it is" },
                if plural { "them" } else { "it" },
                cx.entry_phrase(&d)
            );
            d.help = Some(format!(
                "use a new name for the re-bound value, or bind {names} in a `let` block right before the closure"
            ).into());
            // Assigned only outside differentiated code (a counter, a setting, data the
            // program computed before), the box holds no value a gradient flows through
            // (zygote-semantics.md §5.2): a hint.
            if differentiated && own_value {
                d.severity = Severity::Info;
                d.message.push_str(&format!(
                    "; the closure assigns {} before reading {}, so the box only carries the closure's own value within one call (Zygote differentiates that); declare {} `local` in the closure to drop the box",
                    if plural { "them" } else { "it" },
                    if plural { "them" } else { "it" },
                    if plural { "them" } else { "it" },
                ));
            } else if !differentiated {
                d.severity = Severity::Info;
                d.message.push_str(&format!(
                    "; {} assigned only outside differentiated code, so no gradient flows through the box",
                    if plural { "they are" } else { "it is" }
                ));
            }
            if more {
                d.message.push_str(&format!(
                    "; the first {MAX_RELATED} places where {} captured or assigned are listed, not the others",
                    if plural { "they are" } else { "it is" }
                ));
            }
            d.related = related.into_values().collect();
            out.push(d);
        }
    }
}

/// Whether the assignment at `span` in `parent` puts a value that depends on
/// differentiation into the variable: the result of an entry call (`(l, st), back =
/// pullback(...)`). What the enclosing code computes otherwise is a constant for the
/// differentiated closure, even from the value it passes to the entry (`P = plan_fft(x)`
/// beside `gradient(x -> ..., x)`: the entry differentiates with respect to the closure's
/// own parameter), and implicit parameters (`params(model)`) are found by identity, not
/// through the box that holds the model.
fn carries_differentiated(cx: &RuleContext, file: u32, parent: FuncIdx, span: Span) -> bool {
    let facts = &cx.facts[file as usize];
    (facts.calls.iter())
        .filter(|c| c.func == parent && span.contains(c.span))
        .any(|c| {
            c.adjoint
                || c.name()
                    .is_some_and(|n| cx.knowledge().is_entry_api_name(n))
        })
}

/// Whether `closure` assigns `var` before anything reads it, and so does every other
/// function inside `parent` that uses `var` ([`assigns_first`]). Each such closure could
/// hold `var` as a local of its own; the box exists only because `parent` has a variable
/// of that name, and no value crosses from one function to another through it.
fn written_first(
    cx: &RuleContext,
    facts: &FileFacts,
    by: &ByFunc,
    file: u32,
    parent: FuncIdx,
    closure: FuncIdx,
    var: &str,
) -> bool {
    let inside = by.subtree(closure);
    assigns_first(cx, facts, by, file, closure, &inside, var)
        && (by.children.of(parent).iter())
            .filter(|&&child| child != closure)
            .all(|&child| uses_only_own(cx, facts, by, file, child, var))
}

/// Whether `func` leaves the outer `var` alone: it has a `var` of its own (a parameter),
/// or assigns `var` before reading it ([`assigns_first`]), or does not use `var` itself
/// and each function inside it is so.
fn uses_only_own(
    cx: &RuleContext,
    facts: &FileFacts,
    by: &ByFunc,
    file: u32,
    func: FuncIdx,
    var: &str,
) -> bool {
    let def = &facts.functions[func as usize];
    if (def.params.iter()).any(|p| p.name.is_some_and(|n| n == var)) {
        return true;
    }
    let uses_here = (by.refs.of(func).iter()).any(|&i| facts.refs[i as usize].name == var)
        || (by.assigns.of(func).iter()).any(|&i| facts.assigns[i as usize].var == var);
    if uses_here {
        return assigns_first(cx, facts, by, file, func, &by.subtree(func), var);
    }
    (by.children.of(func).iter()).all(|&child| uses_only_own(cx, facts, by, file, child, var))
}

/// Whether `func` (with `inside`, its functions) first assigns `var` with a plain or
/// destructuring assignment in its own body, outside any `if`, loop or `try`, and reads
/// `var` only after it.
fn assigns_first(
    cx: &RuleContext,
    facts: &FileFacts,
    by: &ByFunc,
    file: u32,
    func: FuncIdx,
    inside: &[FuncIdx],
    var: &str,
) -> bool {
    let def = &facts.functions[func as usize];
    let first = ByFunc::gather(&by.assigns, inside)
        .into_iter()
        .map(|i| &facts.assigns[i as usize])
        .filter(|a| a.var == var && a.kind != AssignKind::Default)
        .min_by_key(|a| a.span.start);
    let Some(first) = first else {
        return false;
    };
    if first.func != func
        || first.block != def.span
        || !matches!(first.kind, AssignKind::Plain | AssignKind::Destructure)
    {
        return false;
    }
    // The left side ends at the assignment's `=`; names before it are what it writes.
    let bytes = cx.text(file, first.span).as_bytes();
    let Some(eq) = (0..bytes.len()).find(|&i| {
        bytes[i] == b'='
            && bytes.get(i + 1) != Some(&b'=')
            && (i == 0 || !b"=<>!".contains(&bytes[i - 1]))
    }) else {
        return false;
    };
    let lhs_end = first.span.start + eq as u32;
    ByFunc::gather(&by.refs, inside)
        .into_iter()
        .map(|i| &facts.refs[i as usize])
        .filter(|r| r.name == var)
        .all(|r| {
            r.span.start >= first.span.end
                || (r.span.start >= first.span.start && r.span.end <= lhs_end)
        })
}

/// A reached closure inside `func` (for the chain of a finding whose function is not
/// itself differentiated).
fn closure_reached(cx: &RuleContext, file: u32, func: FuncIdx) -> Option<FuncIdx> {
    let facts = &cx.facts[file as usize];
    facts
        .functions
        .iter()
        .enumerate()
        .find(|(i, f)| {
            f.parent.get() == Some(func)
                && cx.graph.is_reached(FuncRef {
                    file,
                    func: *i as FuncIdx,
                })
        })
        .map(|(i, _)| i as FuncIdx)
}

/// A file's functions' children, variable reads and assignments, by function (each list
/// in the order of the facts), as one flat list each with offsets.
struct ByFunc {
    children: Grouped,
    refs: Grouped,
    assigns: Grouped,
    /// The functions in preorder: the subtree of `f` is `order[pos[f]..end[f]]`.
    order: Vec<FuncIdx>,
    pos: Vec<u32>,
    end: Vec<u32>,
    /// How many functions, references and re-binding assignments come before each position
    /// of `order` (the size of a subtree, without walking it).
    uses_before: Vec<u32>,
    /// The references as (name, position of their function, index), sorted: those of one
    /// name in a subtree are a run.
    refs_at: Vec<(u32, u32, u32)>,
    /// The re-binding assignments ([`rebinds`]) likewise.
    rebinds_at: Vec<(u32, u32, u32)>,
    /// The assignments as (function, name, index), sorted.
    assigns_named: Vec<(FuncIdx, u32, u32)>,
}

/// Numbers grouped by function: the group of function `f` is
/// `items[offsets[f]..offsets[f + 1]]`.
struct Grouped {
    offsets: Vec<u32>,
    items: Vec<u32>,
}

impl Grouped {
    /// Group `0..keys.len()` by key (`None`: in no group), keeping their order.
    fn new(groups: usize, keys: impl Iterator<Item = Option<FuncIdx>> + Clone) -> Grouped {
        let mut offsets = vec![0u32; groups + 1];
        for k in keys.clone().flatten() {
            offsets[k as usize + 1] += 1;
        }
        for i in 0..groups {
            offsets[i + 1] += offsets[i];
        }
        let mut next = offsets.clone();
        let mut items = vec![0u32; offsets[groups] as usize];
        for (i, k) in keys.enumerate() {
            if let Some(k) = k {
                items[next[k as usize] as usize] = i as u32;
                next[k as usize] += 1;
            }
        }
        Grouped { offsets, items }
    }

    fn of(&self, f: FuncIdx) -> &[u32] {
        &self.items[self.offsets[f as usize] as usize..self.offsets[f as usize + 1] as usize]
    }
}

impl ByFunc {
    fn new(facts: &FileFacts) -> ByFunc {
        let n = facts.functions.len();
        let children = Grouped::new(n, facts.functions.iter().map(|f| f.parent.get()));
        let refs = Grouped::new(n, facts.refs.iter().map(|r| Some(r.func)));
        let assigns = Grouped::new(n, facts.assigns.iter().map(|a| Some(a.func)));
        // Preorder from each function without a parent (then any other, unvisited).
        let mut order: Vec<FuncIdx> = Vec::with_capacity(n);
        let mut pos = vec![u32::MAX; n];
        let mut end = vec![0u32; n];
        let mut stack: Vec<(FuncIdx, bool)> = Vec::new();
        let roots =
            (0..n as FuncIdx).filter(|&f| facts.functions[f as usize].parent.get().is_none());
        for root in roots.chain(0..n as FuncIdx) {
            if pos[root as usize] != u32::MAX {
                continue;
            }
            stack.push((root, false));
            while let Some((f, done)) = stack.pop() {
                if done {
                    end[f as usize] = order.len() as u32;
                    continue;
                }
                if pos[f as usize] != u32::MAX {
                    continue;
                }
                pos[f as usize] = order.len() as u32;
                order.push(f);
                stack.push((f, true));
                for &c in children.of(f).iter().rev() {
                    stack.push((c, false));
                }
            }
        }
        let mut uses_before = vec![0u32; n + 1];
        for (p, &f) in order.iter().enumerate() {
            let rebinding = (assigns.of(f).iter())
                .filter(|&&i| rebinds(&facts.assigns[i as usize].kind))
                .count();
            uses_before[p + 1] = uses_before[p] + (1 + refs.of(f).len() + rebinding) as u32;
        }
        let mut refs_at: Vec<(u32, u32, u32)> = (facts.refs.iter().enumerate())
            .map(|(i, r)| (r.name.number(), pos[r.func as usize], i as u32))
            .collect();
        refs_at.sort_unstable();
        let mut rebinds_at: Vec<(u32, u32, u32)> = (facts.assigns.iter().enumerate())
            .filter(|(_, a)| rebinds(&a.kind))
            .map(|(i, a)| (a.var.number(), pos[a.func as usize], i as u32))
            .collect();
        rebinds_at.sort_unstable();
        let mut assigns_named: Vec<(FuncIdx, u32, u32)> = (facts.assigns.iter().enumerate())
            .map(|(i, a)| (a.func, a.var.number(), i as u32))
            .collect();
        assigns_named.sort_unstable();
        ByFunc {
            children,
            refs,
            assigns,
            order,
            pos,
            end,
            uses_before,
            refs_at,
            rebinds_at,
            assigns_named,
        }
    }

    /// The positions of `order` that the subtree of `root` holds.
    fn span_of(&self, root: FuncIdx) -> (u32, u32) {
        (self.pos[root as usize], self.end[root as usize])
    }

    /// How many functions, references and re-bindings the subtree at `(lo, hi)` holds.
    fn size_of(&self, (lo, hi): (u32, u32)) -> usize {
        (self.uses_before[hi as usize] - self.uses_before[lo as usize]) as usize
    }

    /// The items of `at` of `name` in the subtree at `(lo, hi)`, in no useful order.
    fn named_range(at: &[(u32, u32, u32)], name: Name, (lo, hi): (u32, u32)) -> &[(u32, u32, u32)] {
        let n = name.number();
        let from = at.partition_point(|x| (x.0, x.1) < (n, lo));
        let to = at.partition_point(|x| (x.0, x.1) < (n, hi));
        &at[from..to]
    }

    /// The indices of the assignments of `name` in `func` itself, in the order of the facts.
    fn assigns_of(&self, func: FuncIdx, name: Name) -> &[(FuncIdx, u32, u32)] {
        let n = name.number();
        let from = (self.assigns_named).partition_point(|x| (x.0, x.1) < (func, n));
        let to = (self.assigns_named).partition_point(|x| (x.0, x.1) <= (func, n));
        &self.assigns_named[from..to]
    }

    /// Functions inside `root` (itself included).
    fn subtree(&self, root: FuncIdx) -> Vec<FuncIdx> {
        let mut out = vec![root];
        let mut i = 0;
        while i < out.len() {
            out.extend_from_slice(self.children.of(out[i]));
            i += 1;
        }
        out
    }

    /// The numbers of `grouped` of the functions `funcs`, in the order of the facts.
    fn gather(grouped: &Grouped, funcs: &[FuncIdx]) -> Vec<u32> {
        let mut out: Vec<u32> = funcs
            .iter()
            .flat_map(|&f| grouped.of(f).iter().copied())
            .collect();
        out.sort_unstable();
        out
    }
}

/// A boxed variable: its name, the primary span, where it is captured, the first events
/// ([`MAX_RELATED`] and a few) and the variable in the enclosing function.
type Boxed = (String, Span, Vec<Span>, Vec<Event>, std::rc::Rc<Outer>);

/// A variable of an enclosing function as every closure in it sees it, found once: each
/// of 16,000 closures in one function capturing a variable assigned 16,000 times gathered
/// and sorted all of its assignments.
struct Outer {
    /// Assigned in the function at all.
    assigned: bool,
    /// The blocks of its `let` bindings.
    lets: Vec<Span>,
    /// Its re-bindings ([`rebinds`]): span and block, by start.
    rebinds: Vec<(Span, Span)>,
    /// Whether a re-binding puts a differentiated value in ([`carries_differentiated`]),
    /// found when first asked.
    carries: std::cell::OnceCell<bool>,
}

impl Outer {
    fn new(facts: &FileFacts, by: &ByFunc, parent: FuncIdx, name: Name) -> Outer {
        let assigns = by.assigns_of(parent, name);
        let all = || assigns.iter().map(|x| (x.2, &facts.assigns[x.2 as usize]));
        let lets = (all())
            .filter(|(_, a)| a.kind == AssignKind::Let)
            .map(|(_, a)| a.block)
            .collect();
        let mut rebinds: Vec<(u32, &Assign)> = all().filter(|(_, a)| rebinds(&a.kind)).collect();
        rebinds.sort_by_key(|(i, a)| (a.span.start, *i));
        Outer {
            assigned: !assigns.is_empty(),
            lets,
            rebinds: rebinds
                .into_iter()
                .map(|(_, a)| (a.span, a.block))
                .collect(),
            carries: Default::default(),
        }
    }
}

/// Variables boxed by one re-binding: the enclosing function, the names, related info.
struct Group {
    /// The enclosing function.
    func: FuncIdx,
    vars: Vec<String>,
    /// The places that explain the finding, by span: the first [`MAX_RELATED`] only.
    related: BTreeMap<Span, Related>,
    /// Whether places were left out of `related`.
    more: bool,
    /// Whether differentiated code assigns one of them, or a differentiated value goes in.
    differentiated: bool,
    /// Whether each capturing closure assigns the variables before reading them
    /// ([`written_first`]).
    own_value: bool,
}

impl Group {
    /// Adds a place that explains the finding, keeping the first [`MAX_RELATED`] by span:
    /// each of 2,000 closures nested in one another re-binding one captured variable gave
    /// each of 2,000 findings every other assignment.
    fn relate(&mut self, location: Location, message: impl FnOnce() -> String) {
        let span = location.span;
        if self.related.contains_key(&span) {
            return;
        }
        if self.related.len() >= MAX_RELATED {
            let last = *self.related.keys().next_back().expect("full");
            self.more = true;
            if span > last {
                return;
            }
            self.related.remove(&last);
        }
        let message = message();
        self.related.insert(span, Related { location, message });
    }
}

/// Variables of `parent` that `closure` captures and Julia boxes.
fn boxed_in(
    facts: &FileFacts,
    by: &ByFunc,
    outers: &mut HashMap<(FuncIdx, Name), std::rc::Rc<Outer>>,
    parent: FuncIdx,
    closure: FuncIdx,
) -> Vec<Boxed> {
    let pdef = &facts.functions[parent as usize];
    let cdef = &facts.functions[closure as usize];
    let inside = by.span_of(closure);
    let own_assigns = by.assigns.of(parent);
    // A boxed variable is both used inside the closure and a local of `parent`: the names
    // are taken from whichever of the two is smaller (the code inside a closure nested
    // deep in others is most of the file, so are the locals of a function of many
    // closures), each then looked up in the other.
    let mut names: Vec<Name> = if by.size_of(inside) <= pdef.params.len() + own_assigns.len() + 1 {
        let funcs = &by.order[inside.0 as usize..inside.1 as usize];
        (funcs.iter())
            .flat_map(|&f| by.refs.of(f).iter().map(|&i| facts.refs[i as usize].name))
            .chain(funcs.iter().flat_map(|&f| {
                (by.assigns.of(f).iter())
                    .map(|&i| &facts.assigns[i as usize])
                    .filter(|a| rebinds(&a.kind))
                    .map(|a| a.var)
            }))
            .collect()
    } else {
        (pdef.params.iter().filter_map(|p| p.name))
            .chain(match &pdef.kind {
                FunctionKind::Functor {
                    self_name: Some(s), ..
                } => Some(*s),
                _ => None,
            })
            .chain(own_assigns.iter().map(|&i| facts.assigns[i as usize].var))
            .collect()
    };
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        // `_` is not a variable: assigning it discards the value, nothing is captured.
        if name == "_" {
            continue;
        }
        // The closure's own parameters and loop variables shadow the outer name.
        if cdef.param_index_of(name).is_some() {
            continue;
        }
        let is_param = pdef.param_index_of(name).is_some()
            || matches!(&pdef.kind, FunctionKind::Functor { self_name: Some(s), .. } if *s == name);
        let outer = (outers.entry((parent, name)))
            .or_insert_with(|| std::rc::Rc::new(Outer::new(facts, by, parent, name)))
            .clone();
        if !is_param && !outer.assigned {
            continue; // not a local of the enclosing function
        }
        // The first reference inside the closure, by index.
        let capture = (ByFunc::named_range(&by.refs_at, name, inside).iter())
            .map(|x| x.2)
            .min();
        // The first re-bindings inside the closure: the finding points at the first and
        // lists a few ([`MAX_RELATED`]); each of thousands of closures nested in one
        // another re-binding one variable gathered and sorted all those deeper.
        let inner = first_by_start(
            facts,
            (ByFunc::named_range(&by.rebinds_at, name, inside).iter()).map(|x| x.2),
            MAX_RELATED + 2,
        );
        if capture.is_none() && inner.is_empty() {
            continue; // not used inside the closure
        }
        // `let x = x` around the closure makes a fresh variable.
        if outer.lets.iter().any(|b| b.contains(cdef.span)) {
            continue;
        }
        if !is_param && outer.rebinds.is_empty() {
            continue; // only loop variables or let bindings: fresh each time
        }
        // The first events only (as for `inner`), in order of start.
        let mut events: Vec<Event> = Vec::new();
        if is_param {
            events.push(Event {
                span: pdef.signature,
                in_closure: false,
            });
        }
        events.extend(outer.rebinds.iter().take(MAX_RELATED + 2).map(|a| Event {
            span: a.0,
            in_closure: false,
        }));
        events.extend(inner.iter().map(|a| Event {
            span: a.span,
            in_closure: true,
        }));
        events.sort_by_key(|e| e.span.start);
        let capture_at = capture.map_or(cdef.span, |i| facts.refs[i as usize].span);
        let primary = if events.len() >= 2 {
            // Assigned more than once (or inside the closure): the first re-binding.
            events[1].span
        } else if let Some(&(span, block)) = outer.rebinds.first() {
            // One assignment: boxed unless it comes first and its block holds the closure.
            let dominates = span.end <= cdef.span.start && block.contains(cdef.span);
            if dominates {
                continue;
            }
            span
        } else {
            continue;
        };
        out.push((name.to_string(), primary, vec![capture_at], events, outer));
    }
    out
}

/// The `most` of the assignments `all` (indices into `facts.assigns`) that start first, by
/// start and then index, without sorting them all.
fn first_by_start(facts: &FileFacts, all: impl Iterator<Item = u32>, most: usize) -> Vec<&Assign> {
    let key = |i: u32| (facts.assigns[i as usize].span.start, i);
    // The `most` first so far, the last of them on top.
    let mut first = std::collections::BinaryHeap::with_capacity(most + 1);
    for i in all {
        let k = key(i);
        if first.len() < most {
            first.push(k);
        } else if first.peek().is_some_and(|top| k < *top) {
            first.pop();
            first.push(k);
        }
    }
    (first.into_sorted_vec().into_iter())
        .map(|(_, i)| &facts.assigns[i as usize])
        .collect()
}

fn rebinds(kind: &AssignKind) -> bool {
    matches!(
        kind,
        AssignKind::Plain | AssignKind::Update | AssignKind::Destructure
    )
}
