//! Interned names and paths: the identifiers, qualifiers and type annotations that facts
//! hold, and the dotted chains of them (`Zygote.gradient`, `m.cell`).
//!
//! A workspace's facts name the same few thousand identifiers hundreds of thousands of
//! times (`x`, `sum`, `Zygote`, `Float32`). A [`Name`] is the number of the one copy of its
//! text in a process-wide table: 4 bytes (an `Option<Name>` too), no allocation of its
//! own, compared by number. A [`Path`] is likewise the number of an interned slice of
//! names (a [`List`], which interns parameter lists too). Facts are mostly names, so
//! their size is what keeps a large workspace's facts small. The texts live for the rest
//! of the process, which bounds them by the number of distinct names ever seen (the
//! language server also keeps the names of text typed and deleted since it started: a
//! few dozen bytes for each distinct identifier).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// An interned string. Equal names are the same number, and hash as it; order is that of
/// the text, so sorting by name is deterministic.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name(NonZeroU32);

/// The hasher of the maps on adlint's hot paths (names, functions, calls): several times
/// faster than the standard library's on short keys, and seeded per map like it.
pub type FastHash = foldhash::fast::RandomState;
/// A map with [`FastHash`].
pub type FastMap<K, V> = HashMap<K, V, FastHash>;
/// A set with [`FastHash`].
pub type FastSet<K> = std::collections::HashSet<K, FastHash>;

/// The interner is split in shards by hash, so that the threads extracting facts rarely
/// wait for each other.
const SHARDS: usize = 16;

/// The first segment of a [`Table`] holds this many entries, and each next one as many as
/// all before it: 21 segments number 2^32 entries.
const FIRST_SEGMENT: u32 = 4096;
const SEGMENTS: usize = 21;

/// Interned values by number: segments that are allocated when first needed and never
/// move, each entry written once before its number is handed out. Reading takes no lock.
struct Table<T: 'static> {
    segments: [OnceLock<Box<[OnceLock<T>]>>; SEGMENTS],
    next: AtomicU32,
}

impl<T: Copy + 'static> Table<T> {
    /// A table whose entry 0 is `first` (the empty name or path).
    fn new(first: T) -> Self {
        let table = Table {
            segments: std::array::from_fn(|_| OnceLock::new()),
            next: AtomicU32::new(1),
        };
        table.slot(0).get_or_init(|| first);
        table
    }

    /// Segment and offset of entry `id`.
    fn locate(id: u32) -> (usize, usize) {
        let high = id / FIRST_SEGMENT;
        if high == 0 {
            return (0, id as usize);
        }
        let segment = (u32::BITS - high.leading_zeros()) as usize;
        let base = FIRST_SEGMENT << (segment - 1);
        (segment, (id - base) as usize)
    }

    fn slot(&self, id: u32) -> &OnceLock<T> {
        let (segment, offset) = Self::locate(id);
        let len = match segment {
            0 => FIRST_SEGMENT,
            s => FIRST_SEGMENT << (s - 1),
        } as usize;
        let entries =
            self.segments[segment].get_or_init(|| (0..len).map(|_| OnceLock::new()).collect());
        &entries[offset]
    }

    /// Store `value` under a new number.
    fn push(&self, value: T) -> u32 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        assert!(id < u32::MAX, "more than 2^32 distinct names");
        self.slot(id).get_or_init(|| value);
        id
    }

    fn get(&self, id: u32) -> T {
        let (segment, offset) = Self::locate(id);
        // Numbers are only handed out after their entry is written.
        *self.segments[segment]
            .get()
            .and_then(|entries| entries[offset].get())
            .expect("an interned number has its entry")
    }
}

/// A set of interned values of one kind with their numbers.
struct Interner<T: ?Sized + 'static> {
    hasher: FastHash,
    shards: [Mutex<HashMap<&'static T, u32, FastHash>>; SHARDS],
    table: Table<&'static T>,
}

