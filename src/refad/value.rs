//! Runtime values, Julia type names, and Julia-style printing.

use super::ir::{Name, StructDef};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElTy {
    F64,
    /// Float32 arrays: values are computed in Float64, only the type name differs.
    F32,
    I64,
    Bool,
    Any,
}

impl ElTy {
    pub fn julia(self) -> &'static str {
        match self {
            ElTy::F64 => "Float64",
            ElTy::F32 => "Float32",
            ElTy::I64 => "Int64",
            ElTy::Bool => "Bool",
            ElTy::Any => "Any",
        }
    }
}

#[derive(Debug)]
pub struct Arr {
    pub dims: Vec<usize>,
    pub data: Vec<Value>,
    pub elty: ElTy,
    /// An adjoint/transposed vector (`x'`): 1×n, and `x' * y` is a scalar.
    pub rowvec: bool,
    mem: Mem,
}

// ---------------------------------------------------------------- live memory
//
// The memory budget (`Budget::max_memory`) bounds the bytes of every value alive at once.
// Each value that holds memory holds a [`Mem`] guard sized by what it holds; the guard adds
// its bytes to this thread's live total when it is made and gives them back when the value
// is dropped, and is resized when the value grows in place. The sizes are estimates, not
// the allocator's exact figures:
//
// - array, tuple, named tuple: [`HEADER`] + [`SLOT`] per element;
// - string: [`HEADER`] + its UTF-8 bytes;
// - dictionary: [`HEADER`] + 2 [`SLOT`]s per entry (its key and its value);
// - pair, struct, exception: [`HEADER`] + their slots (and an exception's message bytes);
// - scope (a call's or a loop body's variables): [`SCOPE`];
// - the tape: [`TNode::cost`](super::ad::TNode::cost) per node, and 16 bytes per node for
//   the adjoints while its reverse pass runs;
// - what a builtin holds while it works ([`Scratch`]): [`HEADER`] + the size of each
//   element it has room for.
//
// What a value refers to counts once, on its own: an array of strings counts a slot per
// element, and each string counts its text, however many arrays share it. The interpreter
// checks the total before each allocation whose size the program decides
// (`Interp::check_bytes`), and after every step.

/// One element of an array or a tuple, or a key or a value of a dictionary.
pub const SLOT: u64 = std::mem::size_of::<Value>() as u64;

/// What each counted value costs besides its contents: the reference counts, the vector's
/// header, the allocator's own bookkeeping. Without it a million one-character strings
/// would cost a megabyte.
pub const HEADER: u64 = 64;

/// A scope: its map of variables and the few variables a scope holds.
pub const SCOPE: u64 = 4 * HEADER;

thread_local! {
    /// The bytes of the values alive on this thread: what the memory budget measures.
    static LIVE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The bytes counted for every value alive on this thread.
pub fn live_bytes() -> u64 {
    LIVE.with(|l| l.get())
}

/// Bytes counted in this thread's live total ([`live_bytes`]) for as long as the guard
/// lives. A clone counts its bytes again, as a copy of the value holds them again.
#[derive(Debug)]
pub struct Mem(u64);

impl Mem {
    pub fn new(bytes: u64) -> Mem {
        LIVE.with(|l| l.set(l.get().saturating_add(bytes)));
        Mem(bytes)
    }

    pub fn bytes(&self) -> u64 {
        self.0
    }

    /// Count `bytes` instead of what was counted (the value grew or shrank in place).
    pub fn resize(&mut self, bytes: u64) {
        LIVE.with(|l| l.set(l.get().saturating_sub(self.0).saturating_add(bytes)));
        self.0 = bytes;
    }
}

impl Clone for Mem {
    fn clone(&self) -> Mem {
        Mem::new(self.0)
    }
}

impl Drop for Mem {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get().saturating_sub(self.0)));
    }
}

/// What `n` slots cost with their header.
pub fn slots_cost(n: usize) -> u64 {
    HEADER.saturating_add((n as u64).saturating_mul(SLOT))
}

