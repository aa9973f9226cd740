//! The evaluator: scopes, calls and dispatch, control flow, assignment and indexing.

use super::ad::{Custom, Site, TNode, Tape};
use super::ir::*;
use super::value::*;
use super::{Budget, EntryRun, Options};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

/// Non-local control flow and errors.
#[derive(Debug)]
pub enum Ctrl {
    Break,
    Continue,
    Return(Value),
    /// A Julia exception.
    Throw(Value),
    /// The run cannot continue: budget exhausted or unsupported construct (`NotRun` reason).
    Stop(String),
}

pub type R<T> = Result<T, Ctrl>;

#[derive(Debug)]
pub struct Scope {
    pub vars: RefCell<HashMap<Name, Rc<RefCell<Value>>>>,
    pub parent: Option<Env>,
    pub is_func: bool,
    pub globals: RefCell<HashSet<Name>>,
    _mem: super::value::Mem,
}

pub type Env = Rc<Scope>;

pub fn new_scope(parent: Option<Env>, is_func: bool) -> Env {
    let env = Rc::new(Scope {
        vars: RefCell::new(HashMap::new()),
        parent,
        is_func,
        globals: RefCell::new(HashSet::new()),
        _mem: super::value::Mem::new(super::value::SCOPE),
    });
    LIVE_SCOPES.with(|live| {
        let mut live = live.borrow_mut();
        live.scopes.push(Rc::downgrade(&env));
        if live.scopes.len() >= live.prune_at {
            live.scopes.retain(|w| w.strong_count() > 0);
            live.prune_at = (live.scopes.len() * 2).max(1024);
        }
    });
    env
}

/// The scopes made on this thread that may still be alive. A closure holds its scope and
/// a scope holds the closures defined in it (every method holds the global scope), so
/// reference counting alone never frees a program; [`break_cycles`] clears them at the
/// end of a run. Dead entries are pruned whenever the list doubles.
#[derive(Default)]
struct LiveScopes {
    scopes: Vec<std::rc::Weak<Scope>>,
    prune_at: usize,
}

thread_local! {
    static LIVE_SCOPES: RefCell<LiveScopes> = RefCell::new(LiveScopes::default());
}

/// Empty every scope still alive on this thread, so the values of a finished run (and the
/// cycles between closures and scopes) are freed.
pub fn break_cycles() {
    let scopes = LIVE_SCOPES.with(|live| std::mem::take(&mut live.borrow_mut().scopes));
    for scope in scopes.iter().filter_map(std::rc::Weak::upgrade) {
        let vars = std::mem::take(&mut *scope.vars.borrow_mut());
        drop(vars);
    }
    // Scopes something outside the run still holds stay listed.
    LIVE_SCOPES.with(|live| {
        let mut live = live.borrow_mut();
        live.scopes
            .extend(scopes.into_iter().filter(|w| w.strong_count() > 0));
    });
}

/// How many scopes made on this thread are still alive (tests of [`break_cycles`]).
pub fn live_scopes() -> usize {
    LIVE_SCOPES.with(|live| {
        live.borrow()
            .scopes
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count()
    })
}

/// Saved recording state (see [`Interp::suspend`]).
pub struct Saved(bool, bool);

pub struct Interp {
    pub files: Vec<PathBuf>,
    pub global: Env,
    pub structs: HashMap<Name, Rc<StructDef>>,
    pub callables: HashMap<Name, Vec<(Rc<FuncDef>, Env)>>,
    pub rrules: HashMap<Name, Vec<(Rc<FuncDef>, Env)>>,
    pub adjoints: HashMap<Name, Vec<(Rc<FuncDef>, Env)>>,
    pub nondiff: HashSet<Name>,
    pub tape: Option<Rc<RefCell<Tape>>>,
    /// Record arithmetic on the tape.
    pub rec_ops: bool,
    /// Record Zygote events (mutation, foreigncall, catch) — false where Zygote does not
    /// traverse (rule primals, ignore blocks, the broadcast ForwardDiff fast path).
    pub rec_events: bool,
    pub next_tape: u32,
    pub steps: u64,
    pub depth: u32,
    pub start: Instant,
    pub budget: Budget,
    pub rng: u64,
    pub version: Option<(u32, u32, u32)>,
    /// [`super::Options::reference_gradients`].
    pub reference_gradients: bool,
    pub entries: Vec<EntryRun>,
    /// How many of `entries` each call site (path, line, API) has.
    pub runs_per_site: HashMap<(PathBuf, u32, String), usize>,
    pub end_ctx: Vec<(Value, usize, usize)>,
    /// Exceptions being handled (for `rethrow()`).
    pub cur_exc: Vec<Value>,
    pub sources: Vec<String>,
    pub done: Vec<bool>,
    /// The files of `sources` by file name (the path's last part), for `include`; made at
    /// the first one.
    pub file_names: Option<HashMap<String, Vec<usize>>>,
    /// File index of the prelude, and the user call sites of prelude functions being run
    /// (entries inside the prelude, e.g. `train!`, are attributed to the user's call).
    pub prelude_file: u32,
    pub prelude_callers: Vec<Span>,
    /// Globals declared `const`.
    pub consts: HashSet<Name>,
    /// Driver calls that ended abnormally: (line, reason) (see `ProgramRun::driver_stops`).
    pub driver_stops: Vec<(u32, String)>,
    /// The globals the prelude defines (Flux's and Zygote's own, not the user's).
    pub prelude_globals: HashSet<Name>,
    /// While an AD call runs inside differentiated code: the user's non-constant globals
    /// holding floating-point data that the inner differentiated code read (see
    /// `entry::nested`).
    pub nested_reads: RefCell<Option<Vec<Name>>>,
    /// The symbols `Symbol(x)` made, each once (see [`Interp::symbol`]), and their bytes.
    symbols: HashSet<Name>,
    symbol_bytes: super::value::Mem,
    /// Units of work done inside builtins (see [`Interp::charge`]).
    work: std::cell::Cell<u64>,
    /// What this thread had allocated when the user's program started (see
    /// [`Interp::held_bytes`]).
    pub alloc_base: i64,
    /// Bytes of the lowered code of the files running now, which the memory budget does
    /// not count (see `run_file`).
    pub code_bytes: i64,
}

/// Units of work (elements visited, compared, copied) between two readings of the clock
/// in [`Interp::charge`].
const WORK_CHUNK: u64 = 1 << 14;

pub const RNG_SEED: u64 = 0x5EED_2026_AD15_0001;

fn name(s: &str) -> Name {
    Rc::from(s)
}

impl Interp {
    pub fn new(files: Vec<PathBuf>, opts: &Options) -> Self {
        Interp {
            files,
            global: new_scope(None, false),
            structs: HashMap::new(),
            callables: HashMap::new(),
            rrules: HashMap::new(),
            adjoints: HashMap::new(),
            nondiff: HashSet::new(),
            tape: None,
            rec_ops: false,
            rec_events: false,
            next_tape: 1,
            steps: 0,
            depth: 0,
            start: Instant::now(),
            budget: opts.budget.clone(),
            rng: RNG_SEED,
            version: opts.zygote_version,
            reference_gradients: opts.reference_gradients,
            entries: vec![],
            runs_per_site: HashMap::new(),
            end_ctx: vec![],
            cur_exc: vec![],
            sources: vec![],
            done: vec![],
            file_names: None,
            prelude_file: u32::MAX,
            prelude_callers: vec![],
            consts: HashSet::new(),
            driver_stops: vec![],
            prelude_globals: HashSet::new(),
            nested_reads: RefCell::new(None),
            symbols: HashSet::new(),
            symbol_bytes: super::value::Mem::new(0),
            work: std::cell::Cell::new(0),
            alloc_base: crate::memory::thread_allocated(),
            code_bytes: 0,
        }
    }