impl<T: ?Sized + Eq + Hash + 'static> Interner<T> {
    fn new(empty: &'static T) -> Self {
        Interner {
            hasher: FastHash::default(),
            shards: std::array::from_fn(|_| Mutex::new(HashMap::default())),
            table: Table::new(empty),
        }
    }

    /// The number of `value`, stored with `leak` the first time it is seen.
    fn intern(&self, value: &T, leak: impl FnOnce(&T) -> &'static T) -> NonZeroU32 {
        let shard = self.hasher.hash_one(value) as usize % SHARDS;
        // A poisoned shard still holds valid entries: interning never panics halfway.
        let mut map = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        let id = match map.get(value) {
            Some(&id) => id,
            None => {
                let leaked = leak(value);
                let id = self.table.push(leaked);
                map.insert(leaked, id);
                id
            }
        };
        NonZeroU32::new(id + 1).expect("numbers stay below u32::MAX")
    }

    /// The number of `value` if it was interned.
    fn find(&self, value: &T) -> Option<NonZeroU32> {
        let shard = self.hasher.hash_one(value) as usize % SHARDS;
        let map = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        let id = *map.get(value)?;
        Some(NonZeroU32::new(id + 1).expect("numbers stay below u32::MAX"))
    }

    fn get(&self, raw: NonZeroU32) -> &'static T {
        self.table.get(raw.get() - 1)
    }
}

fn names() -> &'static Interner<str> {
    static NAMES: OnceLock<Interner<str>> = OnceLock::new();
    NAMES.get_or_init(|| Interner::new(""))
}

/// The number of the empty name and of the empty path (entry 0 of their tables).
const EMPTY: NonZeroU32 = NonZeroU32::MIN;

impl Name {
    /// The name with this text (the same number for the same text, from any thread).
    pub fn new(text: &str) -> Name {
        if text.is_empty() {
            return Name(EMPTY);
        }
        Name(names().intern(text, |t| Box::leak(t.into())))
    }

    /// The name with this text if it was ever made, without making it: a text no name has
    /// is in no map keyed by names.
    pub fn lookup(text: &str) -> Option<Name> {
        if text.is_empty() {
            return Some(Name(EMPTY));
        }
        names().find(text).map(Name)
    }

    pub fn as_str(&self) -> &'static str {
        names().get(self.0)
    }

    /// The name's number: equal for equal names, in no meaningful order (for sorting by
    /// identity where only equality matters).
    pub fn number(self) -> u32 {
        self.0.get()
    }
}

impl Default for Name {
    fn default() -> Name {
        Name(EMPTY)
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        if self.0 == other.0 {
            return std::cmp::Ordering::Equal;
        }
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // By number: hashing never reads the text. A map keyed by names is read with a
        // `&str` through [`Name::lookup`].
        self.0.hash(state)
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
        name.as_str().to_owned()
    }
}

/// An interned list of values: equal lists are one number (4 bytes, no allocation of
/// their own) that reads as a slice. [`Path`] is a list of names; facts also intern
/// parameter lists, since most functions of a workspace share a few shapes.
pub struct List<T: Interned>(NonZeroU32, std::marker::PhantomData<&'static [T]>);

/// A type whose lists can be interned: it names the process-wide interner of its lists.
pub trait Interned: Copy + Eq + Hash + Send + Sync + 'static {
    fn lists() -> &'static ListInterner<Self>;
}

/// The interner of the lists of one type (opaque: made by [`ListInterner::get_or_init`]).
pub struct ListInterner<T: 'static>(Interner<[T]>);

impl<T: Interned> ListInterner<T> {
    /// The interner held in `cell`, made the first time.
    pub fn get_or_init(cell: &'static OnceLock<ListInterner<T>>) -> &'static ListInterner<T> {
        cell.get_or_init(|| ListInterner(Interner::new(&[])))
    }
}

/// An interned sequence of names: a callee such as `Zygote.gradient`, a qualifier, a
/// macro's path, keyword parameter names.
pub type Path = List<Name>;

impl Interned for Name {
    fn lists() -> &'static ListInterner<Name> {
        static PATHS: OnceLock<ListInterner<Name>> = OnceLock::new();
        ListInterner::get_or_init(&PATHS)
    }
}

impl<T: Interned> List<T> {
    /// The list with these values (the same number for the same values).
    pub fn new(values: &[T]) -> List<T> {
        if values.is_empty() {
            return List::default();
        }
        List(
            T::lists().0.intern(values, |v| Box::leak(v.into())),
            std::marker::PhantomData,
        )
    }

