//! The tape (Wengert list) and the reverse pass.
//!
//! Every Float64 that depends on a differentiated argument is a tracked scalar
//! (`Value::T(primal, node, tape)`); each primitive records one node holding the local partial
//! derivatives with respect to its tracked operands. Arrays are containers of scalars, so array
//! functions record one node per output element (matrix products and reductions record one node
//! with many parents). Besides arithmetic, the tape holds *events* (a mutation, a foreigncall,
//! the end of an executed catch block): Zygote raises those when its reverse pass reaches them,
//! whatever the cotangent, so the reverse pass here collects them in reverse execution order.
//! User `rrule`s / `@adjoint`s record a *custom* node whose pullback is the user's own closure.

use super::interp::{Interp, R};
use super::ir::Span;
use super::value::*;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Clone, Debug)]
pub struct Site {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct ZygoteFailure {
    pub message: String,
    /// The site Zygote reports (first reached by the reverse pass).
    pub first: Site,
    /// Every failing site, in the order the reverse pass reaches them.
    pub all: Vec<Site>,
}

#[derive(Debug)]
pub struct Custom {
    pub pullback: Value,
    /// Argument values as passed (with their tracked leaves).
    pub args: Vec<Value>,
    /// The output template: its tracked leaves are this rule's outputs.
    pub out: Value,
    /// `rrule` pullbacks return a leading tangent for the function itself.
    pub drops_first: bool,
}

#[derive(Debug)]
pub enum TNode {
    Leaf,
    Op1(u32, f64),
    Op2(u32, f64, u32, f64),
    OpN(Vec<(u32, f64)>),
    Event(Site),
    Custom(Rc<Custom>),
    /// Start of a rule-covered higher-order call (`map`, comprehension, broadcast slow path).
    RegionStart,
    /// End of that call: its pullback (and everything inside) is skipped when none of the
    /// output nodes received a cotangent, as Zygote skips `map_back(::Nothing)` etc.
    RegionEnd {
        start: u32,
        outs: Vec<u32>,
    },
}

impl TNode {
    /// What a node costs in the memory budget: the node, and the list or text it holds.
    pub fn cost(&self) -> u64 {
        let held = match self {
            TNode::OpN(ps) => HEADER + 16 * ps.len() as u64,
            TNode::RegionEnd { outs, .. } => HEADER + 4 * outs.len() as u64,
            TNode::Event(site) => Text::cost(site.message.len()),
            TNode::Custom(c) => slots_cost(c.args.len() + 2),
            TNode::Leaf | TNode::Op1(..) | TNode::Op2(..) | TNode::RegionStart => 0,
        };
        std::mem::size_of::<TNode>() as u64 + held
    }
}

/// The nodes of one differentiated call, counted in the memory budget as they are
/// recorded.
#[derive(Debug)]
pub struct Tape {
    pub id: u32,
    nodes: Vec<TNode>,
    mem: Mem,
}

impl Tape {
    pub fn new(id: u32) -> Self {
        Tape {
            id,
            nodes: vec![],
            mem: Mem::new(HEADER),
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, i: usize) -> &TNode {
        &self.nodes[i]
    }

    /// Record `node` and count it; its index.
    pub fn push(&mut self, node: TNode) -> u32 {
        let bytes = self.mem.bytes() + node.cost();
        self.nodes.push(node);
        self.mem.resize(bytes);
        (self.nodes.len() - 1) as u32
    }
}

/// What one adjoint of the reverse pass costs in the memory budget.
const ADJOINT: u64 = std::mem::size_of::<Option<f64>>() as u64;

/// Result of one reverse sweep.
pub struct Sweep {
    pub adj: Vec<Option<f64>>,
    pub errors: Vec<Site>,
    /// What `adj` counts in the memory budget.
    _mem: Mem,
}

fn add(adj: &mut [Option<f64>], i: u32, g: f64) {
    let slot = &mut adj[i as usize];
    *slot = Some(slot.unwrap_or(0.0) + g);
}

impl Interp {
    /// Collect the tracked leaves of `template` (belonging to `tape_id`) paired with the matching
    /// numbers of `grad` (a value of the same structure). Missing/nothing entries are skipped.
    fn scatter(template: &Value, grad: &Value, tape_id: u32, out: &mut Vec<(u32, f64)>) {
        match (template, grad) {
            (Value::T(_, n, t), g) if *t == tape_id => {
                if let Some(x) = g.as_f64() {
                    out.push((*n, x));
                }
            }
            (Value::Arr(a), Value::Arr(g)) => {
                if Rc::ptr_eq(a, g) {
                    return;
                }
                let (a, g) = (a.borrow(), g.borrow());
                for (x, y) in a.data.iter().zip(g.data.iter()) {
                    Self::scatter(x, y, tape_id, out);
                }
            }
            (Value::Tuple(a), Value::Tuple(g)) => {
                for (x, y) in a.iter().zip(g.iter()) {
                    Self::scatter(x, y, tape_id, out);
                }
            }
            (Value::NT(_, a), Value::NT(_, g)) => {
                for (x, y) in a.iter().zip(g.iter()) {
                    Self::scatter(x, y, tape_id, out);
                }
            }
            (Value::Struct(o), Value::NT(names, g)) => {
                let f = o.fields.borrow();
                for (i, fname) in o.def.fields.iter().enumerate() {
                    if let Some(j) = names.iter().position(|n| n == fname) {
                        Self::scatter(&f[i], &g[j], tape_id, out);
                    }
                }
            }
            (Value::Ref(r), Value::NT(names, g)) => {
                if let Some(j) = names.iter().position(|n| n.as_ref() == "x") {
                    Self::scatter(&r.borrow(), &g[j], tape_id, out);
                }
            }
            _ => {}
        }
    }