    pub fn suspend(&mut self) -> Saved {
        let s = Saved(self.rec_ops, self.rec_events);
        self.rec_ops = false;
        self.rec_events = false;
        s
    }
    pub fn resume(&mut self, s: Saved) {
        self.rec_ops = s.0;
        self.rec_events = s.1;
    }

    pub fn tick(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > self.budget.max_steps {
            return Err(Ctrl::Stop("budget: steps".into()));
        }
        if self.steps % 1024 == 0 {
            self.check_time()?;
        }
        // Each allocation whose size the program decides is checked before it is made;
        // this catches the many small ones a step makes (a loop keeping small strings).
        if self.held_bytes() > self.budget.max_memory {
            return Err(self.over_memory());
        }
        Ok(())
    }

    /// The bytes the running program holds, for the memory budget: the larger of the
    /// estimate of its values (`value::live_bytes`, which each allocation is checked
    /// against before it is made) and what the allocator really gave this thread since
    /// the program started, less its lowered code. The second catches what no estimate
    /// counts, such as the scope a closure keeps.
    pub fn held_bytes(&self) -> u64 {
        let real = crate::memory::thread_allocated() - self.alloc_base - self.code_bytes;
        super::value::live_bytes().max(real.max(0) as u64)
    }

    /// Whether the run is still within its time budget.
    pub fn check_time(&self) -> R<()> {
        if self.start.elapsed().as_millis() as u64 > self.budget.max_millis {
            return Err(Ctrl::Stop("budget: time".into()));
        }
        Ok(())
    }

    /// Count `units` of work done inside one builtin call (elements visited, compared or
    /// copied) and read the clock each [`WORK_CHUNK`] of them: a builtin is one step of the
    /// step budget however large its input, so the time budget holds inside it only when it
    /// charges its work as it goes (`unique` of nine million numbers overshot a 2 s budget
    /// by 4 s; `==` on nested arrays never returned).
    pub fn charge(&self, units: usize) -> R<()> {
        let before = self.work.get();
        let after = before.wrapping_add(units as u64);
        self.work.set(after);
        if before / WORK_CHUNK != after / WORK_CHUNK {
            self.check_time()?;
            if self.held_bytes() > self.budget.max_memory {
                return Err(self.over_memory());
            }
        }
        Ok(())
    }

    /// Whether a value of `n` elements (or bytes, for a string) fits the budget of one
    /// value's size.
    pub fn check_size(&self, n: usize) -> R<()> {
        if n as u64 > self.budget.max_elements {
            return Err(Ctrl::Stop("budget: elements".into()));
        }
        Ok(())
    }

    /// Whether `bytes` more fit the memory budget beside every value alive now (see
    /// `value::Mem`). Called before each allocation whose size the program decides.
    pub fn check_bytes(&self, bytes: u64) -> R<()> {
        if self.held_bytes().saturating_add(bytes) > self.budget.max_memory {
            return Err(self.over_memory());
        }
        Ok(())
    }

    /// The stop of a run whose values outgrew the memory budget.
    fn over_memory(&self) -> Ctrl {
        Ctrl::Stop(format!(
            "budget: memory (over {} of arrays, strings, tuples, dictionaries, other values and the tape alive at once)",
            super::show_memory(self.budget.max_memory)
        ))
    }

    /// Whether a new array or tuple of `n` elements fits the budgets: one value's size,
    /// and the memory of all values alive at once.
    pub fn check_elements(&self, n: usize) -> R<()> {
        self.check_size(n)?;
        self.check_bytes(super::value::slots_cost(n))
    }

    /// Whether `n` new tuples (or pairs) of `k` elements each fit the memory budget
    /// (`zip`, `enumerate`, `pairs` make one per element of their arguments).
    pub fn check_tuples(&self, n: usize, k: usize) -> R<()> {
        self.check_bytes((n as u64).saturating_mul(super::value::slots_cost(k)))
    }

    /// Room for `n` elements a builtin holds while it works, checked against the memory
    /// budget and counted until the vector is dropped (see [`Scratch`]).
    pub fn scratch<T>(&self, n: usize) -> R<Scratch<T>> {
        self.check_bytes(Scratch::<T>::cost(n))?;
        Ok(Scratch::counted(Vec::with_capacity(n)))
    }

    /// Push `v` onto `s`, whose length the program decides as it goes (a comprehension's
    /// results): when it is full, the room it doubles to is checked and counted first.
    pub fn push_scratch<T>(&self, s: &mut Scratch<T>, v: T) -> R<()> {
        if s.len() == s.capacity() {
            let more = s.capacity().max(4);
            self.check_bytes(Scratch::<T>::cost(more))?;
            s.reserve_exact(more);
            s.count_growth();
        }
        s.push(v);
        Ok(())
    }

    /// Whether a new string of `len` bytes fits the budgets.
    pub fn check_text(&self, len: usize) -> R<()> {
        self.check_size(len)?;
        self.check_bytes(super::value::Text::cost(len))
    }

    /// The symbol `Symbol(x)` makes of `text`: one per name, as Julia interns symbols, so
    /// that a loop making the same symbol holds it once; its bytes count in the memory
    /// budget until the run ends.
    pub fn symbol(&mut self, text: &str) -> R<Name> {
        if let Some(s) = self.symbols.get(text) {
            return Ok(s.clone());
        }
        self.check_text(text.len())?;
        let s: Name = Rc::from(text);
        self.symbols.insert(s.clone());
        let bytes = self.symbol_bytes.bytes() + super::value::Text::cost(text.len());
        self.symbol_bytes.resize(bytes);
        Ok(s)
    }