impl Arr {
    /// An array, counted in the live total until it is dropped.
    pub fn new(dims: Vec<usize>, data: Vec<Value>, elty: ElTy, rowvec: bool) -> Arr {
        Arr {
            mem: Mem::new(slots_cost(data.len())),
            dims,
            data,
            elty,
            rowvec,
        }
    }

    /// Count the elements as they are now, after `push!`, `append!` or a filter changed
    /// them in place.
    pub fn count_growth(&mut self) {
        self.mem.resize(slots_cost(self.data.len()));
    }
}

/// Elements a builtin holds while it works (a copy of an argument's elements, a sort's
/// keys and its merge buffer, the positions an index selects): counted in the live total,
/// as values are, from when [`Interp::scratch`](super::interp::Interp::scratch) checked
/// that they fit until they are dropped; an iteration by value carries the count along.
/// Without it `sort` of nine million numbers held 720 MB the budget never saw.
#[derive(Debug)]
pub struct Scratch<T> {
    items: Vec<T>,
    mem: Mem,
}

impl<T> Scratch<T> {
    /// What a scratch vector of `n` elements costs.
    pub fn cost(n: usize) -> u64 {
        HEADER.saturating_add((n as u64).saturating_mul(std::mem::size_of::<T>() as u64))
    }

    /// Count `items`, whose size was checked before they were made.
    pub fn counted(items: Vec<T>) -> Scratch<T> {
        Scratch {
            mem: Mem::new(Scratch::<T>::cost(items.capacity())),
            items,
        }
    }

    /// The elements, no longer counted here: for a vector that becomes a value (an
    /// array, a tuple), which counts them itself from then on.
    pub fn into_vec(self) -> Vec<T> {
        self.items
    }

    /// Count the elements as they are now, after the vector grew.
    pub fn count_growth(&mut self) {
        self.mem.resize(Scratch::<T>::cost(self.items.capacity()));
    }
}

impl<T> std::ops::Deref for Scratch<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.items
    }
}

impl<T> std::ops::DerefMut for Scratch<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.items
    }
}

/// The elements of a [`Scratch`] by value, still counted until the iteration ends.
pub struct ScratchIter<T> {
    items: std::vec::IntoIter<T>,
    _mem: Mem,
}

impl<T> Iterator for ScratchIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.items.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

impl<T> DoubleEndedIterator for ScratchIter<T> {
    fn next_back(&mut self) -> Option<T> {
        self.items.next_back()
    }
}

impl<T> ExactSizeIterator for ScratchIter<T> {}

impl<T> IntoIterator for Scratch<T> {
    type Item = T;
    type IntoIter = ScratchIter<T>;
    fn into_iter(self) -> ScratchIter<T> {
        ScratchIter {
            items: self.items.into_iter(),
            _mem: self.mem,
        }
    }
}

impl<'a, T> IntoIterator for &'a Scratch<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> std::slice::Iter<'a, T> {
        self.items.iter()
    }
}

/// A string's text.
pub struct Text {
    text: Box<str>,
    _mem: Mem,
}

impl Text {
    pub fn new(s: &str) -> Text {
        Text {
            _mem: Mem::new(Text::cost(s.len())),
            text: s.into(),
        }
    }

    /// What a string of `len` bytes costs.
    pub fn cost(len: usize) -> u64 {
        HEADER.saturating_add(len as u64)
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.text == other.text
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.text, f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The elements of a tuple or of a named tuple.
#[derive(Debug)]
pub struct Items {
    items: Vec<Value>,
    _mem: Mem,
}

impl Items {
    pub fn new(items: Vec<Value>) -> Items {
        Items {
            _mem: Mem::new(slots_cost(items.len())),
            items,
        }
    }
}

impl std::ops::Deref for Items {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.items
    }
}

/// A dictionary's entries, in the order they were added (keys are compared with `==`).
/// Changed only through its methods, which count what it holds.
#[derive(Clone, Debug)]
pub struct Table {
    entries: Vec<(Value, Value)>,
    mem: Mem,
}

impl Table {
    pub fn new(entries: Vec<(Value, Value)>) -> Table {
        Table {
            mem: Mem::new(Table::cost(entries.len())),
            entries,
        }
    }