    /// Build the cotangent of `template` from the adjoints (`nothing` where none reached).
    pub fn gather(template: &Value, adj: &[Option<f64>], tape_id: u32) -> Value {
        match template {
            Value::T(_, n, t) if *t == tape_id => match adj.get(*n as usize).copied().flatten() {
                Some(g) => Value::F(g),
                None => Value::Nothing,
            },
            Value::Arr(a) => {
                let a = a.borrow();
                let parts: Vec<Value> = a
                    .data
                    .iter()
                    .map(|x| Self::gather(x, adj, tape_id))
                    .collect();
                if parts.iter().all(|p| matches!(p, Value::Nothing)) {
                    return Value::Nothing;
                }
                let numeric = a.data.iter().all(|x| x.is_num());
                if numeric {
                    let data = parts
                        .into_iter()
                        .map(|p| {
                            if matches!(p, Value::Nothing) {
                                Value::F(0.0)
                            } else {
                                p
                            }
                        })
                        .collect();
                    Value::arr(a.dims.clone(), data, ElTy::F64)
                } else {
                    Value::arr(a.dims.clone(), parts, ElTy::Any)
                }
            }
            Value::Tuple(v) => {
                let parts: Vec<Value> = v.iter().map(|x| Self::gather(x, adj, tape_id)).collect();
                if parts.iter().all(|p| matches!(p, Value::Nothing)) {
                    Value::Nothing
                } else {
                    Value::tuple(parts)
                }
            }
            Value::NT(n, v) => {
                let parts: Vec<Value> = v.iter().map(|x| Self::gather(x, adj, tape_id)).collect();
                if parts.iter().all(|p| matches!(p, Value::Nothing)) {
                    Value::Nothing
                } else {
                    Value::nt(n.clone(), parts)
                }
            }
            Value::Struct(o) => {
                let f = o.fields.borrow();
                let parts: Vec<Value> = f.iter().map(|x| Self::gather(x, adj, tape_id)).collect();
                if parts.iter().all(|p| matches!(p, Value::Nothing)) {
                    Value::Nothing
                } else {
                    Value::nt(Rc::new(o.def.fields.clone()), parts)
                }
            }
            Value::Ref(r) => {
                let g = Self::gather(&r.borrow(), adj, tape_id);
                if matches!(g, Value::Nothing) {
                    Value::Nothing
                } else {
                    Value::nt(Rc::new(vec![Rc::from("x")]), vec![g])
                }
            }
            _ => Value::Nothing,
        }
    }

    /// Run the reverse pass over `tape` from the given seeds.
    pub fn sweep(&mut self, tape: &Rc<RefCell<Tape>>, seeds: &[(u32, f64)]) -> R<Sweep> {
        let (len, tape_id) = {
            let t = tape.borrow();
            (t.len(), t.id)
        };
        self.check_bytes(ADJOINT * len as u64)?;
        let mem = Mem::new(ADJOINT * len as u64);
        let mut adj: Vec<Option<f64>> = vec![None; len];
        for (n, g) in seeds {
            add(&mut adj, *n, *g);
        }
        let mut errors = vec![];
        // The reverse pass runs user pullbacks natively: nothing is recorded meanwhile.
        let saved = self.suspend();
        let result = (|| -> R<()> {
            let mut i = len;
            while i > 0 {
                i -= 1;
                self.tick()?;
                let custom = {
                    let t = tape.borrow();
                    match t.node(i) {
                        TNode::Leaf | TNode::RegionStart => None,
                        TNode::RegionEnd { start, outs } => {
                            if !outs.is_empty() && outs.iter().all(|o| adj[*o as usize].is_none()) {
                                i = *start as usize; // skip the whole call
                            }
                            None
                        }
                        TNode::Op1(p, d) => {
                            if let Some(g) = adj[i] {
                                add(&mut adj, *p, g * d);
                            }
                            None
                        }
                        TNode::Op2(p, d, q, e) => {
                            if let Some(g) = adj[i] {
                                add(&mut adj, *p, g * d);
                                add(&mut adj, *q, g * e);
                            }
                            None
                        }
                        TNode::OpN(ps) => {
                            if let Some(g) = adj[i] {
                                for (p, d) in ps {
                                    add(&mut adj, *p, g * d);
                                }
                            }
                            None
                        }
                        TNode::Event(site) => {
                            errors.push(site.clone());
                            None
                        }
                        TNode::Custom(c) => Some(c.clone()),
                    }
                };
                if let Some(c) = custom {
                    let dy = Self::gather(&c.out, &adj, tape_id);
                    if matches!(dy, Value::Nothing) {
                        continue; // rule pullbacks are skipped for a `nothing` cotangent
                    }
                    let span = Span::default();
                    let res = self.call_value(&c.pullback, vec![dy], vec![], span)?;
                    let grads: Vec<Value> = match res {
                        Value::Tuple(t) => t.to_vec(),
                        Value::Nothing => vec![],
                        other => vec![other],
                    };
                    let grads = if c.drops_first {
                        grads.into_iter().skip(1).collect::<Vec<_>>()
                    } else {
                        grads
                    };
                    let mut pairs = vec![];
                    for (a, g) in c.args.iter().zip(grads.iter()) {
                        Self::scatter(a, g, tape_id, &mut pairs);
                    }
                    for (n, g) in pairs {
                        add(&mut adj, n, g);
                    }
                }
            }
            Ok(())
        })();
        self.resume(saved);
        result?;
        Ok(Sweep {
            adj,
            errors,
            _mem: mem,
        })
    }

