//! The C side of `syntax` (`native/children.c`: child lists and kind-filtered walks read
//! straight from tree-sitter's node layout; `native/arena.c`: the per-thread arena parse
//! trees are allocated from), as Rust declarations. `build.rs` compiles them.

use tree_sitter::ffi::TSNode;

/// `AdlintWalker` of `src/syntax/native/children.c`.
#[repr(C)]
pub struct Walker {
    _opaque: [u8; 0],
}

/// `AdlintHit` of `src/syntax/native/children.c`.
#[repr(C)]
pub struct Hit {
    pub node: TSNode,
    pub parent: TSNode,
    pub grandparent: TSNode,
}

/// `AdlintArenaMark` of `src/syntax/native/arena.c`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ArenaMark {
    current: u32,
    cursor: *mut u8,
    spills: u64,
    active: bool,
}

extern "C" {
    /// See `src/syntax/native/arena.c`.
    pub fn adlint_ts_malloc(size: usize) -> *mut std::ffi::c_void;
    /// See `src/syntax/native/arena.c`.
    pub fn adlint_ts_calloc(count: usize, size: usize) -> *mut std::ffi::c_void;
    /// See `src/syntax/native/arena.c`.
    pub fn adlint_ts_realloc(p: *mut std::ffi::c_void, size: usize) -> *mut std::ffi::c_void;
    /// See `src/syntax/native/arena.c`.
    pub fn adlint_ts_free(p: *mut std::ffi::c_void);
    /// See `src/syntax/native/arena.c`.
    pub fn adlint_arena_enter() -> ArenaMark;
    /// See `src/syntax/native/arena.c`.
    pub fn adlint_arena_pause();
    /// See `src/syntax/native/arena.c`.
    pub fn adlint_arena_spilled_since(mark: ArenaMark) -> bool;
    /// See `src/syntax/native/arena.c`.
    pub fn adlint_arena_leave(mark: ArenaMark);
    /// See `src/syntax/native/arena.c`.
    pub fn adlint_arena_trim();
    /// See `src/syntax/native/arena.c`.
    pub fn adlint_arena_spills() -> u64;
    /// See `src/syntax/native/children.c`.
    pub fn adlint_walker_new(root: TSNode) -> *mut Walker;
    /// See `src/syntax/native/children.c`.
    pub fn adlint_walker_next(
        walker: *mut Walker,
        wanted: *const bool,
        wanted_len: u32,
        out: *mut Hit,
        cap: u32,
    ) -> u32;
    /// See `src/syntax/native/children.c`.
    pub fn adlint_walker_free(walker: *mut Walker);
    /// See `src/syntax/native/children.c`.
    pub fn adlint_node_children(node: TSNode, anonymous: bool, out: *mut TSNode, cap: u32) -> u32;
}
