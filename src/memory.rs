//! Process memory housekeeping: giving the pages of freed memory back to the system.
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