    /// Make the entry arguments differentiable: every Float64 leaf becomes a tape leaf.
    /// Arrays, tuples and structs are copied (so the caller's objects are not modified).
    pub fn track_input(&mut self, v: &Value) -> R<Value> {
        self.track_depth(v, 0)
    }

    fn track_depth(&mut self, v: &Value, depth: u32) -> R<Value> {
        if depth > 1000 {
            return Err(
                self.unsupported("differentiating a self-containing value", Span::default())
            );
        }
        Ok(match v {
            Value::F(f) => self.new_leaf(*f)?,
            Value::T(f, _, _) => self.new_leaf(*f)?,
            Value::Arr(a) => {
                let a = a.borrow();
                let mut data = Vec::with_capacity(a.data.len());
                for x in &a.data {
                    data.push(self.track_depth(x, depth + 1)?);
                }
                Value::Arr(Rc::new(RefCell::new(Arr::new(
                    a.dims.clone(),
                    data,
                    a.elty,
                    a.rowvec,
                ))))
            }
            Value::Tuple(t) => {
                let mut out = vec![];
                for x in t.iter() {
                    out.push(self.track_depth(x, depth + 1)?);
                }
                Value::tuple(out)
            }
            Value::NT(n, t) => {
                let mut out = vec![];
                for x in t.iter() {
                    out.push(self.track_depth(x, depth + 1)?);
                }
                Value::nt(n.clone(), out)
            }
            Value::Struct(o) => {
                let f = o.fields.borrow();
                let mut out = vec![];
                for x in f.iter() {
                    out.push(self.track_depth(x, depth + 1)?);
                }
                Value::Struct(Rc::new(Obj::new(o.def.clone(), out)))
            }
            Value::Ref(r) => {
                let inner = self.track_depth(&r.borrow(), depth + 1)?;
                Value::Ref(Rc::new(RefCell::new(inner)))
            }
            other => other.clone(),
        })
    }

    /// Open a region (see [`TNode::RegionEnd`]); `None` when nothing is being recorded.
    pub fn region_start(&mut self) -> Option<u32> {
        if !(self.rec_ops && self.rec_events) {
            return None;
        }
        let t = self.tape.as_ref()?;
        let mut t = t.borrow_mut();
        Some(t.push(TNode::RegionStart))
    }

    /// Close a region: every Float64 element of `out` is passed through a fresh node so the
    /// region's own output cotangent can be observed.
    pub fn region_end(&mut self, start: Option<u32>, mut out: Vec<Value>) -> R<Vec<Value>> {
        let start = match start {
            Some(s) => s,
            None => return Ok(out),
        };
        let mut outs = vec![];
        for v in out.iter_mut() {
            match &*v {
                Value::T(f, _, _) if self.tid(v).is_some() => {
                    let n = self.tid(v).unwrap_or(0);
                    *v = self.rec_ids(*f, vec![(n, 1.0)])?;
                }
                Value::F(f) | Value::T(f, _, _) => *v = self.new_leaf(*f)?,
                _ => {}
            }
            if let Value::T(_, n, _) = &*v {
                outs.push(*n);
            }
        }
        if let Some(t) = &self.tape {
            let node = TNode::RegionEnd { start, outs };
            self.check_node(&t.borrow(), &node)?;
            t.borrow_mut().push(node);
        }
        Ok(out)
    }

    pub fn new_leaf(&mut self, f: f64) -> R<Value> {
        let tape = match &self.tape {
            Some(t) => t.clone(),
            None => return Ok(Value::F(f)),
        };
        let mut t = tape.borrow_mut();
        self.check_node(&t, &TNode::Leaf)?;
        let node = t.push(TNode::Leaf);
        Ok(Value::T(f, node, t.id))
    }
}
