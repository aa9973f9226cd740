//! Entry points: `gradient`, `withgradient`, `pullback` (+ `back`), `jacobian`, `hessian`.

use super::ad::{Site, Tape, ZygoteFailure};
use super::interp::{Ctrl, Interp, R};
use super::ir::Span;
use super::value::*;
use super::{EntryNumbers, EntryRun, FdSlopes, NotRun, Outcome, SiteRef};
use std::cell::RefCell;
use std::rc::Rc;

/// At most this many runs are reported per entry call site (training loops call it often).
const MAX_RUNS_PER_SITE: usize = 16;

impl Interp {
    pub fn site_ref(&self, s: &Site) -> SiteRef {
        SiteRef {
            path: self
                .files
                .get(s.span.file as usize)
                .cloned()
                .unwrap_or_default(),
            start_byte: s.span.start as usize,
            end_byte: s.span.end as usize,
            line: s.span.line,
            message: s.message.clone(),
        }
    }

    fn failure_outcome(&self, f: &ZygoteFailure) -> Outcome {
        Outcome::Failed {
            message: f.message.clone(),
            first: self.site_ref(&f.first),
            all: f.all.iter().map(|s| self.site_ref(s)).collect(),
        }
    }

    /// Record an entry run; returns its index (or None when the per-site cap is reached).
    fn record(&mut self, api: &str, span: Span, outcome: Outcome) -> Option<usize> {
        let span = if span.file == self.prelude_file {
            self.prelude_callers.last().copied().unwrap_or(span)
        } else {
            span
        };
        let path = self
            .files
            .get(span.file as usize)
            .cloned()
            .unwrap_or_default();
        // Counted as they are recorded: counting the entries so far at each record was
        // quadratic in a program of many entry calls.
        let same = (self.runs_per_site)
            .entry((path.clone(), span.line, api.to_string()))
            .or_insert(0);
        if *same >= MAX_RUNS_PER_SITE {
            return None;
        }
        *same += 1;
        self.entries.push(EntryRun {
            path,
            line: span.line,
            api: api.to_string(),
            outcome,
            numbers: None,
        });
        Some(self.entries.len() - 1)
    }

    fn zygote_throw(&self, f: ZygoteFailure) -> Ctrl {
        Ctrl::Throw(Value::Exc(Rc::new(Exc::new(
            "ErrorException".into(),
            f.message.clone(),
            Some(f),
        ))))
    }

    /// Forward pass on a fresh tape. Returns (tape, tracked inputs, output).
    fn forward(
        &mut self,
        f: &Value,
        xs: &[Value],
        span: Span,
    ) -> R<(Rc<RefCell<Tape>>, Vec<Value>, Value)> {
        let id = self.next_tape;
        self.next_tape += 1;
        let tape = Rc::new(RefCell::new(Tape::new(id)));
        let saved_tape = self.tape.replace(tape.clone());
        let saved = (self.rec_ops, self.rec_events);
        self.rec_ops = true;
        self.rec_events = true;
        let r = (|| -> R<(Vec<Value>, Value)> {
            let mut inputs = vec![];
            for x in xs {
                inputs.push(self.track_input(x)?);
            }
            let y = self.call_value(f, inputs.clone(), vec![], span)?;
            Ok((inputs, y))
        })();
        self.tape = saved_tape;
        self.rec_ops = saved.0;
        self.rec_events = saved.1;
        let (inputs, y) = r?;
        Ok((tape, inputs, y))
    }

    fn entry_error(&mut self, api: &str, span: Span, e: Ctrl) -> Ctrl {
        match &e {
            Ctrl::Throw(Value::Exc(x)) if x.zygote.is_some() => {
                let f = x
                    .zygote
                    .clone()
                    .unwrap_or_else(|| unreachable_failure(span));
                let o = self.failure_outcome(&f);
                self.record(api, span, o);
            }
            Ctrl::Throw(v) => {
                let msg = match v {
                    Value::Exc(x) => x.msg.clone(),
                    other => show(other),
                };
                let first = super::value::cut(msg.lines().next().unwrap_or("")).into_owned();
                self.record(
                    api,
                    span,
                    Outcome::NotRun(NotRun {
                        reason: format!("the program threw in the forward pass: {first}"),
                    }),
                );
            }
            Ctrl::Stop(reason) => {
                self.record(
                    api,
                    span,
                    Outcome::NotRun(NotRun {
                        reason: reason.clone(),
                    }),
                );
            }
            _ => {}
        }
        e
    }