    pub fn as_slice(&self) -> &'static [T] {
        T::lists().0.get(self.0)
    }
}

impl List<Name> {
    /// The path of the names in a text split at `.` (`"Zygote.gradient"`).
    pub fn parse(text: &str) -> Path {
        let names: Vec<Name> = text.split('.').map(Name::new).collect();
        Path::new(&names)
    }

    /// The names' texts joined with `sep` (`"Zygote.gradient"` with `"."`).
    pub fn join(&self, sep: &str) -> String {
        join(self.as_slice(), sep)
    }
}

/// The texts of `names` joined with `sep`.
pub fn join(names: &[Name], sep: &str) -> String {
    let mut out = String::new();
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(n.as_str());
    }
    out
}

impl<T: Interned> Clone for List<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Interned> Copy for List<T> {}

impl<T: Interned> PartialEq for List<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T: Interned> Eq for List<T> {}

impl<T: Interned> Default for List<T> {
    fn default() -> Self {
        List(EMPTY, std::marker::PhantomData)
    }
}

impl<T: Interned> std::ops::Deref for List<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: Interned> IntoIterator for &List<T> {
    type Item = &'static T;
    type IntoIter = std::slice::Iter<'static, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T: Interned + Ord> PartialOrd for List<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Interned + Ord> Ord for List<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if self.0 == other.0 {
            return std::cmp::Ordering::Equal;
        }
        self.as_slice().cmp(other.as_slice())
    }
}

impl<T: Interned> Hash for List<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl<T: Interned + std::fmt::Debug> std::fmt::Debug for List<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl<T: Interned> From<Vec<T>> for List<T> {
    fn from(values: Vec<T>) -> Self {
        List::new(&values)
    }
}

impl<T: Interned> From<&[T]> for List<T> {
    fn from(values: &[T]) -> Self {
        List::new(values)
    }
}

#[cfg(test)]
mod tests {
    use super::{Name, Path, Table, FIRST_SEGMENT, SEGMENTS};

    #[test]
    fn numbers_map_to_segments_without_gaps_or_overlaps() {
        let len = |s: usize| match s {
            0 => FIRST_SEGMENT,
            s => FIRST_SEGMENT << (s - 1),
        };
        let mut expected = 0u64;
        for segment in 0..SEGMENTS {
            let first = expected as u32;
            assert_eq!(Table::<u8>::locate(first), (segment, 0));
            let last = (expected + len(segment) as u64 - 1).min(u32::MAX as u64) as u32;
            assert_eq!(
                Table::<u8>::locate(last),
                (segment, (last - first) as usize)
            );
            expected += len(segment) as u64;
        }
        assert!(expected >= 1 << 32);
    }

    #[test]
    fn names_and_paths_are_four_bytes() {
        assert_eq!(std::mem::size_of::<Name>(), 4);
        assert_eq!(std::mem::size_of::<Option<Name>>(), 4);
        assert_eq!(std::mem::size_of::<Path>(), 4);
    }

    #[test]
    fn many_names_keep_their_texts() {
        // More than the first segments hold, so that later ones are allocated and read.
        let texts: Vec<String> = (0..3 * FIRST_SEGMENT)
            .map(|i| format!("many_{i}"))
            .collect();
        let names: Vec<Name> = texts.iter().map(|t| Name::new(t)).collect();
        for (name, text) in names.iter().zip(&texts) {
            assert_eq!(name.as_str(), text);
            assert_eq!(*name, Name::new(text));
        }
        let path = Path::new(&names[..3]);
        assert_eq!(path.join("."), "many_0.many_1.many_2");
    }

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
    fn names_order_as_their_text() {
        let mut names: Vec<Name> = ["b", "a", "c", "a"].map(Name::new).to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names, ["a", "b", "c"]);
        let set: std::collections::HashSet<Name> = names.iter().copied().collect();
        assert!(set.contains(&Name::lookup("b").unwrap()));
        // Looking up never makes a name.
        assert_eq!(Name::lookup("never_interned_by_any_test_42"), None);
        assert_eq!(Name::lookup("never_interned_by_any_test_42"), None);
        assert_eq!(Name::lookup(""), Some(Name::default()));
        assert_eq!(super::join(&names, "."), "a.b.c");
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
