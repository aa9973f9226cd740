//! Process memory housekeeping: giving the pages of freed memory back to the system, and
//! the allocator that counts what each thread holds.
//!
//! It knows nothing about Julia or the analysis; `callgraph` and `analysis` call it after
//! steps that free much of what they allocated.

/// Workspaces of at most this many calls (about 4 MB of Julia) keep their freed memory:
/// they free little, and the release costs milliseconds.
const RELEASE_ABOVE_CALLS: usize = 100_000;

/// Give the pages of freed memory back to the system, after a step that frees much of
/// what it allocated (the call graph's construction frees almost as much as the graph
/// keeps; the rules' collection of findings copies them): glibc's allocator would keep
/// those pages for the rest of the run, where later steps reuse only part of them. Only
/// for workspaces of more than [`RELEASE_ABOVE_CALLS`] calls (`calls`): in smaller ones
/// the release would slow down the language server's analysis after each edit by a fifth
/// for nothing. Does nothing outside glibc.
pub fn release_free_memory(calls: usize) {
    if calls <= RELEASE_ABOVE_CALLS {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: `malloc_trim` only releases free memory of glibc's heaps; it touches no
        // live allocation and may be called from any thread at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}

// ------------------------------------------------------------------ counted allocation
//
// The reference interpreter's memory budget estimates what each value holds (see
// `refad::value`), and checks the estimate before each allocation whose size the program
// decides. Estimates miss what nobody thought to count: a closure's scope, the maps a
// builtin builds. The allocator below counts the bytes each thread has allocated and not
// yet freed, exactly, so the interpreter can also stop on what it really holds
// ([`thread_allocated`]). The count is kept per thread, without any lock or atomic, so
// it costs the rest of the program one thread-local addition per allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Bytes allocated on this thread minus bytes freed on it: negative on a thread that
    /// frees what another allocated.
    static ALLOCATED: Cell<i64> = const { Cell::new(0) };
}

/// The system allocator, counting the bytes each thread allocates and frees.
pub struct Counting;

#[inline]
fn count(delta: i64) {
    // `try_with`: an allocation made while the thread's locals are torn down is not
    // counted rather than a panic inside the allocator.
    let _ = ALLOCATED.try_with(|a| a.set(a.get().wrapping_add(delta)));
}

// SAFETY: every method hands the request to `System` unchanged and only counts its size;
// counting touches a thread-local `Cell` whose initialiser is constant and which has no
// destructor, so it never allocates and never re-enters the allocator.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as it is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`, through this allocator.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as i64));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; on failure the old block stays allocated and counted.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

/// Bytes this thread has allocated and not freed since it started (through [`Counting`],
/// the allocator of every program built with this crate). Differences between two readings
/// on one thread are what that thread's work in between holds.
pub fn thread_allocated() -> i64 {
    ALLOCATED.with(|a| a.get())
}

#[cfg(test)]
mod tests {
    use super::thread_allocated;

    /// What a thread allocates counts on that thread until it is freed, whatever other
    /// threads do meanwhile.
    #[test]
    fn each_thread_counts_what_it_holds() {
        let on_thread = std::thread::spawn(|| {
            let start = thread_allocated();
            let mut v: Vec<u8> = Vec::with_capacity(10 << 20);
            v.push(1);
            let held = thread_allocated() - start;
            // Room for 40 MiB more than its one byte: a reallocation.
            v.reserve_exact(40 << 20);
            let grown = thread_allocated() - start;
            drop(v);
            (held, grown, thread_allocated() - start)
        });
        let elsewhere: Vec<u64> = vec![0; 1 << 20];
        let (held, grown, after) = on_thread.join().unwrap();
        assert!(elsewhere.len() == 1 << 20);
        assert!((10 << 20..(10 << 20) + 4096).contains(&held), "{held}");
        assert!((40 << 20..(40 << 20) + 4096).contains(&grown), "{grown}");
        assert!(after.abs() < 4096, "{after}");
    }
}