    fn sweep_or_fail(
        &mut self,
        tape: &Rc<RefCell<Tape>>,
        seeds: &[(u32, f64)],
    ) -> R<Result<Vec<Option<f64>>, ZygoteFailure>> {
        let sw = self.sweep(tape, seeds)?;
        if let Some(first) = sw.errors.first() {
            return Ok(Err(ZygoteFailure {
                message: first.message.clone(),
                first: first.clone(),
                all: sw.errors.clone(),
            }));
        }
        Ok(Ok(sw.adj))
    }

    /// Whether an AD call made now is nested: inside code another AD call differentiates.
    fn differentiating(&self) -> bool {
        self.tape.is_some() && (self.rec_ops || self.rec_events)
    }

    /// After a nested AD call (`reads`: what [`Interp::note_global_read`] saw while it
    /// ran): the failure Zygote meets when the outer reverse pass differentiates the inner
    /// one, recorded on the outer tape at `span`, or why the outer gradient cannot be
    /// computed here.
    ///
    /// Zygote wraps every read of a non-constant global of the user's modules in `unwrap`,
    /// whose pullback calls `accum_global`, which keeps the global's gradient in an `IdDict`
    /// (`src/compiler/reverse.jl`, `istrackable`; `src/lib/lib.jl`, `accum_global`).
    /// Differentiating that pullback meets the `IdDict` lookup, a foreign call
    /// (`jl_eqtable_get`), so the outer reverse pass fails there, whatever else it meets.
    /// Without such a read the outer gradient needs reverse over reverse, which the
    /// interpreter does not do: the entry is not run, and says so.
    pub(super) fn nested(&mut self, span: Span, reads: &[super::ir::Name]) -> R<()> {
        if !self.rec_events {
            // Inside `Zygote.forwarddiff`: forward mode over the inner call.
            return Err(self.unsupported(
                "an AD call inside `Zygote.forwarddiff` (forward mode over reverse mode)",
                span,
            ));
        }
        if reads.is_empty() {
            return Err(self.unsupported(
                "nested differentiation whose outcome does not follow from a global read (the interpreter does not differentiate through the inner reverse pass)",
                span,
            ));
        }
        let names: Vec<String> = reads.iter().map(|n| format!("`{n}`")).collect();
        let msg = format!(
            "{} (the inner reverse pass accumulates the gradient of the non-constant global {} in Zygote's IdDict)",
            self.foreigncall_message("jl_eqtable_get", "Any", "Any, Any, Any"),
            names.join(", ")
        );
        self.event(span, msg);
        Ok(())
    }
}

fn unreachable_failure(span: Span) -> ZygoteFailure {
    let s = Site {
        span,
        message: String::new(),
    };
    ZygoteFailure {
        message: String::new(),
        first: s.clone(),
        all: vec![s],
    }
}

fn seeds_for(it: &Interp, tape: &Rc<RefCell<Tape>>, y: &Value) -> Vec<(u32, f64)> {
    let id = tape.borrow().id;
    let _ = it;
    match y {
        Value::T(_, n, t) if *t == id => vec![(*n, 1.0)],
        _ => vec![],
    }
}

