//! Interned names: the identifiers, qualifiers and type annotations that facts hold.
//!
//! A workspace's facts name the same few thousand identifiers hundreds of thousands of
//! times (`x`, `sum`, `Zygote`, `Float32`). A [`Name`] is a pointer to the one copy of its
//! text: 16 bytes, no allocation of its own, compared by address. The texts live for the
//! rest of the process, which bounds them by the number of distinct names ever seen (the
//! language server also keeps the names of text typed and deleted since it started: a few
//! bytes for each distinct identifier).

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Mutex, OnceLock};

/// An interned string. Equal names are the same pointer; order and hash are those of the
/// text, so sorting by name is deterministic.
#[derive(Clone, Copy, Default)]
pub struct Name(&'static str);

/// The interner is split in shards by hash, so that the threads extracting facts rarely
/// wait for each other.
const SHARDS: usize = 16;

struct Interner {
    hasher: std::hash::RandomState,
    shards: [Mutex<HashSet<&'static str>>; SHARDS],
}

fn interner() -> &'static Interner {
    static INTERNER: OnceLock<Interner> = OnceLock::new();
    INTERNER.get_or_init(|| Interner {
        hasher: std::hash::RandomState::new(),
        shards: std::array::from_fn(|_| Mutex::new(HashSet::new())),
    })
}

impl Name {
    /// The name with this text (the same pointer for the same text, from any thread).
    pub fn new(text: &str) -> Name {
        if text.is_empty() {
            return Name("");
        }
        let interner = interner();
        let shard = interner.hasher.hash_one(text) as usize % SHARDS;
        // A poisoned shard still holds valid entries: interning never panics halfway.
        let mut set = interner.shards[shard]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(&known) = set.get(text) {
            return Name(known);
        }
        let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
        set.insert(leaked);
        Name(leaked)
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.0
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        // Interned: equal texts are one allocation (the empty name is a literal).
        std::ptr::eq(self.0, other.0) || (self.0.is_empty() && other.0.is_empty())
    }
}

impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.0 == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.0
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        self.0.cmp(other.0)
    }
}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As the text, so that maps keyed by names can be read with a `&str`.
        self.0.hash(state)
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name::new(text)
    }
}

impl From<String> for Name {
    fn from(text: String) -> Name {
        Name::new(&text)
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Name {
        Name::new(text)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::Name;

    #[test]
    fn equal_texts_are_one_name() {
        let a = Name::new("gradient");
        let b = Name::new(&String::from("gradient"));
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_eq!(a, b);
        assert_ne!(a, Name::new("gradients"));
        assert_eq!(Name::new(""), Name::default());
    }

    #[test]
    fn names_order_and_hash_as_their_text() {
        let mut names: Vec<Name> = ["b", "a", "c", "a"].map(Name::new).to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names, ["a", "b", "c"]);
        let set: std::collections::HashSet<Name> = names.iter().copied().collect();
        assert!(set.contains("b"));
        assert_eq!(names.join("."), "a.b.c");
    }

    #[test]
    fn threads_intern_to_the_same_name() {
        let names: Vec<Name> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| Name::new("shared_between_threads")))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(names
            .windows(2)
            .all(|w| std::ptr::eq(w[0].as_str(), w[1].as_str())));
    }
}