    /// What a dictionary of `n` entries costs.
    pub fn cost(n: usize) -> u64 {
        slots_cost(n.saturating_mul(2))
    }

    /// Add an entry (the key is not there yet).
    pub fn push(&mut self, key: Value, value: Value) {
        self.entries.push((key, value));
        self.mem.resize(Table::cost(self.entries.len()));
    }

    /// Replace the value of entry `i`.
    pub fn set(&mut self, i: usize, value: Value) {
        self.entries[i].1 = value;
    }

    pub fn retain(&mut self, keep: impl FnMut(&(Value, Value)) -> bool) {
        self.entries.retain(keep);
        self.mem.resize(Table::cost(self.entries.len()));
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.mem.resize(Table::cost(0));
    }
}

impl std::ops::Deref for Table {
    type Target = [(Value, Value)];
    fn deref(&self) -> &[(Value, Value)] {
        &self.entries
    }
}

/// `a => b`.
#[derive(Debug)]
pub struct PairVal(
    pub Value,
    pub Value,
    // Held for what it counts, never read.
    #[allow(dead_code)] Mem,
);

#[derive(Debug)]
pub struct Obj {
    pub def: Rc<StructDef>,
    pub fields: RefCell<Vec<Value>>,
    _mem: Mem,
}

impl Obj {
    pub fn new(def: Rc<StructDef>, fields: Vec<Value>) -> Obj {
        Obj {
            _mem: Mem::new(slots_cost(fields.len())),
            def,
            fields: RefCell::new(fields),
        }
    }
}

/// A function value: a generic function (a name with methods) or a closure.
#[derive(Debug)]
pub struct FuncVal {
    pub name: Name,
    pub methods: RefCell<super::methods::Methods>,
    pub env: super::interp::Env,
    /// When no user method applies, fall back to the builtin of the same name.
    pub builtin_fallback: bool,
}

#[derive(Debug)]
pub struct BufferVal {
    pub arr: Value,
    pub frozen: bool,
}

/// The `back` returned by `pullback`.
#[derive(Debug)]
pub struct PullbackVal {
    pub tape: Rc<RefCell<super::ad::Tape>>,
    pub output: Value,
    pub inputs: Vec<Value>,
    pub entry: usize,
    /// The `pullback` call.
    pub span: super::ir::Span,
    /// Made inside differentiated code: the globals its forward pass read (see
    /// `entry::nested`).
    pub nested_reads: Option<Vec<Name>>,
}

#[derive(Debug)]
pub struct Exc {
    /// Julia exception type name (`ErrorException`, `DomainError`, ...).
    pub kind: String,
    pub msg: String,
    /// Set when the exception is a Zygote error raised by an entry point.
    pub zygote: Option<super::ad::ZygoteFailure>,
    _mem: Mem,
}

impl Exc {
    pub fn new(kind: String, msg: String, zygote: Option<super::ad::ZygoteFailure>) -> Exc {
        Exc {
            _mem: Mem::new(Text::cost(kind.len() + msg.len())),
            kind,
            msg,
            zygote,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Value {
    Nothing,
    Bool(bool),
    Int(i64),
    F(f64),
    /// A tracked Float64: primal, tape node, tape id.
    T(f64, u32, u32),
    Char(char),
    Str(Rc<Text>),
    Sym(Rc<str>),
    Arr(Rc<RefCell<Arr>>),
    /// start, step, stop (stop normalised so the range is empty or ends exactly at stop)
    Range(i64, i64, i64),
    Tuple(Rc<Items>),
    NT(Rc<Vec<Name>>, Rc<Items>),
    Dict(Rc<RefCell<Table>>),
    Ref(Rc<RefCell<Value>>),
    Struct(Rc<Obj>),
    Func(Rc<FuncVal>),
    Builtin(Name),
    Type(Name),
    Buffer(Rc<RefCell<BufferVal>>),
    Pullback(Rc<PullbackVal>),
    Pair(Rc<PairVal>),
    Exc(Rc<Exc>),
    /// `ChainRulesCore.NoTangent()` / `ZeroTangent()`
    NoTangent,
    Module(Name),
}

impl Value {
    pub fn tuple(v: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(Items::new(v)))
    }
    /// A named tuple.
    pub fn nt(names: Rc<Vec<Name>>, v: Vec<Value>) -> Value {
        Value::NT(names, Rc::new(Items::new(v)))
    }
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::new(Text::new(s)))
    }
    pub fn pair(a: Value, b: Value) -> Value {
        Value::Pair(Rc::new(PairVal(a, b, Mem::new(slots_cost(2)))))
    }
    pub fn dict(entries: Vec<(Value, Value)>) -> Value {
        Value::Dict(Rc::new(RefCell::new(Table::new(entries))))
    }
    pub fn arr(dims: Vec<usize>, data: Vec<Value>, elty: ElTy) -> Value {
        Value::Arr(Rc::new(RefCell::new(Arr::new(dims, data, elty, false))))
    }
    pub fn vec_f(data: Vec<f64>) -> Value {
        let n = data.len();
        Value::arr(vec![n], data.into_iter().map(Value::F).collect(), ElTy::F64)
    }
    pub fn is_num(&self) -> bool {
        matches!(
            self,
            Value::Int(_) | Value::F(_) | Value::T(..) | Value::Bool(_)
        )
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::F(f) | Value::T(f, _, _) => Some(*f),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }
    /// Remove tracking (primal value), recursively through containers that are copied.
    pub fn primal(&self) -> Value {
        self.primal_shared(&mut HashMap::new()).0
    }

