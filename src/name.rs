//! Interned names and paths: the identifiers, qualifiers and type annotations that facts
//! hold, and the dotted chains of them (`Zygote.gradient`, `m.cell`).
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

/// A set of interned values of one kind, split in shards by hash, so that the threads
/// extracting facts rarely wait for each other.
struct Interner<T: ?Sized + 'static> {
    hasher: std::hash::RandomState,
    shards: [Mutex<HashSet<&'static T>>; SHARDS],
}

impl<T: ?Sized + Eq + Hash + 'static> Interner<T> {
    fn new() -> Self {
        Interner {
            hasher: std::hash::RandomState::new(),
            shards: std::array::from_fn(|_| Mutex::new(HashSet::new())),
        }
    }

    /// The one copy of `value`, made with `leak` the first time it is seen.
    fn intern(&self, value: &T, leak: impl FnOnce(&T) -> &'static T) -> &'static T {
        let shard = self.hasher.hash_one(value) as usize % SHARDS;
        // A poisoned shard still holds valid entries: interning never panics halfway.
        let mut set = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&known) = set.get(value) {
            return known;
        }
        let leaked = leak(value);
        set.insert(leaked);
        leaked
    }
}

fn names() -> &'static Interner<str> {
    static NAMES: OnceLock<Interner<str>> = OnceLock::new();
    NAMES.get_or_init(Interner::new)
}

fn paths() -> &'static Interner<[Name]> {
    static PATHS: OnceLock<Interner<[Name]>> = OnceLock::new();
    PATHS.get_or_init(Interner::new)
}

impl Name {
    /// The name with this text (the same pointer for the same text, from any thread).
    pub fn new(text: &str) -> Name {
        if text.is_empty() {
            return Name("");
        }
        Name(names().intern(text, |t| Box::leak(t.into())))
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

/// An interned sequence of names: a callee such as `Zygote.gradient`, a qualifier, a
/// macro's path. 16 bytes, no allocation of its own; it reads as a slice of names.
#[derive(Clone, Copy, Default)]
pub struct Path(&'static [Name]);

impl Path {
    /// The path with these names (the same pointer for the same names).
    pub fn new(names: &[Name]) -> Path {
        if names.is_empty() {
            return Path(&[]);
        }
        Path(paths().intern(names, |n| Box::leak(n.into())))
    }

    /// The path of the names in a text split at `.` (`"Zygote.gradient"`).
    pub fn parse(text: &str) -> Path {
        let names: Vec<Name> = text.split('.').map(Name::new).collect();
        Path::new(&names)
    }

    pub fn as_slice(&self) -> &'static [Name] {
        self.0
    }
}

impl std::ops::Deref for Path {
    type Target = [Name];
    fn deref(&self) -> &[Name] {
        self.0
    }
}

impl PartialEq for Path {
    fn eq(&self, other: &Path) -> bool {
        // Interned: equal paths are one allocation, except the empty path.
        std::ptr::eq(self.0, other.0) || (self.0.is_empty() && other.0.is_empty())
    }
}

impl Eq for Path {}

impl PartialOrd for Path {
    fn partial_cmp(&self, other: &Path) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Path {
    fn cmp(&self, other: &Path) -> std::cmp::Ordering {
        self.0.cmp(other.0)
    }
}

impl Hash for Path {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl std::fmt::Debug for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl From<Vec<Name>> for Path {
    fn from(names: Vec<Name>) -> Path {
        Path::new(&names)
    }
}

impl From<&[Name]> for Path {
    fn from(names: &[Name]) -> Path {
        Path::new(names)
    }
}

#[cfg(test)]
mod tests {
    use super::{Name, Path};

    #[test]
    fn equal_paths_are_one_path() {
        let a = Path::parse("Zygote.gradient");
        let b = Path::new(&[Name::new("Zygote"), Name::new("gradient")]);
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_slice(), b.as_slice()));
        assert_ne!(a, Path::parse("Flux.gradient"));
        assert_eq!(a.join("."), "Zygote.gradient");
        assert_eq!(a.last().map(Name::as_str), Some("gradient"));
        assert_eq!(Path::new(&[]), Path::default());
        assert!(Path::default().is_empty());
    }

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
