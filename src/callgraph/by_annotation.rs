//! The methods of one name by the type annotated at one parameter position, so that a call
//! whose argument there has known types looks only at the methods that may take them.
//!
//! A name with thousands of methods, one per type (`f(::T1, x)`, `f(::T2, x)`, ...), called
//! thousands of times, had each call check every method: quadratic in the size of a file.
//! The index gives a superset of the methods [`super::Resolver::admits`] does not refuse at
//! that position (it mirrors `admits` case by case); each candidate is then checked in
//! full as before, so the index can only save work, not change a resolution.

use super::{head_of, KINDS};
use crate::index::FuncRef;
use crate::name::{FastMap as HashMap, Name};

/// The workspace's declared types: (supertype, whether abstract), as in
/// [`crate::index::Index::types`].
type Types = HashMap<Name, (Option<Name>, bool)>;

/// What one parameter position of a name's methods says about the types they take.
pub(super) struct ByAnnotation {
    /// The parameter position indexed.
    pos: usize,
    /// Methods annotated there with one plain type, by that type's name (without module
    /// or parameters), as indices into the methods.
    by_head: HashMap<&'static str, Vec<u32>>,
    /// Methods the position tells nothing of: no annotation there, one that is not a
    /// plain type (`Union{...}`), a bound on a workspace type, or a vararg before it.
    rest: Vec<u32>,
    /// Annotated with a type neither the workspace declares nor a kind of Base names.
    foreign: Vec<u32>,
    /// Annotated with a type of a Base kind (`AbstractVector`) the workspace does not
    /// declare.
    kind: Vec<u32>,
    /// Annotated with an abstract type the workspace declares.
    declared_abstract: Vec<u32>,
}

/// Fewer methods than this are checked one by one: an index would not pay for itself.
const MIN_METHODS: usize = 32;

impl ByAnnotation {
    /// The index of `methods` at the position where they annotate the most different plain
    /// types, if enough of them do to be worth it. `annotation_at(m, pos)` gives the
    /// annotation of method `m` at position `pos` when it is a plain type that `admits`
    /// alone decides (no vararg before it, no workspace bound).
    pub(super) fn build(
        methods: &[FuncRef],
        types: &Types,
        annotation_at: impl Fn(FuncRef, usize) -> Option<Name>,
        positions: usize,
    ) -> Option<ByAnnotation> {
        if methods.len() < MIN_METHODS {
            return None;
        }
        // The position whose annotations tell most methods apart (`show(io::IO, ::T1)` is
        // indexed by its second parameter), the first among equals.
        let pos = (0..positions).max_by_key(|&p| {
            let mut heads: Vec<&str> = (methods.iter())
                .filter_map(|&m| annotation_at(m, p).and_then(|a| head_of(a.as_str())))
                .collect();
            heads.sort_unstable();
            heads.dedup();
            (heads.len(), std::cmp::Reverse(p))
        })?;
        let mut index = ByAnnotation {
            pos,
            by_head: HashMap::default(),
            rest: Vec::new(),
            foreign: Vec::new(),
            kind: Vec::new(),
            declared_abstract: Vec::new(),
        };
        let mut indexed = 0;
        for (i, &m) in methods.iter().enumerate() {
            let i = i as u32;
            let Some(head) = annotation_at(m, pos).and_then(|a| head_of(a.as_str())) else {
                index.rest.push(i);
                continue;
            };
            indexed += 1;
            index.by_head.entry(head).or_default().push(i);
            let declared = Name::lookup(head).and_then(|n| types.get(&n));
            match declared {
                Some((_, true)) => index.declared_abstract.push(i),
                Some((_, false)) => {}
                None if in_a_kind(head) => index.kind.push(i),
                None => index.foreign.push(i),
            }
        }
        (indexed >= MIN_METHODS).then_some(index)
    }

    /// The position indexed.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// Indices of the methods that may take an argument of one of the types `known` at
    /// the indexed position (sorted, each once); `None` when the index cannot narrow them.
    pub(super) fn candidates(&self, known: &[Name], types: &Types) -> Option<Vec<u32>> {
        let mut out = self.rest.clone();
        for &k in known {
            self.add_candidates(k, types, &mut out)?;
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }

    /// The methods `admits` may not refuse for a value of type `k`, in its order of
    /// cases; `None` when it may accept any.
    fn add_candidates(&self, k: Name, types: &Types, out: &mut Vec<u32>) -> Option<()> {
        let mut head = |h: &str| {
            if let Some(ms) = self.by_head.get(h) {
                out.extend_from_slice(ms);
            }
        };
        head("Any");
        head(k.as_str());
        if let Some(kind) = KINDS.iter().find(|kind| kind.0 == k.as_str()) {
            // A value of a Base kind: its kind's types, and types adlint knows nothing of.
            for h in kind.1 {
                head(h);
            }
            out.extend_from_slice(&self.foreign);
            return Some(());
        }
        if types.contains_key(&k) {
            // A workspace type: its supertypes; past the workspace, any type it does not
            // declare.
            let mut cur = k;
            for _ in 0..16 {
                match types.get(&cur) {
                    Some((Some(sup), _)) => {
                        head(sup.as_str());
                        cur = *sup;
                    }
                    Some((None, _)) => return Some(()),
                    None => {
                        out.extend_from_slice(&self.foreign);
                        out.extend_from_slice(&self.kind);
                        return Some(());
                    }
                }
            }
            return None;
        }
        // A type declared outside the workspace: any but the workspace's structs.
        out.extend_from_slice(&self.foreign);
        out.extend_from_slice(&self.kind);
        out.extend_from_slice(&self.declared_abstract);
        Some(())
    }
}

fn in_a_kind(head: &str) -> bool {
    KINDS.iter().any(|k| k.1.contains(&head))
}