fn float_inputs(xs: &[Value]) -> Option<Vec<f64>> {
    let mut out = vec![];
    for x in xs {
        match x {
            Value::F(f) => out.push(*f),
            Value::Arr(a) if a.borrow().elty == ElTy::F64 => {
                for v in &a.borrow().data {
                    out.push(v.as_f64()?);
                }
            }
            _ => {}
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

fn rebuild(xs: &[Value], flat: &[f64]) -> Vec<Value> {
    let mut k = 0;
    xs.iter()
        .map(|x| match x {
            Value::F(_) => {
                k += 1;
                Value::F(flat[k - 1])
            }
            Value::Arr(a) if a.borrow().elty == ElTy::F64 => {
                let a = a.borrow();
                let data = a
                    .data
                    .iter()
                    .map(|_| {
                        k += 1;
                        Value::F(flat[k - 1])
                    })
                    .collect();
                Value::arr(a.dims.clone(), data, ElTy::F64)
            }
            other => other.clone(),
        })
        .collect()
}

fn flat_grads(xs: &[Value], grads: &[Value]) -> Vec<f64> {
    let mut out = vec![];
    for (x, g) in xs.iter().zip(grads) {
        match x {
            Value::F(_) => out.push(g.as_f64().unwrap_or(0.0)),
            Value::Arr(a) if a.borrow().elty == ElTy::F64 => {
                let n = a.borrow().data.len();
                match g {
                    Value::Arr(ga) => {
                        out.extend(ga.borrow().data.iter().map(|v| v.as_f64().unwrap_or(0.0)))
                    }
                    _ => out.extend(std::iter::repeat_n(0.0, n)),
                }
            }
            _ => {}
        }
    }
    out
}

/// The gradient tuple as text; Int arguments are constants here (see the module docs), so
/// their slot says so instead of showing Zygote's value.
fn show_grads(xs: &[Value], grads: &[Value]) -> String {
    let parts: Vec<String> = xs
        .iter()
        .zip(grads)
        .map(|(x, g)| match x {
            Value::Int(_) => "#= Int64 argument: not tracked =#".to_string(),
            _ => show(g),
        })
        .collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// The first element of a `withgradient` output (Tuple / NamedTuple → first; else itself).
fn first_of(y: &Value) -> Value {
    match y {
        Value::Tuple(t) if !t.is_empty() => t[0].clone(),
        Value::NT(_, v) if !v.is_empty() => v[0].clone(),
        other => other.clone(),
    }
}

impl Interp {
    /// Run `f` untracked at perturbed float inputs (for finite differences).
    fn eval_plain(&mut self, f: &Value, xs: &[Value], first: bool) -> Option<f64> {
        let saved_tape = self.tape.take();
        let saved = self.suspend();
        let r = self.call_value(f, xs.to_vec(), vec![], Span::default());
        self.resume(saved);
        self.tape = saved_tape;
        let y = r.ok()?;
        let y = if first { first_of(&y) } else { y };
        y.as_f64()
    }

    /// Finite differences of `f`'s primal over the Float64 inputs. Every evaluation starts
    /// from the random stream the entry's own forward pass started from (`rng`), so a loss
    /// that draws random numbers sees the same draws at every point; afterwards the stream
    /// is where the forward pass left it.
    fn fd_slopes(&mut self, f: &Value, xs: &[Value], first: bool, rng: u64) -> Option<FdSlopes> {
        let x0 = float_inputs(xs)?;
        let (steps, after) = (self.steps, self.rng);
        let fd = FdSlopes::measure(
            |v: &[f64]| {
                let args = rebuild(xs, v);
                self.rng = rng;
                self.eval_plain(f, &args, first)
            },
            &x0,
        );
        self.steps = steps;
        self.rng = after;
        fd
    }

    fn gradient_entry(&mut self, api: &str, f: &Value, xs: &[Value], span: Span) -> R<Value> {
        let rng = self.rng;
        let (tape, inputs, y) = match self.forward(f, xs, span) {
            Ok(r) => r,
            Err(e) => return Err(self.entry_error(api, span, e)),
        };
        let with = api == "withgradient";
        let out = if with { first_of(&y) } else { y.clone() };
        if !out.is_num() {
            let msg = match &out {
                Value::Arr(_) => {
                    "Output is an array, so the gradient is not defined. Perhaps you wanted jacobian.".to_string()
                }
                other => format!(
                    "Output should be scalar; gradients are not defined for output {}",
                    show(&other.primal())
                ),
            };
            let site = Site {
                span,
                message: msg.clone(),
            };
            let f = ZygoteFailure {
                message: msg,
                first: site.clone(),
                all: vec![site],
            };
            let o = self.failure_outcome(&f);
            self.record(api, span, o);
            return Err(self.zygote_throw(f));
        }
        let seeds = seeds_for(self, &tape, &out);
        let adj = match self.sweep_or_fail(&tape, &seeds) {
            Ok(Ok(a)) => a,
            Ok(Err(fail)) => {
                let o = self.failure_outcome(&fail);
                let fd = if self.reference_gradients {
                    self.fd_slopes(f, xs, with, rng)
                } else {
                    None
                };
                if let Some(i) = self.record(api, span, o) {
                    self.entries[i].numbers = out.as_f64().map(|value| EntryNumbers {
                        value,
                        gradient: None,
                        fd,
                    });
                }
                return Err(self.zygote_throw(fail));
            }
            Err(e) => return Err(self.entry_error(api, span, e)),
        };
        let tid = tape.borrow().id;
        let grads: Vec<Value> = inputs
            .iter()
            .map(|x| Interp::gather(x, &adj, tid))
            .collect();
        let gradient = flat_grads(xs, &grads);
        let fd = self.fd_slopes(f, xs, with, rng);
        let fd_check = fd.as_ref().and_then(|fd| fd.check(&gradient));
        let shown = show_grads(xs, &grads);
        let gt = Value::tuple(grads);
        if let Some(i) = self.record(
            api,
            span,
            Outcome::Ok {
                value: show(&y.primal()),
                gradient: shown,
                fd_check,
            },
        ) {
            self.entries[i].numbers = out.as_f64().map(|value| EntryNumbers {
                value,
                gradient: Some(gradient),
                fd,
            });
        }
        if with {
            return Ok(Value::nt(
                Rc::new(vec![Rc::from("val"), Rc::from("grad")]),
                vec![y.primal(), gt],
            ));
        }
        Ok(gt)
    }

    fn pullback_entry(&mut self, f: &Value, xs: &[Value], span: Span) -> R<Value> {
        let (tape, inputs, y) = match self.forward(f, xs, span) {
            Ok(r) => r,
            Err(e) => return Err(self.entry_error("pullback", span, e)),
        };
        let idx = self.record(
            "pullback",
            span,
            Outcome::Ok {
                value: show(&y.primal()),
                gradient: "(pullback not called)".into(),
                fd_check: None,
            },
        );
        let pb = Value::Pullback(Rc::new(PullbackVal {
            tape,
            output: y.clone(),
            inputs,
            entry: idx.unwrap_or(usize::MAX),
            span,
            nested_reads: self.nested_reads.borrow().clone(),
        }));
        Ok(Value::tuple(vec![y.primal(), pb]))
    }

    fn jacobian_entry(&mut self, f: &Value, xs: &[Value], span: Span) -> R<Value> {
        let api = "jacobian";
        let (tape, inputs, y) = match self.forward(f, xs, span) {
            Ok(r) => r,
            Err(e) => return Err(self.entry_error(api, span, e)),
        };
        let outs: Vec<Value> = match &y {
            Value::Arr(a) => a.borrow().data.clone(),
            v if v.is_num() => vec![v.clone()],
            other => {
                let msg = format!(
                    "jacobian expected a function which returns an array, or a scalar, got {}",
                    type_name(other)
                );
                let site = Site {
                    span,
                    message: msg.clone(),
                };
                let fail = ZygoteFailure {
                    message: msg,
                    first: site.clone(),
                    all: vec![site],
                };
                let o = self.failure_outcome(&fail);
                self.record(api, span, o);
                return Err(self.zygote_throw(fail));
            }
        };
        let m = outs.len();
        let tid = tape.borrow().id;
        let mut rows: Vec<Vec<Value>> = vec![];
        for (i, yi) in outs.iter().enumerate() {
            let seeds = match yi {
                Value::T(_, n, t) if *t == tid => vec![(*n, 1.0)],
                _ => vec![],
            };
            let adj = match self.sweep_or_fail(&tape, &seeds) {
                Ok(Ok(a)) => a,
                Ok(Err(fail)) => {
                    let o = self.failure_outcome(&fail);
                    self.record(api, span, o);
                    return Err(self.zygote_throw(fail));
                }
                Err(e) => return Err(self.entry_error(api, span, e)),
            };
            let _ = i;
            rows.push(
                inputs
                    .iter()
                    .map(|x| Interp::gather(x, &adj, tid))
                    .collect(),
            );
        }
        let mut js = vec![];
        for (k, x) in inputs.iter().enumerate() {
            match x {
                Value::T(..) | Value::F(_) => {
                    let col: Vec<Value> = rows
                        .iter()
                        .map(|r| Value::F(r[k].as_f64().unwrap_or(0.0)))
                        .collect();
                    js.push(Value::arr(vec![m], col, ElTy::F64));
                }
                Value::Arr(a) => {
                    let n = a.borrow().data.len();
                    let mut data = vec![Value::F(0.0); m * n];
                    for (i, r) in rows.iter().enumerate() {
                        if let Value::Arr(g) = &r[k] {
                            for (j, v) in g.borrow().data.iter().enumerate() {
                                data[i + j * m] = Value::F(v.as_f64().unwrap_or(0.0));
                            }
                        }
                    }
                    js.push(Value::arr(vec![m, n], data, ElTy::F64));
                }
                _ => js.push(Value::Nothing),
            }
        }
        let jt = Value::tuple(js);
        self.record(
            api,
            span,
            Outcome::Ok {
                value: show(&y.primal()),
                gradient: show(&jt),
                fd_check: None,
            },
        );
        Ok(jt)
    }

    /// Gradient of `f` at `x` (flattened), or the Zygote failure.
    fn grad_at(
        &mut self,
        f: &Value,
        x: &Value,
        span: Span,
    ) -> R<Result<(f64, Vec<f64>), ZygoteFailure>> {
        let (tape, inputs, y) = self.forward(f, std::slice::from_ref(x), span)?;
        let seeds = seeds_for(self, &tape, &y);
        let adj = match self.sweep_or_fail(&tape, &seeds)? {
            Ok(a) => a,
            Err(f) => return Ok(Err(f)),
        };
        let tid = tape.borrow().id;
        let g = Interp::gather(&inputs[0], &adj, tid);
        let flat = flat_grads(std::slice::from_ref(x), &[g]);
        Ok(Ok((y.as_f64().unwrap_or(f64::NAN), flat)))
    }

    fn hessian_entry(&mut self, f: &Value, xs: &[Value], span: Span) -> R<Value> {
        let api = "hessian";
        let x = match xs {
            [x @ Value::F(_)] => x.clone(),
            [x @ Value::Arr(a)] if a.borrow().elty == ElTy::F64 => x.clone(),
            _ => {
                let e = self.unsupported("hessian of a non-Float64 argument", span);
                return Err(self.entry_error(api, span, e));
            }
        };
        let (val, g0) = match self.grad_at(f, &x, span) {
            Ok(Ok(r)) => r,
            Ok(Err(fail)) => {
                let o = self.failure_outcome(&fail);
                self.record(api, span, o);
                return Err(self.zygote_throw(fail));
            }
            Err(e) => return Err(self.entry_error(api, span, e)),
        };
        let x0 = float_inputs(std::slice::from_ref(&x)).unwrap_or_default();
        let n = x0.len();
        let mut h = vec![0.0; n * n];
        for j in 0..n {
            let step = 1e-4 * x0[j].abs().max(1.0);
            let mut xp = x0.clone();
            xp[j] += step;
            let mut xm = x0.clone();
            xm[j] -= step;
            let p = rebuild(std::slice::from_ref(&x), &xp).remove(0);
            let q = rebuild(std::slice::from_ref(&x), &xm).remove(0);
            let gp = match self.grad_at(f, &p, span) {
                Ok(Ok((_, g))) => g,
                Ok(Err(_)) => g0.clone(),
                Err(e) => return Err(self.entry_error(api, span, e)),
            };
            let gm = match self.grad_at(f, &q, span) {
                Ok(Ok((_, g))) => g,
                Ok(Err(_)) => g0.clone(),
                Err(e) => return Err(self.entry_error(api, span, e)),
            };
            for i in 0..n {
                h[i + j * n] = (gp[i] - gm[i]) / (2.0 * step);
            }
        }
        // symmetrise
        for i in 0..n {
            for j in 0..i {
                let s = 0.5 * (h[i + j * n] + h[j + i * n]);
                h[i + j * n] = s;
                h[j + i * n] = s;
            }
        }
        let hv = if matches!(x, Value::F(_)) {
            Value::F(h[0])
        } else {
            Value::arr(vec![n, n], h.into_iter().map(Value::F).collect(), ElTy::F64)
        };
        self.record(
            api,
            span,
            Outcome::Ok {
                value: fmt_f64(val),
                gradient: show(&hv),
                fd_check: None,
            },
        );
        Ok(hv)
    }
}

impl Interp {
    /// Implicit parameters (`gradient(() -> loss(), Flux.params(m))`, deprecated in Zygote
    /// 0.7.11 but common): the parameter arrays are tracked in place for the forward pass and
    /// restored afterwards; the result maps each array (by identity) to its gradient.
    fn implicit_entry(&mut self, api: &str, f: &Value, order: Value, span: Span) -> R<Value> {
        let arrays: Vec<Rc<RefCell<Arr>>> = match &order {
            Value::Arr(a) => a
                .borrow()
                .data
                .iter()
                .filter_map(|v| match v {
                    Value::Arr(x) => Some(x.clone()),
                    _ => None,
                })
                .collect(),
            _ => vec![],
        };
        let id = self.next_tape;
        self.next_tape += 1;
        let tape = Rc::new(RefCell::new(Tape::new(id)));
        let saved_tape = self.tape.replace(tape.clone());
        let saved = (self.rec_ops, self.rec_events);
        self.rec_ops = true;
        self.rec_events = true;
        let mut originals = vec![];
        let mut templates = vec![];
        let r = (|| -> R<Value> {
            for a in &arrays {
                let orig = a.borrow().data.clone();
                let mut tracked = vec![];
                for v in &orig {
                    tracked.push(match v.as_f64() {
                        Some(x) if !matches!(v, Value::Int(_) | Value::Bool(_)) => {
                            self.new_leaf(x)?
                        }
                        _ => v.clone(),
                    });
                }
                a.borrow_mut().data = tracked.clone();
                originals.push(orig);
                let dims = a.borrow().dims.clone();
                templates.push(Value::arr(dims, tracked, ElTy::F64));
            }
            self.call_value(f, vec![], vec![], span)
        })();
        for (a, orig) in arrays.iter().zip(originals) {
            a.borrow_mut().data = orig;
        }
        self.tape = saved_tape;
        self.rec_ops = saved.0;
        self.rec_events = saved.1;
        let y = match r {
            Ok(y) => y,
            Err(e) => return Err(self.entry_error(api, span, e)),
        };
        let with = api == "withgradient";
        let out = if with { first_of(&y) } else { y.clone() };
        if !out.is_num() {
            let e = self.unsupported("implicit-parameter gradient of a non-scalar output", span);
            return Err(self.entry_error(api, span, e));
        }
        let seeds = seeds_for(self, &tape, &out);
        let adj = match self.sweep_or_fail(&tape, &seeds) {
            Ok(Ok(a)) => a,
            Ok(Err(fail)) => {
                let o = self.failure_outcome(&fail);
                self.record(api, span, o);
                return Err(self.zygote_throw(fail));
            }
            Err(e) => return Err(self.entry_error(api, span, e)),
        };
        let mut entries = vec![];
        for (a, t) in arrays.iter().zip(&templates) {
            let g = Interp::gather(t, &adj, id);
            entries.push((Value::Arr(a.clone()), g));
        }
        let grads = Value::dict(entries);
        self.record(
            api,
            span,
            Outcome::Ok {
                value: show(&y.primal()),
                gradient: format!(
                    "Grads({})",
                    show(&grads)
                        .trim_start_matches("Dict(")
                        .trim_end_matches(')')
                ),
                fd_check: None,
            },
        );
        if with {
            return Ok(Value::nt(
                Rc::new(vec![Rc::from("val"), Rc::from("grad")]),
                vec![y.primal(), grads],
            ));
        }
        Ok(grads)
    }
}

pub fn entry_call(it: &mut Interp, api: &str, args: Vec<Value>, span: Span) -> R<Value> {
    if !it.differentiating() {
        return plain_entry_call(it, api, args, span);
    }
    let saved = it.nested_reads.replace(Some(vec![]));
    let r = plain_entry_call(it, api, args, span);
    let reads = it.nested_reads.replace(saved).unwrap_or_default();
    let v = r?;
    // A pullback's accumulation happens when its `back` is called (see `call_back`).
    if api != "pullback" {
        it.nested(span, &reads)?;
    }
    Ok(v)
}

fn plain_entry_call(it: &mut Interp, api: &str, args: Vec<Value>, span: Span) -> R<Value> {
    if args.is_empty() {
        return Err(it.throw(
            "MethodError",
            format!("MethodError: no method matching {api}()"),
        ));
    }
    let f = args[0].clone();
    let xs = &args[1..];
    // an outer tape that is only suspended (ignore blocks, rule primals) is restored afterwards
    let saved_tape = it.tape.take();
    let implicit = match xs {
        [Value::Struct(o)] if o.def.name.as_ref() == "Params" => o.fields.borrow().first().cloned(),
        _ => None,
    };
    let r = match api {
        "gradient" | "withgradient" if implicit.is_some() => {
            it.implicit_entry(api, &f, implicit.unwrap_or(Value::Nothing), span)
        }
        _ if implicit.is_some() => {
            let e = it.unsupported(&format!("{api} with implicit parameters (Params)"), span);
            Err(it.entry_error(api, span, e))
        }
        "gradient" | "withgradient" => it.gradient_entry(api, &f, xs, span),
        "pullback" => it.pullback_entry(&f, xs, span),
        "jacobian" => it.jacobian_entry(&f, xs, span),
        _ => it.hessian_entry(&f, xs, span),
    };
    it.tape = saved_tape;
    r
}

pub fn call_back(it: &mut Interp, pb: &Rc<PullbackVal>, dy: Value, span: Span) -> R<Value> {
    let nested = it.differentiating();
    if nested && pb.nested_reads.is_none() {
        return Err(it.unsupported(
            "calling, inside differentiated code, a pullback made outside it",
            span,
        ));
    }
    let r = plain_call_back(it, pb, dy, span)?;
    if nested {
        it.nested(pb.span, pb.nested_reads.as_deref().unwrap_or_default())?;
    }
    Ok(r)
}

fn plain_call_back(it: &mut Interp, pb: &Rc<PullbackVal>, dy: Value, span: Span) -> R<Value> {
    let _ = span;
    let tid = pb.tape.borrow().id;
    let mut seeds = vec![];
    collect_seeds(&pb.output, &dy, tid, &mut seeds);
    let r = it.sweep_or_fail(&pb.tape, &seeds);
    let update = |it: &mut Interp, o: Outcome| {
        if let Some(e) = it.entries.get_mut(pb.entry) {
            e.outcome = o;
        }
    };
    match r {
        Ok(Ok(adj)) => {
            let grads: Vec<Value> = pb
                .inputs
                .iter()
                .map(|x| Interp::gather(x, &adj, tid))
                .collect();
            let gt = Value::tuple(grads);
            let value = show(&pb.output.primal());
            update(
                it,
                Outcome::Ok {
                    value,
                    gradient: show(&gt),
                    fd_check: None,
                },
            );
            Ok(gt)
        }
        Ok(Err(fail)) => {
            let o = it.failure_outcome(&fail);
            update(it, o);
            Err(it.zygote_throw(fail))
        }
        Err(Ctrl::Stop(reason)) => {
            update(
                it,
                Outcome::NotRun(NotRun {
                    reason: reason.clone(),
                }),
            );
            Err(Ctrl::Stop(reason))
        }
        Err(e) => Err(e),
    }
}

fn collect_seeds(template: &Value, dy: &Value, tid: u32, out: &mut Vec<(u32, f64)>) {
    match (template, dy) {
        (Value::T(_, n, t), d) if *t == tid => {
            if let Some(x) = d.as_f64() {
                out.push((*n, x));
            }
        }
        (Value::Arr(a), Value::Arr(d)) => {
            for (x, y) in a.borrow().data.iter().zip(d.borrow().data.iter()) {
                collect_seeds(x, y, tid, out);
            }
        }
        (Value::Tuple(a), Value::Tuple(d)) => {
            for (x, y) in a.iter().zip(d.iter()) {
                collect_seeds(x, y, tid, out);
            }
        }
        (Value::NT(_, a), Value::NT(_, d)) => {
            for (x, y) in a.iter().zip(d.iter()) {
                collect_seeds(x, y, tid, out);
            }
        }
        _ => {}
    }
}
