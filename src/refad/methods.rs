//! The methods of one function value, indexed so that defining a method and calling the
//! function stay cheap however many methods the name has.
//!
//! A file of thousands of methods, one per struct (`g(::T1, x)`, ..., `g(::Tn, x)`), called
//! once each, had each definition compare its signature with every earlier method and each
//! call copy and score every method: quadratic in the file. Methods whose first parameter
//! names a type only a struct (or exception) of that name or with that supertype can be are
//! filed under that name; a call looks at those of its first argument's type and at the
//! rest, in definition order, so that the most specific method is chosen as before.

use super::interp::names_a_struct;
use super::ir::{FuncDef, Name, Ty};
use super::value::Value;
use std::collections::HashMap;
use std::rc::Rc;

/// What makes two methods one: the parameters' annotations, varargs and defaults.
type Signature = Vec<(TyKey, bool, bool)>;

/// A [`Ty`] as a map key.
#[derive(Clone, PartialEq, Eq, Hash)]
enum TyKey {
    Any,
    Named(Name),
    TypeOf(Name),
    TypeVal,
}

impl From<&Ty> for TyKey {
    fn from(t: &Ty) -> TyKey {
        match t {
            Ty::Any => TyKey::Any,
            Ty::Named(n) => TyKey::Named(n.clone()),
            Ty::TypeOf(n) => TyKey::TypeOf(n.clone()),
            Ty::TypeVal => TyKey::TypeVal,
        }
    }
}

fn signature(m: &FuncDef) -> Signature {
    (m.params.iter())
        .map(|p| (TyKey::from(&p.ty), p.splat, p.default.is_some()))
        .collect()
}

#[derive(Default)]
pub struct Methods {
    list: Vec<Rc<FuncDef>>,
    /// Positions in `list` of the methods whose first parameter only a struct or exception
    /// of this type name (or, for a struct, of this supertype) can be given.
    by_type: HashMap<Name, Vec<u32>>,
    /// Positions of the others, ascending.
    rest: Vec<u32>,
    by_signature: HashMap<Signature, u32>,
}

impl Methods {
    pub fn one(m: Rc<FuncDef>) -> Methods {
        let mut ms = Methods::default();
        ms.define(m);
        ms
    }

    /// Add a method, or replace the one of the same signature (Julia's redefinition).
    pub fn define(&mut self, m: Rc<FuncDef>) {
        match self.by_signature.get(&signature(&m)) {
            // The same signature has the same first parameter: filed where it was.
            Some(&i) => self.list[i as usize] = m,
            None => {
                let i = self.list.len() as u32;
                self.by_signature.insert(signature(&m), i);
                match m.params.first().map(|p| &p.ty) {
                    Some(Ty::Named(n)) if names_a_struct(n) => {
                        self.by_type.entry(n.clone()).or_default().push(i)
                    }
                    _ => self.rest.push(i),
                }
                self.list.push(m);
            }
        }
    }

    /// The methods that may apply to `args`, in definition order: those filed under the
    /// first argument's type names, and the rest. A method filed under a name cannot take
    /// a first argument of another type; with no arguments, a vararg method filed under
    /// a name may still apply, so all are given.
    pub fn candidates(&self, args: &[Value]) -> Vec<&Rc<FuncDef>> {
        let Some(first) = args.first() else {
            return self.list.iter().collect();
        };
        let mut keys: Vec<&str> = Vec::new();
        match first {
            Value::Struct(o) => {
                keys.push(o.def.name.as_ref());
                if let Some(s) = o.def.supertype.as_deref() {
                    keys.push(s);
                }
            }
            Value::Exc(e) => keys.push(e.kind.as_ref()),
            _ => {}
        }
        let mut at: Vec<u32> = self.rest.clone();
        for k in keys {
            if let Some(ms) = self.by_type.get(k) {
                at.extend_from_slice(ms);
            }
        }
        at.sort_unstable();
        at.dedup();
        at.into_iter().map(|i| &self.list[i as usize]).collect()
    }
}

impl std::fmt::Debug for Methods {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.list).finish()
    }
}