    /// [`Value::primal`], and whether it differs from `self`. A tuple is rebuilt only when
    /// something in it was tracked, and each tuple shared in several places is visited
    /// once (`memo`, by address): `t = (t, t)` sixty times is 2^60 tuples to a walk that
    /// does not remember, which ran out of memory.
    fn primal_shared(&self, memo: &mut HashMap<usize, (Value, bool)>) -> (Value, bool) {
        let items = |v: &Rc<Items>, memo: &mut HashMap<usize, (Value, bool)>| {
            let key = Rc::as_ptr(v) as usize;
            if let Some((out, changed)) = memo.get(&key) {
                return (*changed).then(|| out.clone());
            }
            let mut changed = false;
            let out: Vec<Value> = (v.iter())
                .map(|x| {
                    let (p, c) = x.primal_shared(memo);
                    changed |= c;
                    p
                })
                .collect();
            memo.insert(key, (Value::tuple(out.clone()), changed));
            changed.then(|| Value::tuple(out))
        };
        match self {
            Value::T(f, _, _) => (Value::F(*f), true),
            Value::Tuple(v) => match items(v, memo) {
                Some(t) => (t, true),
                None => (self.clone(), false),
            },
            Value::NT(n, v) => match items(v, memo) {
                Some(Value::Tuple(t)) => (Value::NT(n.clone(), t), true),
                _ => (self.clone(), false),
            },
            Value::Arr(a) => {
                let a = a.borrow();
                if a.data.iter().any(|x| matches!(x, Value::T(..))) {
                    let data = (a.data.iter()).map(|x| x.primal_shared(memo).0).collect();
                    (Value::arr(a.dims.clone(), data, a.elty), true)
                } else {
                    drop(a);
                    (self.clone(), false)
                }
            }
            _ => (self.clone(), false),
        }
    }
}

pub fn elty_of(v: &Value) -> ElTy {
    match v {
        Value::F(_) | Value::T(..) => ElTy::F64,
        Value::Int(_) => ElTy::I64,
        Value::Bool(_) => ElTy::Bool,
        _ => ElTy::Any,
    }
}

/// Common element type of literal entries (Julia promotion for numbers).
pub fn promote_elty(vals: &[Value]) -> ElTy {
    let mut t: Option<ElTy> = None;
    for v in vals {
        let e = elty_of(v);
        t = Some(match (t, e) {
            (None, e) => e,
            (Some(a), b) if a == b => a,
            (Some(ElTy::Any), _) | (_, ElTy::Any) => ElTy::Any,
            (Some(ElTy::F64), _) | (_, ElTy::F64) => ElTy::F64,
            _ => ElTy::I64,
        });
    }
    t.unwrap_or(ElTy::Any)
}

pub fn convert_el(v: Value, t: ElTy) -> Value {
    match (t, &v) {
        (ElTy::F64 | ElTy::F32, Value::Int(i)) => Value::F(*i as f64),
        (ElTy::F64 | ElTy::F32, Value::Bool(b)) => Value::F(if *b { 1.0 } else { 0.0 }),
        (ElTy::I64, Value::Bool(b)) => Value::Int(*b as i64),
        _ => v,
    }
}

/// The Julia type name of a value, as Zygote prints it.
pub fn type_name(v: &Value) -> String {
    match v {
        Value::Nothing => "Nothing".into(),
        Value::Bool(_) => "Bool".into(),
        Value::Int(_) => "Int64".into(),
        Value::F(_) | Value::T(..) => "Float64".into(),
        Value::Char(_) => "Char".into(),
        Value::Str(_) => "String".into(),
        Value::Sym(_) => "Symbol".into(),
        Value::Arr(a) => {
            let a = a.borrow();
            match a.dims.len() {
                1 => format!("Vector{{{}}}", a.elty.julia()),
                2 => format!("Matrix{{{}}}", a.elty.julia()),
                n => format!("Array{{{}, {}}}", a.elty.julia(), n),
            }
        }
        Value::Range(_, s, _) => {
            if *s == 1 {
                "UnitRange{Int64}".into()
            } else {
                "StepRange{Int64, Int64}".into()
            }
        }
        Value::Tuple(v) => format!(
            "Tuple{{{}}}",
            v.iter().map(type_name).collect::<Vec<_>>().join(", ")
        ),
        Value::NT(n, v) => format!(
            "@NamedTuple{{{}}}",
            n.iter()
                .zip(v.iter())
                .map(|(k, x)| format!("{}::{}", k, type_name(x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Dict(_) => "Dict{Any, Any}".into(),
        Value::Ref(_) => "Base.RefValue{Any}".into(),
        Value::Struct(o) => o.def.name.to_string(),
        Value::Func(f) => format!("typeof({})", f.name),
        Value::Builtin(n) => format!("typeof({})", n),
        Value::Type(n) => format!("Type{{{}}}", n),
        Value::Buffer(_) => "Zygote.Buffer{Float64, Vector{Float64}}".into(),
        Value::Pullback(_) => "Zygote.Pullback".into(),
        Value::Pair(p) => format!("Pair{{{}, {}}}", type_name(&p.0), type_name(&p.1)),
        Value::Exc(e) => e.kind.clone(),
        Value::NoTangent => "ChainRulesCore.NoTangent".into(),
        Value::Module(m) => format!("Module {m}"),
    }
}

/// Julia's `show` for Float64.
pub fn fmt_f64(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let e = format!("{:e}", x); // shortest round-trip digits, e.g. "1.2345e6"
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-5 < exp) && (exp < 16) {
        let s = format!("{}", x);
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let mant = if mant.contains('.') {
            mant.to_string()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}e{exp}")
    }
}

/// Most characters of text from the user's program (an exception's message, a name) that
/// a report echoes; longer text is cut with an ellipsis.
pub const MAX_ECHO: usize = 200;

/// `s` cut to [`MAX_ECHO`] characters with an ellipsis.
pub fn cut(s: &str) -> std::borrow::Cow<'_, str> {
    crate::diagnostic::cut_to(s, MAX_ECHO)
}

/// Elements a vector longer than this shows, as Julia summarises large arrays: the first
/// and the last [`SHOWN_ENDS`], with `…` between.
const SHOWN_ALL: usize = 20;
const SHOWN_ENDS: usize = 10;

/// The indices shown of `n` elements, with `None` where the elements left out are.
fn shown(n: usize) -> Vec<Option<usize>> {
    match n > SHOWN_ALL {
        false => (0..n).map(Some).collect(),
        true => (0..SHOWN_ENDS)
            .map(Some)
            .chain([None])
            .chain((n - SHOWN_ENDS..n).map(Some))
            .collect(),
    }
}

/// A value as a report shows it: Julia's syntax, with large arrays and long strings
/// summarised as Julia's REPL does.
pub fn show(v: &Value) -> String {
    let mut seen = 0usize;
    show_inner(v, &mut seen)
}

/// Values [`show`] writes at most; past them it writes `…`.
const SHOWN_VALUES: usize = 10_000;

/// The elements of a tuple, a dictionary or a struct as `show` writes them: one `…` for
/// those past [`SHOWN_VALUES`], which are not visited (a tuple of a million elements made a
/// million `…`, each time the tuple was shown).
fn show_items<'a>(
    items: impl Iterator<Item = &'a Value>,
    budget: &mut usize,
    mut each: impl FnMut(usize, String) -> String,
) -> Vec<String> {
    let mut out = vec![];
    for (i, x) in items.enumerate() {
        if *budget >= SHOWN_VALUES {
            out.push("…".to_string());
            break;
        }
        let shown = show_inner(x, budget);
        out.push(each(i, shown));
    }
    out
}

fn show_inner(v: &Value, budget: &mut usize) -> String {
    *budget += 1;
    if *budget > SHOWN_VALUES {
        return "…".into();
    }
    match v {
        Value::Nothing => "nothing".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::F(f) | Value::T(f, _, _) => fmt_f64(*f),
        Value::Char(c) => format!("'{c}'"),
        Value::Str(s) => match s.char_indices().nth(MAX_ECHO) {
            None => format!("{:?}", s.as_ref()),
            Some((head, _)) => {
                let tail = s
                    .char_indices()
                    .nth_back(SHOWN_ENDS * 5 - 1)
                    .map_or(0, |(i, _)| i);
                format!(
                    "{:?} ⋯ {} bytes ⋯ {:?}",
                    &s[..head],
                    tail.saturating_sub(head),
                    &s[tail.max(head)..]
                )
            }
        },
        // Cut as a string is: a tuple of ten thousand long symbols was gigabytes.
        Value::Sym(s) => format!(":{}", cut(s)),
        Value::Arr(a) => {
            let a = a.borrow();
            match a.dims.len() {
                1 => {
                    let items: Vec<String> = (shown(a.data.len()).into_iter())
                        .map(|i| match i {
                            Some(i) => show_inner(&a.data[i], budget),
                            None => "…".to_string(),
                        })
                        .collect();
                    format!("[{}]", items.join(", "))
                }
                2 => {
                    let (r, c) = (a.dims[0], a.dims[1]);
                    if r == 0 || c == 0 {
                        return format!("{}x{} Matrix", r, c);
                    }
                    let columns = shown(c);
                    let rows: Vec<String> = (shown(r).into_iter())
                        .map(|i| match i {
                            None => "⋮".to_string(),
                            Some(i) => (columns.iter())
                                .map(|j| match j {
                                    Some(j) => show_inner(&a.data[i + j * r], budget),
                                    None => "…".to_string(),
                                })
                                .collect::<Vec<_>>()
                                .join(" "),
                        })
                        .collect();
                    format!("[{}]", rows.join("; "))
                }
                _ => format!(
                    "reshape([{}], {:?})",
                    (shown(a.data.len()).into_iter())
                        .map(|i| match i {
                            Some(i) => show_inner(&a.data[i], budget),
                            None => "…".to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    a.dims
                ),
            }
        }
        Value::Range(a, s, b) => {
            if *s == 1 {
                format!("{a}:{b}")
            } else {
                format!("{a}:{s}:{b}")
            }
        }
        Value::Tuple(t) => {
            if t.len() == 1 {
                format!("({},)", show_inner(&t[0], budget))
            } else {
                format!("({})", show_items(t.iter(), budget, |_, x| x).join(", "))
            }
        }
        Value::NT(n, vals) => {
            let parts = show_items(vals.iter(), budget, |i, x| format!("{} = {}", n[i], x));
            if parts.len() == 1 {
                format!("({},)", parts[0])
            } else {
                format!("({})", parts.join(", "))
            }
        }
        Value::Dict(d) => {
            let mut parts = vec![];
            for (k, x) in d.borrow().iter() {
                if *budget >= SHOWN_VALUES {
                    parts.push("…".to_string());
                    break;
                }
                parts.push(format!(
                    "{} => {}",
                    show_inner(k, budget),
                    show_inner(x, budget)
                ));
            }
            format!("Dict({})", parts.join(", "))
        }
        Value::Ref(r) => format!("Base.RefValue{{Any}}({})", show_inner(&r.borrow(), budget)),
        Value::Struct(o) => format!(
            "{}({})",
            o.def.name,
            show_items(o.fields.borrow().iter(), budget, |_, x| x).join(", ")
        ),
        Value::Func(f) => f.name.to_string(),
        Value::Builtin(n) => n.to_string(),
        Value::Type(n) => n.to_string(),
        Value::Buffer(b) => format!("Buffer({})", show_inner(&b.borrow().arr, budget)),
        Value::Pullback(_) => "∂(f)".into(),
        Value::Pair(p) => format!(
            "{} => {}",
            show_inner(&p.0, budget),
            show_inner(&p.1, budget)
        ),
        Value::Exc(e) => format!("{}({:?})", e.kind, cut(&e.msg)),
        Value::NoTangent => "NoTangent()".into(),
        Value::Module(m) => m.to_string(),
    }
}

/// `string(x)` / interpolation text (strings without quotes).
pub fn to_display(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Sym(s) => s.to_string(),
        Value::Char(c) => c.to_string(),
        _ => show(v),
    }
}

/// The type a name is when used as a value (`Int` is `Int64`), if it names one.
/// A match, not a table built per call: every lookup of a global name asks it, and
/// building a map each time was a third of a scalar loop's run.
pub fn type_named(n: &str) -> Option<&'static str> {
    Some(match n {
        "Float64" => "Float64",
        "Float32" => "Float32",
        "Int" => "Int64",
        "Int64" => "Int64",
        "Int32" => "Int32",
        "Bool" => "Bool",
        "String" => "String",
        "Symbol" => "Symbol",
        "Any" => "Any",
        "Real" => "Real",
        "Number" => "Number",
        "Vector" => "Vector",
        "Matrix" => "Matrix",
        "Array" => "Array",
        "Vector{Float64}" => "Vector{Float64}",
        "Matrix{Float64}" => "Matrix{Float64}",
        "Vector{Any}" => "Vector{Any}",
        "Vector{Int}" => "Vector{Int64}",
        "Vector{Int64}" => "Vector{Int64}",
        "Dict" => "Dict",
        "Cvoid" => "Cvoid",
        "Nothing" => "Nothing",
        // Exceptions the interpreter throws, for `e isa MethodError` (those a program may
        // construct, `BoundsError(...)`, are builtins).
        "MethodError" => "MethodError",
        "UndefKeywordError" => "UndefKeywordError",
        "UndefVarError" => "UndefVarError",
        "TypeError" => "TypeError",
        "InexactError" => "InexactError",
        "OverflowError" => "OverflowError",
        "DivideError" => "DivideError",
        "AssertionError" => "AssertionError",
        "StackOverflowError" => "StackOverflowError",
        _ => return None,
    })
}

#[cfg(test)]
mod show_tests {
    use super::*;

    fn vector(n: usize) -> Value {
        Value::arr(vec![n], (1..=n as i64).map(Value::Int).collect(), ElTy::I64)
    }

    #[test]
    fn large_arrays_and_long_strings_are_summarised_as_julia_does() {
        assert_eq!(show(&vector(3)), "[1, 2, 3]");
        assert_eq!(show(&vector(20)).matches(", ").count(), 19);
        assert_eq!(
            show(&vector(1_000_000)),
            "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, …, 999991, 999992, 999993, 999994, 999995, 999996, 999997, 999998, 999999, 1000000]"
        );
        let long = Value::str(&"ab".repeat(10_000));
        let shown = show(&long);
        assert!(shown.len() < 400, "{shown}");
        assert!(shown.contains(" ⋯ 19750 bytes ⋯ "), "{shown}");
        assert_eq!(cut("short"), "short");
        assert_eq!(cut(&"é".repeat(MAX_ECHO + 5)).chars().count(), MAX_ECHO + 1);
    }
}