    pub fn file_name(&self, span: Span) -> String {
        self.files
            .get(span.file as usize)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "none".into())
    }

    /// A construct the interpreter does not model, where no source place is at hand.
    pub fn unsupported_here(&self, what: &str) -> Ctrl {
        Ctrl::Stop(format!(
            "unsupported in the reference interpreter: {}",
            super::value::cut(what)
        ))
    }

    pub fn unsupported(&self, what: &str, span: Span) -> Ctrl {
        Ctrl::Stop(format!(
            "unsupported in the reference interpreter: {} at {}:{}",
            super::value::cut(what),
            self.file_name(span),
            span.line
        ))
    }

    pub fn throw(&self, kind: &str, msg: impl Into<String>) -> Ctrl {
        Ctrl::Throw(Value::Exc(Rc::new(Exc::new(kind.into(), msg.into(), None))))
    }
    /// `Buffer is frozen`: Zygote's forward-pass error for a write after `copy(buf)`.
    pub fn frozen(&self, span: Span) -> Ctrl {
        self.forward_failure("ErrorException", "Buffer is frozen", span)
    }

    /// An error Zygote raises in its forward pass, at `span`.
    pub fn forward_failure(&self, kind: &str, message: &str, span: Span) -> Ctrl {
        let site = super::ad::Site {
            span,
            message: message.into(),
        };
        Ctrl::Throw(Value::Exc(Rc::new(Exc::new(
            kind.into(),
            message.into(),
            Some(super::ad::ZygoteFailure {
                message: message.into(),
                first: site.clone(),
                all: vec![site],
            }),
        ))))
    }

    /// Whether the code running now is differentiated (its events reach a tape).
    pub fn differentiated(&self) -> bool {
        self.rec_events && self.tape.is_some()
    }

    pub fn error(&self, msg: impl Into<String>) -> Ctrl {
        self.throw("ErrorException", msg)
    }

    // ---------------------------------------------------------------- tape helpers

    pub fn tape_id(&self) -> Option<u32> {
        if self.rec_ops {
            self.tape.as_ref().map(|t| t.borrow().id)
        } else {
            None
        }
    }

    /// The node of a tracked value on the active, recording tape.
    pub fn tid(&self, v: &Value) -> Option<u32> {
        match v {
            Value::T(_, n, t) if self.rec_ops => match &self.tape {
                Some(tape) if tape.borrow().id == *t => Some(*n),
                _ => None,
            },
            _ => None,
        }
    }

    /// Record a scalar result with local partials `(operand, d result / d operand)`.
    pub fn rec(&mut self, val: f64, parents: &[(&Value, f64)]) -> R<Value> {
        if !self.rec_ops {
            return Ok(Value::F(val));
        }
        let ps: Vec<(u32, f64)> = parents
            .iter()
            .filter_map(|(v, d)| self.tid(v).map(|n| (n, *d)))
            .collect();
        self.rec_ids(val, ps)
    }

    pub fn rec_ids(&mut self, val: f64, ps: Vec<(u32, f64)>) -> R<Value> {
        if ps.is_empty() {
            return Ok(Value::F(val));
        }
        let tape = match &self.tape {
            Some(t) => t.clone(),
            None => return Ok(Value::F(val)),
        };
        let mut t = tape.borrow_mut();
        let node = match ps.len() {
            1 => TNode::Op1(ps[0].0, ps[0].1),
            2 => TNode::Op2(ps[0].0, ps[0].1, ps[1].0, ps[1].1),
            _ => TNode::OpN(ps),
        };
        self.check_node(&t, &node)?;
        let node = t.push(node);
        Ok(Value::T(val, node, t.id))
    }

    /// Whether `node` fits on `tape`: the tape's own length, and the memory budget.
    pub fn check_node(&self, tape: &Tape, node: &TNode) -> R<()> {
        if tape.len() as u64 >= self.budget.max_elements {
            return Err(Ctrl::Stop("budget: elements".into()));
        }
        self.check_bytes(node.cost())
    }

    /// Record a Zygote reverse-pass error at `span` (only inside traversed code).
    pub fn event(&mut self, span: Span, message: String) {
        if !self.rec_events {
            return;
        }
        if let Some(t) = &self.tape {
            t.borrow_mut().push(TNode::Event(Site { span, message }));
        }
    }

    pub fn mutation_event(&mut self, fname: &str, dest: &Value, span: Span) {
        if self.rec_events && self.tape.is_some() {
            let msg = self.mutation_message(fname, &type_name(dest));
            self.event(span, msg);
        }
    }

    /// First line of Zygote's mutation error for the emulated version (§2.1, §9).
    pub fn mutation_message(&self, fname: &str, tname: &str) -> String {
        let v = self.version.unwrap_or((0, 7, 12));
        if v <= (0, 6, 14) {
            "Mutating arrays is not supported".to_string()
        } else if v <= (0, 6, 40) {
            format!("Mutating arrays is not supported -- called {fname}(::{tname}, _...)")
        } else {
            format!("Mutating arrays is not supported -- called {fname}({tname}, ...)")
        }
    }

    // ---------------------------------------------------------------- scopes

    pub fn lookup(&self, n: &Name, env: &Env, span: Span) -> R<Value> {
        let mut cur = Some(env.clone());
        while let Some(s) = cur {
            if let Some(c) = s.vars.borrow().get(n) {
                let v = c.borrow().clone();
                if s.parent.is_none() {
                    self.note_global_read(n, &v);
                }
                return Ok(v);
            }
            cur = s.parent.clone();
        }
        if let Some(v) = super::builtins::constant(n) {
            return Ok(v);
        }
        if let Some(canonical) = type_named(n) {
            // `Int` is `Int64`: one value, so `eltype(x) == Int` holds.
            return Ok(Value::Type(name(canonical)));
        }
        if n.ends_with('}') {
            return Ok(Value::Type(n.clone()));
        }
        if super::builtins::is_builtin(n) {
            return Ok(Value::Builtin(n.clone()));
        }
        if super::lower::is_module(n) {
            return Ok(Value::Module(n.clone()));
        }
        if self.structs.contains_key(n) {
            return Ok(Value::Type(n.clone()));
        }
        // Most likely a Base/package function the interpreter does not implement: stop rather
        // than raise an UndefVarError the program could catch and carry on from.
        Err(self.unsupported(
            &format!(
                "name `{n}` (not defined in the given files or the interpreter's Base subset)"
            ),
            span,
        ))
    }

    pub fn set_var(&mut self, n: &Name, v: Value, env: &Env) {
        let mut cur = Some(env.clone());
        let mut crossed_func = false;
        while let Some(s) = cur {
            if s.globals.borrow().contains(n) {
                self.set_global(n, v);
                return;
            }
            if let Some(c) = s.vars.borrow().get(n) {
                if s.parent.is_none() && crossed_func {
                    break; // a global, but we are inside a function: new local
                }
                *c.borrow_mut() = v;
                return;
            }
            if s.is_func {
                crossed_func = true;
            }
            cur = s.parent.clone();
        }
        env.vars
            .borrow_mut()
            .insert(n.clone(), Rc::new(RefCell::new(v)));
    }

    pub fn declare_local(&self, n: &Name, v: Value, env: &Env) {
        env.vars
            .borrow_mut()
            .insert(n.clone(), Rc::new(RefCell::new(v)));
    }

    pub fn set_global(&self, n: &Name, v: Value) {
        let existing = self.global.vars.borrow().get(n).cloned();
        match existing {
            Some(c) => *c.borrow_mut() = v,
            None => {
                self.global
                    .vars
                    .borrow_mut()
                    .insert(n.clone(), Rc::new(RefCell::new(v)));
            }
        }
    }

    // ---------------------------------------------------------------- evaluation

    pub fn eval_block(&mut self, items: &[Ex], env: &Env) -> R<Value> {
        let mut last = Value::Nothing;
        for e in items {
            last = self.eval(e, env)?;
        }
        Ok(last)
    }

    /// Evaluates one IR expression. This is one match over the IR node kinds, kept whole so
    /// that the evaluation of every kind is found in one place (about 150 lines): each arm is a
    /// few lines or delegates to a method.
    pub fn eval(&mut self, e: &Ex, env: &Env) -> R<Value> {
        self.tick()?;
        match e {
            Ex::Lit(l) => Ok(match l {
                Lit::Nothing => Value::Nothing,
                Lit::Bool(b) => Value::Bool(*b),
                Lit::Int(i) => Value::Int(*i),
                Lit::Float(f) => Value::F(*f),
                Lit::Str(s) => Value::Str(s.clone()),
                Lit::Sym(s) => Value::Sym(s.clone()),
                Lit::Char(c) => Value::Char(*c),
            }),
            Ex::Var(n, sp) => self.lookup(n, env, *sp),
            Ex::Call { f, args, kw, span } => {
                let fv = self.eval(f, env)?;
                let argv = self.eval_args(args, env)?;
                let kwv = self.eval_kwargs(kw, env)?;
                self.call_value(&fv, argv, kwv, *span)
            }
            Ex::Bcast { f, args, span } => {
                let fv = self.eval(f, env)?;
                let argv = self.eval_args(args, env)?;
                self.broadcast(&fv, argv, *span)
            }
            Ex::Index { obj, idx, span } => {
                let o = self.eval(obj, env)?;
                let iv = self.eval_indices(&o, idx, env)?;
                self.getindex(&o, &iv, *span)
            }
            Ex::End => self.eval_end(),
            Ex::Colon => Ok(Value::Sym(name(":"))),
            Ex::Field { obj, name: f, span } => {
                let o = self.eval(obj, env)?;
                self.getfield(&o, f, *span)
            }
            Ex::Tuple(args) => Ok(Value::tuple(self.eval_args(args, env)?)),
            Ex::NamedTuple(fields) => self.eval_named_tuple(fields, env),
            Ex::Vect(args) => {
                let vals = self.eval_args(args, env)?;
                let t = promote_elty(&vals);
                let n = vals.len();
                Ok(Value::arr(
                    vec![n],
                    vals.into_iter().map(|v| convert_el(v, t)).collect(),
                    t,
                ))
            }
            Ex::Matrix(rows) => self.eval_matrix(rows, env),
            Ex::Range(a, s, b) => {
                let a = self.eval(a, env)?;
                let s = match s {
                    Some(s) => Some(self.eval(s, env)?),
                    None => None,
                };
                let b = self.eval(b, env)?;
                super::builtins::make_range(self, &a, s.as_ref(), &b)
            }
            Ex::And(a, b) => {
                let x = self.eval(a, env)?;
                if self.truthy(&x)? {
                    self.eval(b, env)
                } else {
                    Ok(Value::Bool(false))
                }
            }
            Ex::Or(a, b) => {
                let x = self.eval(a, env)?;
                if self.truthy(&x)? {
                    Ok(Value::Bool(true))
                } else {
                    self.eval(b, env)
                }
            }
            Ex::If(c, a, b) => {
                let x = self.eval(c, env)?;
                if self.truthy(&x)? {
                    self.eval(a, env)
                } else if let Some(b) = b {
                    self.eval(b, env)
                } else {
                    Ok(Value::Nothing)
                }
            }
            Ex::Block(items) => self.eval_block(items, env),
            Ex::Let(binds, body) => self.eval_let(binds, body, env),
            Ex::Lambda(fd) => Ok(Value::Func(Rc::new(FuncVal {
                name: name("#anon"),
                methods: RefCell::new(super::methods::Methods::one(fd.clone())),
                env: env.clone(),
                builtin_fallback: false,
            }))),
            Ex::FuncDef(fd) => self.define_function(fd, env),
            Ex::Comprehension {
                body,
                iters,
                cond,
                span,
            } => self.comprehension(body, iters, cond.as_deref(), env, *span),
            Ex::Assign(lv, rhs, span) => {
                let v = self.eval(rhs, env)?;
                self.assign(lv, v.clone(), env, *span)?;
                Ok(v)
            }
            Ex::DotAssign(lv, rhs, span) => self.dot_assign(lv, rhs, env, *span),
            Ex::For { iters, body } => {
                self.for_loop(iters, 0, body, env)?;
                Ok(Value::Nothing)
            }
            Ex::While(c, body) => self.while_loop(c, body, env),
            Ex::Break => Err(Ctrl::Break),
            Ex::Continue => Err(Ctrl::Continue),
            Ex::Return(x) => {
                let v = self.eval(x, env)?;
                Err(Ctrl::Return(v))
            }
            Ex::Try {
                body,
                catch_var,
                catch_body,
                catch_line,
                finally,
                span,
            } => self.try_stmt(
                body,
                catch_var,
                catch_body,
                *catch_line,
                finally,
                env,
                *span,
            ),
            Ex::StructDef(_)
            | Ex::Global(_)
            | Ex::Const(_)
            | Ex::Local(_)
            | Ex::NonDiff(_)
            | Ex::Adjoint(_) => {
                self.declare(e, env);
                Ok(Value::Nothing)
            }
            Ex::Ccall {
                name: fname,
                ret,
                argtys,
                args,
                span,
            } => self.ccall(fname, ret, argtys, args, env, *span),
            Ex::Ignore(x) => {
                let saved = self.suspend();
                let r = self.eval(x, env);
                self.resume(saved);
                Ok(r?.primal())
            }
            Ex::Interp(parts) => self.eval_interpolation(parts, env),
            Ex::Unsupported(what, span) => Err(self.unsupported(what, *span)),
        }
    }

    /// Declarations, which evaluate to `nothing`: `struct`, `global`, `local`,
    /// `@non_differentiable` and `@adjoint` (other expressions declare nothing).
    fn declare(&mut self, e: &Ex, env: &Env) {
        match e {
            Ex::StructDef(sd) => {
                self.structs.insert(sd.name.clone(), sd.clone());
                self.set_global(&sd.name, Value::Type(sd.name.clone()));
            }
            Ex::Const(names) => {
                for n in names {
                    self.consts.insert(n.clone());
                    if env.parent.is_some() {
                        env.globals.borrow_mut().insert(n.clone());
                    }
                }
            }
            Ex::Global(names) if env.parent.is_some() => {
                for n in names {
                    env.globals.borrow_mut().insert(n.clone());
                }
            }
            Ex::Local(names) => {
                for n in names {
                    self.declare_local(n, Value::Nothing, env);
                }
            }
            Ex::NonDiff(n) => {
                self.nondiff.insert(n.clone());
            }
            Ex::Adjoint(fd) => {
                if let Some(n) = &fd.name {
                    self.adjoints
                        .entry(n.clone())
                        .or_default()
                        .push((fd.clone(), env.clone()));
                }
            }
            _ => {}
        }
    }

    /// `"a $x b"`.
    fn eval_interpolation(&mut self, parts: &[Ex], env: &Env) -> R<Value> {
        let mut s = String::new();
        for p in parts {
            let v = self.eval(p, env)?;
            // Checked before it is built: `s = "$s$s"` in a loop doubles each time.
            super::builtins::strings::push_display(self, &mut s, &v)?;
        }
        Ok(Value::str(&s))
    }

    /// `(a = x, b = y)`.
    fn eval_named_tuple(&mut self, fields: &[(Name, Ex)], env: &Env) -> R<Value> {
        let mut ns = vec![];
        let mut vs = vec![];
        for (n, ex) in fields {
            ns.push(n.clone());
            vs.push(self.eval(ex, env)?);
        }
        Ok(Value::nt(Rc::new(ns), vs))
    }

    /// Keyword arguments, `f(; a = 1)` and `f(; nt...)`.
    fn eval_kwargs(&mut self, kw: &[KwArg], env: &Env) -> R<Vec<(Name, Value)>> {
        let mut kwv = vec![];
        for k in kw {
            match k {
                KwArg::Named(n, ex) => {
                    let v = self.eval(ex, env)?;
                    kwv.push((n.clone(), v));
                }
                KwArg::Splat(ex) => {
                    let v = self.eval(ex, env)?;
                    if let Value::NT(ns, vs) = v {
                        for (n, v) in ns.iter().zip(vs.iter()) {
                            kwv.push((n.clone(), v.clone()));
                        }
                    }
                }
            }
        }
        Ok(kwv)
    }

    /// `end` inside an index: the length of the indexed dimension.
    fn eval_end(&self) -> R<Value> {
        match self.end_ctx.last().cloned() {
            Some((obj, dim, nd)) => {
                let v = if nd == 1 {
                    super::builtins::length_of(&obj)
                } else {
                    super::builtins::size_of(&obj)
                        .get(dim)
                        .copied()
                        .unwrap_or(1)
                };
                Ok(Value::Int(v as i64))
            }
            // Julia rejects it when it parses the file.
            None => Err(self.unsupported_here("`end` outside indexing")),
        }
    }

    /// `[a b; c d]`.
    fn eval_matrix(&mut self, rows: &[Vec<Ex>], env: &Env) -> R<Value> {
        let mut rv = vec![];
        for r in rows {
            let mut row = vec![];
            for x in r {
                row.push(self.eval(x, env)?);
            }
            rv.push(row);
        }
        super::builtins::build_matrix(self, rv)
    }

    /// `let a = x, b; body end`: the bindings are new locals of a new scope.
    fn eval_let(&mut self, binds: &[(Lv, Option<Ex>)], body: &Ex, env: &Env) -> R<Value> {
        let scope = new_scope(Some(env.clone()), false);
        for (lv, ex) in binds {
            let v = match ex {
                Some(ex) => self.eval(ex, &scope)?,
                None => Value::Nothing,
            };
            // let bindings are always new locals
            if let Lv::Var(n) = lv {
                self.declare_local(n, v, &scope);
            } else {
                self.assign(lv, v, &scope, Span::default())?;
            }
        }
        self.eval(body, &scope)
    }

    /// `while c; body end`, each iteration in a new scope.
    fn while_loop(&mut self, c: &Ex, body: &Ex, env: &Env) -> R<Value> {
        loop {
            let x = self.eval(c, env)?;
            if !self.truthy(&x)? {
                break;
            }
            let scope = new_scope(Some(env.clone()), false);
            match self.eval(body, &scope) {
                Ok(_) | Err(Ctrl::Continue) => {}
                Err(Ctrl::Break) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(Value::Nothing)
    }

    /// `ccall` / `@ccall`: the arguments are evaluated, the foreigncall event Zygote would
    /// raise is recorded, and C is never run (a fixed dummy result).
    fn ccall(
        &mut self,
        fname: &Name,
        ret: &Name,
        argtys: &str,
        args: &[Ex],
        env: &Env,
        span: Span,
    ) -> R<Value> {
        for a in args {
            self.eval(a, env)?;
        }
        let msg = self.foreigncall_message(
            fname,
            ret,
            argtys.trim_start_matches('(').trim_end_matches(')'),
        );
        self.event(span, msg);
        // Never run C: a fixed dummy result.
        Ok(match ret.as_ref() {
            "Float64" | "Cdouble" | "Float32" => Value::F(1.0),
            "Cvoid" | "Nothing" => Value::Nothing,
            _ => Value::Int(1000),
        })
    }

    /// Zygote's message for a foreign call it meets in its reverse pass, in the form of the
    /// emulated version: from v0.6.44 it prints the call's IR expression.
    pub fn foreigncall_message(&self, fname: &str, ret: &str, argtys: &str) -> String {
        self.foreigncall_text(&format!(
            "$(Expr(:foreigncall, :(:{fname}), {ret}, svec({argtys}), 0, :(:ccall)))"
        ))
    }

    /// The same for a foreign call made deep inside a Base function (`what` names it),
    /// whose IR expression the interpreter does not render: it names the call instead.
    pub fn foreigncall_in(&self, what: &str) -> String {
        self.foreigncall_text(&format!("({what})"))
    }

    fn foreigncall_text(&self, shown: &str) -> String {
        let v = self.version.unwrap_or((0, 7, 12));
        if v <= (0, 6, 40) {
            "Can't differentiate foreigncall expression".to_string()
        } else if v <= (0, 6, 43) {
            "Can't differentiate foreigncall expression.".to_string()
        } else {
            format!("Can't differentiate foreigncall expression {shown}.")
        }
    }

    /// A read of a global during a nested AD call's differentiated code (see
    /// `entry::nested`).
    pub fn note_global_read(&self, n: &Name, v: &Value) {
        if !self.rec_ops || self.consts.contains(n) || self.prelude_globals.contains(n) {
            return;
        }
        let mut reads = self.nested_reads.borrow_mut();
        if let Some(reads) = reads.as_mut() {
            if !reads.contains(n) && carries_floats(v, 0) {
                reads.push(n.clone());
            }
        }
    }

    pub fn truthy(&self, v: &Value) -> R<bool> {
        match v {
            Value::Bool(b) => Ok(*b),
            other => Err(self.throw(
                "TypeError",
                format!(
                    "TypeError: non-boolean ({}) used in boolean context",
                    type_name(other)
                ),
            )),
        }
    }

    fn eval_args(&mut self, args: &[Arg], env: &Env) -> R<Vec<Value>> {
        let mut out = vec![];
        for a in args {
            let v = self.eval(&a.ex, env)?;
            if a.splat {
                let items = self.iterate(&v)?;
                // `t = (t..., t...)` in a loop doubles each time.
                self.check_elements(out.len() + items.len())?;
                out.extend(items);
            } else {
                out.push(v);
            }
        }
        Ok(out)
    }

    fn eval_indices(&mut self, obj: &Value, idx: &[Ex], env: &Env) -> R<Vec<Value>> {
        let mut out = vec![];
        let nd = idx.len();
        for (d, ex) in idx.iter().enumerate() {
            self.end_ctx.push((obj.clone(), d, nd));
            let r = self.eval(ex, env);
            self.end_ctx.pop();
            out.push(r?);
        }
        Ok(out)
    }

    fn for_loop(&mut self, iters: &[(Lv, Ex)], k: usize, body: &Ex, env: &Env) -> R<bool> {
        // returns false when a `break` ended the loop
        let (lv, ex) = &iters[k];
        let coll = self.eval(ex, env)?;
        let walk = self.walk(&coll)?;
        let mut next = 0;
        while let Some(item) = walk.get(next) {
            next += 1;
            self.tick()?;
            let scope = new_scope(Some(env.clone()), false);
            self.bind_pattern(lv, item, &scope)?;
            if k + 1 < iters.len() {
                if !self.for_loop(iters, k + 1, body, &scope)? {
                    return Ok(false);
                }
                continue;
            }
            match self.eval(body, &scope) {
                Ok(_) | Err(Ctrl::Continue) => {}
                Err(Ctrl::Break) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Bind a loop / comprehension variable as a fresh local of `scope`
    /// (unless it names an existing outer local, as Julia's `for i` over an outer `i` does at
    /// top level; we keep it simple and always make a fresh local).
    pub fn bind_pattern(&mut self, lv: &Lv, v: Value, scope: &Env) -> R<()> {
        match lv {
            Lv::Var(n) => {
                self.declare_local(n, v, scope);
                Ok(())
            }
            Lv::Tuple(parts) => {
                let items = self.iterate(&v)?;
                if items.len() < parts.len() {
                    return Err(
                        self.throw("BoundsError", "BoundsError: not enough values to unpack")
                    );
                }
                for (p, x) in parts.iter().zip(items) {
                    self.bind_pattern(p, x, scope)?;
                }
                Ok(())
            }
            Lv::Discard => Ok(()),
            _ => self.assign(lv, v, scope, Span::default()),
        }
    }

    fn comprehension(
        &mut self,
        body: &Ex,
        iters: &[(Lv, Ex)],
        cond: Option<&Ex>,
        env: &Env,
        span: Span,
    ) -> R<Value> {
        let mut out = self.scratch(0)?;
        let mut dims = vec![];
        let region = self.region_start();
        self.comp_rec(body, iters, 0, cond, env, &mut out, &mut dims)?;
        let out = self.region_end(region, out.into_vec())?;
        let _ = span;
        let t = promote_elty(&out);
        let mut out = Scratch::counted(out);
        for v in out.iter_mut() {
            *v = convert_el(std::mem::replace(v, Value::Nothing), t);
        }
        if iters.len() == 2 && cond.is_none() && dims.len() == 2 {
            // [f(i, j) for i in a, j in b]: i varies fastest → column-major matches Julia.
            // `out` is in (i outer, j inner) order from the recursion: moved to column-major.
            let (m, n) = (dims[0], dims[1]);
            let mut data = self.scratch(out.len())?;
            data.resize(out.len(), Value::Nothing);
            for i in 0..m {
                for j in 0..n {
                    data[i + j * m] = std::mem::replace(&mut out[i * n + j], Value::Nothing);
                }
            }
            return Ok(Value::arr(vec![m, n], data.into_vec(), t));
        }
        let out = out.into_vec();
        let n = out.len();
        Ok(Value::arr(vec![n], out, t))
    }

    #[allow(clippy::too_many_arguments)]
    fn comp_rec(
        &mut self,
        body: &Ex,
        iters: &[(Lv, Ex)],
        k: usize,
        cond: Option<&Ex>,
        env: &Env,
        out: &mut Scratch<Value>,
        dims: &mut Vec<usize>,
    ) -> R<()> {
        let (lv, ex) = &iters[k];
        let coll = self.eval(ex, env)?;
        let walk = self.walk(&coll)?;
        // The length when the comprehension starts, as Julia's `collect` takes it.
        let n = walk.len();
        if dims.len() <= k {
            dims.push(n);
        }
        for item in (0..n).map_while(|i| walk.get(i)) {
            self.tick()?;
            let scope = new_scope(Some(env.clone()), false);
            self.bind_pattern(lv, item, &scope)?;
            if k + 1 < iters.len() {
                self.comp_rec(body, iters, k + 1, cond, &scope, out, dims)?;
                continue;
            }
            if let Some(c) = cond {
                let x = self.eval(c, &scope)?;
                if !self.truthy(&x)? {
                    continue;
                }
            }
            let v = self.eval(body, &scope)?;
            self.check_size(out.len() + 1)?;
            self.push_scratch(out, v)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn try_stmt(
        &mut self,
        body: &Ex,
        catch_var: &Option<Name>,
        catch_body: &Option<Box<Ex>>,
        catch_line: u32,
        finally: &Option<Box<Ex>>,
        env: &Env,
        span: Span,
    ) -> R<Value> {
        let scope = new_scope(Some(env.clone()), false);
        let r = self.eval(body, &scope);
        let r = match r {
            Err(Ctrl::Throw(exc)) if catch_body.is_some() => {
                let cscope = new_scope(Some(env.clone()), false);
                if let Some(v) = catch_var {
                    self.declare_local(v, exc.clone(), &cscope);
                }
                let empty = Ex::Block(vec![]);
                let cb = catch_body.as_ref().map(|b| b.as_ref()).unwrap_or(&empty);
                self.cur_exc.push(exc);
                let res = self.eval(cb, &cscope);
                self.cur_exc.pop();
                // Zygote raises this first when its reverse pass enters the catch block's adjoint,
                // i.e. after everything executed inside the block: record it at the block's end.
                if !matches!(res, Err(Ctrl::Stop(_))) {
                    let msg = format!(
                        "Can't differentiate function execution in catch block at {}:{}.",
                        self.file_name(span),
                        catch_line
                    );
                    self.event(span, msg);
                }
                res
            }
            other => other,
        };
        if let Some(f) = finally {
            if !matches!(r, Err(Ctrl::Stop(_))) {
                let fscope = new_scope(Some(env.clone()), false);
                self.eval(f, &fscope)?;
            }
        }
        r
    }

    // ---------------------------------------------------------------- assignment

    pub fn assign(&mut self, lv: &Lv, v: Value, env: &Env, span: Span) -> R<()> {
        match lv {
            Lv::Var(n) => {
                self.set_var(n, v, env);
                Ok(())
            }
            Lv::Discard => Ok(()),
            Lv::Tuple(parts) => {
                let items = self.iterate(&v)?;
                if items.len() < parts.len() {
                    return Err(
                        self.throw("BoundsError", "BoundsError: not enough values to unpack")
                    );
                }
                for (p, x) in parts.iter().zip(items) {
                    self.assign(p, x, env, span)?;
                }
                Ok(())
            }
            Lv::Props(names) => {
                for n in names {
                    let x = self.getfield(&v, n, span)?;
                    self.set_var(n, x, env);
                }
                Ok(())
            }
            Lv::Index(obj, idx) => {
                let o = self.eval(obj, env)?;
                let iv = self.eval_indices(&o, idx, env)?;
                self.setindex(&o, v, &iv, span)
            }
            Lv::Field(obj, f) => {
                let o = self.eval(obj, env)?;
                self.setfield(&o, f, v)
            }
        }
    }

    pub fn setfield(&mut self, o: &Value, f: &Name, v: Value) -> R<()> {
        match o {
            Value::Struct(s) => {
                if !s.def.mutable {
                    return Err(self.error(format!(
                        "setfield!: immutable struct of type {} cannot be changed",
                        s.def.name
                    )));
                }
                let i = match s.def.fields.iter().position(|x| x == f) {
                    Some(i) => i,
                    None => {
                        return Err(self.error(format!("type {} has no field {}", s.def.name, f)))
                    }
                };
                let v = match &s.def.field_tys[i] {
                    Ty::Named(t) if t.as_ref() == "Float64" => convert_el(v, ElTy::F64),
                    _ => v,
                };
                // mutable struct field writes are supported by Zygote (§5.1): no event
                s.fields.borrow_mut()[i] = v;
                Ok(())
            }
            Value::Ref(r) if f.as_ref() == "x" => {
                *r.borrow_mut() = v;
                Ok(())
            }
            _ => Err(self.unsupported_here(&format!(
                "setting the field {} of a {}",
                f,
                type_name(o)
            ))),
        }
    }

    pub fn getfield(&mut self, o: &Value, f: &Name, span: Span) -> R<Value> {
        match o {
            Value::Struct(s) => match s.def.fields.iter().position(|x| x == f) {
                Some(i) => Ok(s.fields.borrow()[i].clone()),
                None => Err(self.error(format!("type {} has no field {}", s.def.name, f))),
            },
            Value::NT(ns, vs) => match ns.iter().position(|x| x == f) {
                Some(i) => Ok(vs[i].clone()),
                None => Err(self.error(format!("type NamedTuple has no field {f}"))),
            },
            Value::Ref(r) if f.as_ref() == "x" => Ok(r.borrow().clone()),
            Value::Pair(p) => match f.as_ref() {
                "first" => Ok(p.0.clone()),
                "second" => Ok(p.1.clone()),
                _ => Err(self.error(format!("type Pair has no field {f}"))),
            },
            Value::Exc(e) if f.as_ref() == "msg" => {
                self.check_text(e.msg.len())?;
                Ok(Value::str(&e.msg))
            }
            Value::Module(_) => self.lookup(f, &self.global.clone(), span),
            _ => Err(self.unsupported(&format!("field access .{} on {}", f, type_name(o)), span)),
        }
    }

    // ---------------------------------------------------------------- functions

    fn define_function(&mut self, fd: &Rc<FuncDef>, env: &Env) -> R<Value> {
        if let Some((tname, _)) = &fd.callable {
            self.callables
                .entry(tname.clone())
                .or_default()
                .push((fd.clone(), env.clone()));
            return Ok(Value::Nothing);
        }
        let fname = match &fd.name {
            Some(n) => n.clone(),
            None => return Ok(Value::Nothing),
        };
        if fname.as_ref() == "rrule" {
            // rrule(::typeof(f), args...) or rrule(config, ::typeof(f), args...)
            let pos = fd.params.iter().position(|p| matches!(p.ty, Ty::TypeOf(_)));
            if let Some(pos) = pos {
                if let Ty::TypeOf(target) = &fd.params[pos].ty {
                    let mut params = fd.params.clone();
                    params.drain(0..=pos);
                    let stripped = Rc::new(FuncDef {
                        name: fd.name.clone(),
                        qualifier: fd.qualifier.clone(),
                        callable: None,
                        params,
                        kwparams: fd.kwparams.clone(),
                        kwsplat: fd.kwsplat.clone(),
                        body: fd.body.clone(),
                        try_span: fd.try_span,
                        span: fd.span,
                        destructure: vec![],
                    });
                    self.rrules
                        .entry(target.clone())
                        .or_default()
                        .push((stripped, env.clone()));
                    return Ok(Value::Nothing);
                }
            }
        }
        let at_top = env.parent.is_none();
        let target_env = if at_top || !fd.qualifier.is_empty() {
            self.global.clone()
        } else {
            env.clone()
        };
        let existing = target_env.vars.borrow().get(&fname).cloned();
        if let Some(cell) = existing {
            if let Value::Func(fv) = &*cell.borrow() {
                fv.methods.borrow_mut().define(fd.clone());
                return Ok(Value::Func(fv.clone()));
            }
        }
        let fv = Rc::new(FuncVal {
            name: fname.clone(),
            methods: RefCell::new(super::methods::Methods::one(fd.clone())),
            env: target_env.clone(),
            builtin_fallback: super::builtins::is_builtin(&fname),
        });
        target_env
            .vars
            .borrow_mut()
            .insert(fname, Rc::new(RefCell::new(Value::Func(fv.clone()))));
        Ok(Value::Func(fv))
    }

    /// Match score of a value against an annotation (higher is more specific).
    pub fn ty_score(&self, ty: &Ty, v: &Value) -> Option<u32> {
        match ty {
            Ty::Any => Some(1),
            Ty::TypeVal => matches!(v, Value::Type(_)).then_some(3),
            Ty::TypeOf(n) => match v {
                Value::Func(f) if &f.name == n => Some(6),
                Value::Builtin(b) if b == n => Some(6),
                _ => None,
            },
            Ty::Named(n) => match builtin_type_score(n, v) {
                Some(score) => score,
                None => match v {
                    Value::Struct(o) if o.def.name == *n => Some(6),
                    Value::Struct(o) if o.def.supertype.as_deref() == Some(&**n) => Some(3),
                    Value::Exc(e) if e.kind == **n => Some(5),
                    _ => None,
                },
            },
        }
    }

    /// Pick the most specific applicable method (the first of equals, in definition order).
    pub fn select_method<'m>(
        &self,
        methods: impl IntoIterator<Item = &'m Rc<FuncDef>>,
        args: &[Value],
    ) -> Option<Rc<FuncDef>> {
        let mut best: Option<(u32, Rc<FuncDef>)> = None;
        for m in methods {
            let has_splat = m.params.last().map(|p| p.splat).unwrap_or(false);
            let fixed = if has_splat {
                m.params.len() - 1
            } else {
                m.params.len()
            };
            let required = m.params[..fixed]
                .iter()
                .filter(|p| p.default.is_none())
                .count();
            if args.len() < required || (!has_splat && args.len() > fixed) {
                continue;
            }
            let mut score = 0;
            let mut ok = true;
            for (i, a) in args.iter().enumerate() {
                let p = if i < fixed {
                    &m.params[i]
                } else {
                    &m.params[fixed]
                };
                match self.ty_score(&p.ty, a) {
                    Some(s) => score += s,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                continue;
            }
            // prefer exact arity over varargs/defaults
            if !has_splat && args.len() == fixed {
                score += 1;
            }
            if best.as_ref().map(|(s, _)| score > *s).unwrap_or(true) {
                best = Some((score, m.clone()));
            }
        }
        best.map(|(_, m)| m)
    }

    /// Run a method body with bound arguments.
    pub fn invoke(
        &mut self,
        fd: &Rc<FuncDef>,
        fname: &str,
        env: &Env,
        args: Vec<Value>,
        kw: Vec<(Name, Value)>,
        receiver: Option<(Name, Value)>,
    ) -> R<Value> {
        if self.depth >= self.budget.max_depth {
            return Err(Ctrl::Stop("budget: depth".into()));
        }
        if let (Some(tspan), true, true) = (fd.try_span, self.rec_events, self.tape.is_some()) {
            if let Some(v) = self.version {
                if v <= (0, 6, 70) {
                    let tys: Vec<String> = args.iter().map(type_name).collect();
                    let mut msg = format!("Compiling Tuple{{typeof({})", fname);
                    for t in tys {
                        msg.push_str(", ");
                        msg.push_str(&t);
                    }
                    msg.push_str("}: try/catch is not supported.");
                    let site = super::ad::Site {
                        span: tspan,
                        message: msg.clone(),
                    };
                    return Err(Ctrl::Throw(Value::Exc(Rc::new(Exc::new(
                        "Zygote.CompileError".into(),
                        msg.clone(),
                        Some(super::ad::ZygoteFailure {
                            message: msg,
                            first: site.clone(),
                            all: vec![site],
                        }),
                    )))));
                }
            }
        }
        let scope = new_scope(Some(env.clone()), true);
        if let Some((n, v)) = receiver {
            self.declare_local(&n, v, &scope);
        }
        let has_splat = fd.params.last().map(|p| p.splat).unwrap_or(false);
        let fixed = if has_splat {
            fd.params.len() - 1
        } else {
            fd.params.len()
        };
        let mut it = args.into_iter();
        self.depth += 1;
        let r = (|| -> R<Value> {
            for p in &fd.params[..fixed] {
                let v = match it.next() {
                    Some(v) => v,
                    None => match &p.default {
                        Some(d) => self.eval(d, &scope)?,
                        None => return Err(self.error("missing argument")),
                    },
                };
                if let Some(n) = &p.name {
                    self.declare_local(n, v, &scope);
                }
            }
            if has_splat {
                let rest: Vec<Value> = it.collect();
                if let Some(n) = &fd.params[fixed].name {
                    self.declare_local(n, Value::tuple(rest), &scope);
                }
            }
            for (i, lv) in &fd.destructure {
                if let Some(Some(n)) = fd.params.get(*i).map(|p| p.name.clone()) {
                    let v = self.lookup(&n, &scope, fd.span)?;
                    self.bind_pattern(lv, v, &scope)?;
                }
            }
            let mut kw = kw;
            for p in &fd.kwparams {
                let pname = match &p.name {
                    Some(n) => n.clone(),
                    None => continue,
                };
                let v = match kw.iter().position(|(k, _)| *k == pname) {
                    Some(i) => kw.remove(i).1,
                    None => match &p.default {
                        Some(d) => self.eval(d, &scope)?,
                        None => {
                            return Err(self.throw(
                                "UndefKeywordError",
                                format!(
                                    "UndefKeywordError: keyword argument `{pname}` not assigned"
                                ),
                            ))
                        }
                    },
                };
                self.declare_local(&pname, v, &scope);
            }
            match &fd.kwsplat {
                Some(n) => {
                    let (ns, vs): (Vec<Name>, Vec<Value>) = kw.into_iter().unzip();
                    self.declare_local(n, Value::nt(Rc::new(ns), vs), &scope);
                }
                None => {
                    if let Some((k, _)) = kw.first() {
                        return Err(self.throw(
                            "MethodError",
                            format!("MethodError: no method matching {fname}(...; {k})"),
                        ));
                    }
                }
            }
            match self.eval(&fd.body, &scope) {
                Ok(v) => Ok(v),
                Err(Ctrl::Return(v)) => Ok(v),
                Err(Ctrl::Break) | Err(Ctrl::Continue) => {
                    Err(self.unsupported_here("break or continue outside a loop"))
                }
                Err(e) => Err(e),
            }
        })();
        self.depth -= 1;
        r
    }

    /// Find a user rule (`rrule` / `@adjoint`) for `fname` applicable to `args`.
    fn find_rule(&self, fname: &Name, args: &[Value]) -> Option<(Rc<FuncDef>, Env, bool)> {
        for (table, drops) in [(&self.rrules, true), (&self.adjoints, false)] {
            if let Some(list) = table.get(fname) {
                let defs: Vec<Rc<FuncDef>> = list.iter().map(|(d, _)| d.clone()).collect();
                if let Some(m) = self.select_method(&defs, args) {
                    let env = list
                        .iter()
                        .find(|(d, _)| Rc::ptr_eq(d, &m))
                        .map(|(_, e)| e.clone())
                        .unwrap_or_else(|| self.global.clone());
                    return Some((m, env, drops));
                }
            }
        }
        None
    }

    /// Replace each Float64 leaf of a rule's output by a fresh tape leaf.
    fn track_output(&mut self, v: &Value) -> R<Value> {
        self.track_input(v)
    }

    pub fn call_value(
        &mut self,
        f: &Value,
        args: Vec<Value>,
        kw: Vec<(Name, Value)>,
        span: Span,
    ) -> R<Value> {
        self.tick()?;
        let fname: Option<Name> = match f {
            Value::Func(fv) => Some(fv.name.clone()),
            Value::Builtin(n) => Some(n.clone()),
            _ => None,
        };
        if let Some(fname) = &fname {
            // 1. user rules (only matter while differentiating)
            if self.rec_ops && self.tape.is_some() {
                if let Some((rule, env, drops)) = self.find_rule(fname, &args) {
                    let saved = self.suspend();
                    let r = self.invoke(&rule, "rrule", &env, args.clone(), kw.clone(), None);
                    self.resume(saved);
                    let r = r?;
                    let (y, pb) = match &r {
                        Value::Tuple(t) if t.len() == 2 => (t[0].clone(), t[1].clone()),
                        _ => {
                            return Err(self.unsupported_here(&format!(
                                "an rrule for {fname} that does not return (y, pullback)"
                            )))
                        }
                    };
                    let y = self.track_output(&y.primal())?;
                    if let Some(t) = &self.tape {
                        let node = TNode::Custom(Rc::new(Custom {
                            pullback: pb,
                            args,
                            out: y.clone(),
                            drops_first: drops,
                        }));
                        self.check_node(&t.borrow(), &node)?;
                        t.borrow_mut().push(node);
                    }
                    return Ok(y);
                }
            }
            // 2. non-differentiable functions run natively
            if self.nondiff.contains(fname) && self.tape.is_some() && self.rec_ops {
                let saved = self.suspend();
                let r = self.call_plain(f, args, kw, span);
                self.resume(saved);
                return Ok(r?.primal());
            }
        }
        self.call_plain(f, args, kw, span)
    }

    fn call_plain(
        &mut self,
        f: &Value,
        args: Vec<Value>,
        kw: Vec<(Name, Value)>,
        span: Span,
    ) -> R<Value> {
        match f {
            Value::Func(fv) => {
                let chosen = self.select_method(fv.methods.borrow().candidates(&args), &args);
                match chosen {
                    Some(m) => {
                        let env = fv.env.clone();
                        let via_prelude =
                            m.span.file == self.prelude_file && span.file != self.prelude_file;
                        if via_prelude {
                            self.prelude_callers.push(span);
                        }
                        let r = self.invoke(&m, &fv.name.clone(), &env, args, kw, None);
                        if via_prelude {
                            self.prelude_callers.pop();
                        }
                        r
                    }
                    None if fv.builtin_fallback => {
                        super::builtins::call_builtin(self, &fv.name.clone(), args, kw, span)
                    }
                    None if self.structs.contains_key(&fv.name) => {
                        // outer constructors defined: the default constructor still applies
                        super::builtins::construct(self, &fv.name.clone(), args, kw, span)
                    }
                    None => Err(self.throw(
                        "MethodError",
                        format!(
                            "MethodError: no method matching {}({})",
                            fv.name,
                            args.iter()
                                .map(|a| format!("::{}", type_name(a)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )),
                }
            }
            Value::Builtin(n) => super::builtins::call_builtin(self, &n.clone(), args, kw, span),
            Value::Type(t) => super::builtins::construct(self, &t.clone(), args, kw, span),
            Value::Struct(o) => {
                let list = self.callables.get(&o.def.name).cloned().unwrap_or_default();
                let defs: Vec<Rc<FuncDef>> = list.iter().map(|(d, _)| d.clone()).collect();
                match self.select_method(&defs, &args) {
                    Some(m) => {
                        let env = list
                            .iter()
                            .find(|(d, _)| Rc::ptr_eq(d, &m))
                            .map(|(_, e)| e.clone())
                            .unwrap_or_else(|| self.global.clone());
                        let recv = m
                            .callable
                            .as_ref()
                            .and_then(|(_, r)| r.clone())
                            .map(|r| (r, f.clone()));
                        let n = o.def.name.clone();
                        self.invoke(&m, &n, &env, args, kw, recv)
                    }
                    None => Err(self.throw(
                        "MethodError",
                        format!(
                            "MethodError: objects of type {} are not callable",
                            o.def.name
                        ),
                    )),
                }
            }
            Value::Pullback(pb) => {
                let pb = pb.clone();
                let dy = args.into_iter().next().unwrap_or(Value::Nothing);
                super::entry::call_back(self, &pb, dy, span)
            }
            other => Err(self.throw(
                "MethodError",
                format!(
                    "MethodError: objects of type {} are not callable",
                    type_name(other)
                ),
            )),
        }
    }

    /// Is `f` a function that captures nothing (Zygote's broadcast fast path needs a singleton)?
    pub fn is_singleton(&self, f: &Value) -> bool {
        match f {
            Value::Builtin(_) => true,
            Value::Func(fv) => Rc::ptr_eq(&fv.env, &self.global),
            _ => false,
        }
    }
}

/// Whether `v` holds floating-point numbers (what Zygote gives a gradient to): a float, a
/// float array, or a struct, tuple or `Ref` holding one. Functions and types are not
/// data here.
pub fn carries_floats(v: &Value, depth: u32) -> bool {
    if depth > 8 {
        return false;
    }
    match v {
        Value::F(_) | Value::T(..) => true,
        Value::Arr(a) => {
            let a = a.borrow();
            match a.elty {
                ElTy::F64 | ElTy::F32 => !a.data.is_empty(),
                ElTy::Any => a.data.iter().take(64).any(|x| carries_floats(x, depth + 1)),
                ElTy::I64 | ElTy::Bool => false,
            }
        }
        // Like an array's, the first 64 elements only: tuples nested eight deep that share
        // their elements would make the walk the product of their lengths.
        Value::Struct(o) => (o.fields.borrow().iter())
            .take(64)
            .any(|x| carries_floats(x, depth + 1)),
        Value::Tuple(xs) | Value::NT(_, xs) => {
            xs.iter().take(64).any(|x| carries_floats(x, depth + 1))
        }
        Value::Ref(r) => carries_floats(&r.borrow(), depth + 1),
        Value::Pair(p) => carries_floats(&p.0, depth + 1) || carries_floats(&p.1, depth + 1),
        _ => false,
    }
}

/// The score of `v` for an annotation naming one of the types the interpreter knows
/// (`Real`, `AbstractVector`, ...): `None` when `n` is none of them, `Some(None)` when `v`
/// is not of it.
fn builtin_type_score(n: &str, v: &Value) -> Option<Option<u32>> {
    let ok = |b: bool, s: u32| Some(if b { Some(s) } else { None });
    match n {
        "Real" | "Number" => ok(v.is_num(), 2),
        "AbstractFloat" | "Float64" | "Float32" => ok(matches!(v, Value::F(_) | Value::T(..)), 4),
        "Integer" => ok(matches!(v, Value::Int(_) | Value::Bool(_)), 3),
        "Int" | "Int64" | "Signed" => ok(matches!(v, Value::Int(_)), 4),
        "Bool" => ok(matches!(v, Value::Bool(_)), 5),
        "AbstractArray" | "AbstractVecOrMat" => {
            ok(matches!(v, Value::Arr(_) | Value::Range(..)), 2)
        }
        "AbstractVector" => ok(
            match v {
                Value::Arr(a) => a.borrow().dims.len() == 1,
                Value::Range(..) => true,
                _ => false,
            },
            3,
        ),
        "AbstractMatrix" => ok(matches!(v, Value::Arr(a) if a.borrow().dims.len() == 2), 3),
        "Vector" => ok(matches!(v, Value::Arr(a) if a.borrow().dims.len() == 1), 4),
        "Matrix" => ok(matches!(v, Value::Arr(a) if a.borrow().dims.len() == 2), 4),
        "Array" => ok(matches!(v, Value::Arr(_)), 3),
        "Function" => ok(matches!(v, Value::Func(_) | Value::Builtin(_)), 2),
        "Tuple" => ok(matches!(v, Value::Tuple(_)), 3),
        "NamedTuple" => ok(matches!(v, Value::NT(..)), 3),
        "String" | "AbstractString" => ok(matches!(v, Value::Str(_)), 4),
        "Symbol" => ok(matches!(v, Value::Sym(_)), 4),
        "Nothing" => ok(matches!(v, Value::Nothing), 4),
        "Dict" | "AbstractDict" => ok(matches!(v, Value::Dict(_)), 4),
        "Ref" | "RefValue" => ok(matches!(v, Value::Ref(_)), 4),
        "Pair" => ok(matches!(v, Value::Pair(_)), 4),
        "Exception" => ok(matches!(v, Value::Exc(_)), 2),
        _ => None,
    }
}

/// Whether an annotation naming `n` takes only a struct or exception of that name (or a
/// struct of that supertype): `n` is no type the interpreter knows otherwise.
pub fn names_a_struct(n: &str) -> bool {
    builtin_type_score(n, &Value::Nothing).is_none()
}
