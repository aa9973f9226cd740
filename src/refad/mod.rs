//! `refad`: a reference interpreter for a subset of Julia with reverse-mode AD following
//! Zygote.jl's semantics, so adlint can confirm "Zygote fails here" (or "not reproduced") and
//! check gradients against finite differences.
//!
//! Pipeline: the tree-sitter tree is lowered once into a small IR (`ir.rs`, `lower.rs`), then
//! evaluated (`interp.rs`, and `builtins/`: the builtin functions, one file per domain, each
//! registering its names with their code in one table). No native code, file, network,
//! environment or process access; output is deterministic.
//!
//! AD (`ad.rs`, `entry.rs`): a scalar tape (Wengert list). Every Float64 depending on a
//! differentiated argument is tracked; the reverse pass walks the tape in reverse execution
//! order. Zygote's failure semantics are modelled as tape *events*: array mutation
//! (`setindex!`, `copyto!` incl. `.=`, `push!`, `pop!`, `pushfirst!`, `popfirst!`, `append!`,
//! `fill!`), `ccall`/`@ccall`/`time()` (foreigncall) and executed catch blocks. The forward pass
//! runs them normally; the reverse pass reports every event it meets (regardless of data flow),
//! and the first one met (the last executed) is the one Zygote reports. Call resolution:
//! user `rrule` / `@adjoint` first (its primal runs natively, its pullback is the user's
//! closure), then `@non_differentiable` / `ignore_derivatives` / `Zygote.@ignore` (native, no
//! gradient), then the body. Zygote's broadcast fast path is modelled: `f.(x)` with a function
//! that captures nothing and numeric arguments is not traversed (no events inside `f`).
//!
//! `hessian(f, x)` is computed as central finite differences of the reverse-mode gradient
//! (step `1e-4·max(1,|x_j|)`, then symmetrised), not forward-over-reverse.
//!
//! Nested differentiation (an AD call inside differentiated code): the inner call runs, and
//! the failure Zygote meets when the outer pass differentiates the inner one is recorded
//! on the outer tape when it follows from the inner code: a read of a non-constant global
//! holding floats (Zygote's `accum_global` looks it up in an `IdDict`, a foreign call).
//! Otherwise the outer entry is not run (no reverse over reverse here), with that reason.
//!
//! Randomness: `rand`/`randn` use splitmix64 seeded with [`interp::RNG_SEED`]
//! (`0x5EED_2026_AD15_0001`); `Random.seed!(k)` reseeds with `RNG_SEED ^ k`. `randn` uses
//! Box-Muller. Values therefore differ from Julia's, deterministically.
//!
//! Known deviations, all documented rather than guessed: Int arguments of an entry point are
//! constants (their gradient shows as `nothing`); entry arguments are copied before tracking
//! (mutating them inside `f` does not change the caller's array); `Dict` iterates in insertion
//! order; `@show`/`println` print nothing.
//!
//! Pullback skipping: `map`, comprehensions and the broadcast slow path are recorded as regions;
//! when none of a region's Float64 outputs receives a cotangent, the reverse pass skips the
//! region with every event inside it, as Zygote skips `map_back(::Nothing)`/`collect_pullback`.
//! Outputs with no Float64 element (e.g. Int arrays) are conservatively never skipped.
//! User-defined (traversed) functions are never skipped.
//!
//! Implicit parameters (`gradient(() -> loss(), Flux.params(m))`): the parameter arrays are
//! tracked in place during the forward pass and restored afterwards; the result is a `Grads`
//! (a Dict keyed by array identity). `pullback`/`jacobian` with `Params` are unsupported.
//!
//! The prelude (`prelude.jl`, Julia run before the user's files) provides `Dense`, `Chain`,
//! `relu`/`sigmoid`/`softmax`/`logsoftmax`, `mse`, `logitcrossentropy`, `crossentropy`,
//! `Descent`, `Adam`, `setup`, `update!`, `train!`, `params`/`Params`, `var`, `std`; Flux's
//! `Conv` (1-d/2-d, stride 1, integer `pad`, a true convolution as NNlib's), `BatchNorm`
//! (features × batch; training mode inside entry calls, running statistics updated once per
//! entry call behind `ignore_derivatives`), `RNNCell`/`LSTMCell` (both call orders: Flux ≤ 0.14
//! `cell(h, x) -> (h′, y)` and Flux ≥ 0.15 `cell(x, h) -> h′`; an `RNNCell` with equal input and
//! output sizes takes the Flux ≤ 0.14 order), `Recur`/`RNN`/`LSTM`/`reset!` (Flux ≤ 0.14's
//! stateful wrapper), `onehot`/`onehotbatch` (a dense Bool matrix)/`onecold`, `trainable`,
//! `destructure` (an array reached twice is counted twice); `UniformScaling`/`I` (`I(n)` is a
//! dense matrix, not a `Diagonal`); Lux's `(x, ps, st)` layers as `Lux.Dense`, `Lux.Chain`,
//! `Lux.setup`, `Lux.apply`, `Lux.StatefulLuxLayer` (the name `Lux` is a named tuple; `using
//! Lux` makes `Dense` and `Chain` Lux's); Optimisers' `setup`, `update!` and `update` (on
//! copies); DifferentiationInterface's `DI.gradient`,
//! `DI.value_and_gradient`, `DI.pullback`, `DI.value_and_pullback`, `DI.jacobian` with
//! `AutoZygote()` (also `Flux.gradient(f, AutoZygote(), x)`). Initialisation is the
//! interpreter's seeded generator, not Flux's or Lux's.
//! Entry calls made inside prelude code (e.g. by `train!`, `DI.gradient`) are attributed to the
//! user's call.
//!
//! Base functions whose Zygote outcome is modelled as an event (they run normally): `qr` (a
//! LAPACK foreign call), `mul!` (a BLAS foreign call for Float arrays, `setindex!` otherwise),
//! `union!`/`intersect!`/`setdiff!` on vectors (`setindex!` of `filter!`, then `push!`; the
//! `resize!` internals that some Julia versions fail in first are not modelled), `mapslices`
//! (`setindex!` into its result). The foreign-call message names the call in parentheses
//! where Zygote prints its IR expression.
//!
//! Not supported (the run or entry is reported as `unsupported in the reference interpreter:
//! <construct> at <file>:<line>`, never guessed): nested differentiation that does not read a
//! non-constant global; least-squares `\` (non-square left side), matrix powers, matrix
//! functions (`exp`/`log`/`sqrt` of a matrix), factorizations other than square `qr` (`lu`,
//! `svd`, `eigen`, `cholesky`); `sort!`/`insert!`/`deleteat!`/`resize!`/`empty!` and other
//! in-place functions whose Zygote outcome depends on the Julia version; `Set`; macros other than `@.`,
//! `@show`/logging, `@assert`, `@inbounds`/`@views`/`@simd`/`@fastmath`/`@inline`,
//! `@ignore_derivatives`/`Zygote.@ignore`, `@non_differentiable`, `@nograd`, `@adjoint`,
//! `@ccall`, `@functor`/`@layer`, `@time`/`@elapsed`, `Threads.@threads` (its body runs in
//! order; under Zygote it meets `threading_run`'s foreign calls, or before 0.6.71 its
//! `try`), `@timed` (fails in Zygote's forward pass on Julia 1.11 and later, which is the
//! Julia assumed wherever Julia's version matters); quoted expressions, `@generated`,
//! inner constructors, `try/catch/else`, modules are transparent (their body runs at top
//! level), Lux's `Training` API and layers other than `Dense`/`Chain`, AbstractDifferentiation, DI backends other than `AutoZygote`, Flux ≥ 0.15's
//! sequence-level `RNN`/`LSTM`, `Conv` with a stride or `SamePad`, N-d `BatchNorm`,
//! infinite iterators (`Iterators.countfrom`, `cycle`, one-argument `repeated`), tasks
//! (`@spawn`, `@async`), `ForwardDiff`, Core.Box-specific failures (`accum` errors), complex
//! numbers (`complex`, `im`), `Rational` (`//`), `Non-differentiable function` errors, and
//! any Base/package name not defined here.

pub mod ad;
pub mod builtins;
pub mod confirm;
pub mod entry;
pub mod interp;
pub mod ir;
pub mod lower;
pub mod methods;
pub mod value;

use std::path::{Path, PathBuf};

/// Julia source of the Flux/NNlib pieces typical models use, in the supported subset.
pub const PRELUDE: &str = include_str!("prelude.jl");

#[derive(Clone, Debug)]
pub struct Budget {
    pub max_steps: u64,
    pub max_elements: u64,
    /// Bytes of the values alive at once: arrays, strings, tuples, dictionaries, the other
    /// values that hold memory, and the tape (a loop that keeps pushing large arrays
    /// reached 10 GB and aborted). Each allocation whose size the program decides is
    /// checked before it is made, and the total after every step; the cost of each kind
    /// is in `value.rs` (`Mem`).
    pub max_memory: u64,
    pub max_depth: u32,
    pub max_millis: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_steps: 10_000_000,
            max_elements: 10_000_000,
            max_memory: 1 << 30,
            max_depth: 256,
            max_millis: 5_000,
        }
    }
}

impl Budget {
    /// The default budget with the limits a user set.
    pub fn with_limits(limits: crate::config::ConfirmLimits) -> Budget {
        let default = Budget::default();
        Budget {
            max_memory: limits.memory.unwrap_or(default.max_memory),
            max_millis: limits.millis.unwrap_or(default.max_millis),
            ..default
        }
    }
}

/// A memory budget as the budget's stop shows it: `1024 MiB`, `488.3 MiB`.
pub fn show_memory(bytes: u64) -> String {
    match bytes % (1 << 20) {
        0 => format!("{} MiB", bytes >> 20),
        _ => format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64),
    }
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub budget: Budget,
    /// Zygote version to emulate; `None` means the current one (0.7.12).
    pub zygote_version: Option<(u32, u32, u32)>,
    /// Also take the finite-difference gradient of a `gradient`/`withgradient` entry whose
    /// reverse pass fails (its forward pass ran), as the reference `--fix --verify` holds a
    /// fixed program to.
    pub reference_gradients: bool,
}

#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct ProgramRun {
    pub entries: Vec<EntryRun>,
    pub stopped: Option<NotRun>,
    /// Evaluation steps the user's files took (the unit of the step budget).
    pub steps: u64,
    /// The calls of the driver file ([`confirm::DRIVER_PATH`]) that ended abnormally:
    /// (line, reason). Each is abandoned, and the next one runs.
    pub driver_stops: Vec<(u32, String)>,
}

#[derive(Clone, Debug)]
pub struct EntryRun {
    pub path: PathBuf,
    /// 1-based line of the entry call.
    pub line: u32,
    pub api: String,
    pub outcome: Outcome,
    /// For `gradient`/`withgradient` whose forward pass returned a number: that number and
    /// the gradients over the Float64 inputs, flattened in argument order.
    pub numbers: Option<EntryNumbers>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EntryNumbers {
    pub value: f64,
    /// Reverse mode's gradient, when the reverse pass ran.
    pub gradient: Option<Vec<f64>>,
    /// Central finite differences of the primal: when the reverse pass ran, and with
    /// [`Options::reference_gradients`] also when it failed.
    pub fd: Option<FdSlopes>,
}

/// Most inputs whose finite differences are taken one by one; above it, along
/// [`RANDOM_DIRECTIONS`] random directions.
pub const MAX_AXIS_INPUTS: usize = 64;

/// How many random directions a large input is probed along.
pub const RANDOM_DIRECTIONS: usize = 8;

/// Slopes of a function measured by central finite differences, each along a direction:
/// the input axes (the slopes are the gradient), or random ±1 directions (`x · d_k`), which
/// check a gradient of any length with a few evaluations: a wrong component changes every
/// slope it takes part in.
#[derive(Clone, Debug, PartialEq)]
pub struct FdSlopes {
    pub directions: Directions,
    pub slopes: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Directions {
    Axes,
    /// `RANDOM_DIRECTIONS` vectors of ±1 drawn from this seed.
    Random {
        seed: u64,
    },
}

impl Directions {
    /// Direction `k` over `n` inputs.
    pub fn direction(self, k: usize, n: usize) -> Vec<f64> {
        match self {
            Directions::Axes => (0..n).map(|i| if i == k { 1.0 } else { 0.0 }).collect(),
            Directions::Random { seed } => {
                let mut state = seed ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                (0..n)
                    .map(|_| {
                        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                        let mut z = state;
                        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                        if (z ^ (z >> 31)) & 1 == 0 {
                            1.0
                        } else {
                            -1.0
                        }
                    })
                    .collect()
            }
        }
    }

    /// What the slopes would be for gradient `g`.
    pub fn project(self, g: &[f64], count: usize) -> Vec<f64> {
        match self {
            Directions::Axes => g.to_vec(),
            Directions::Random { .. } => (0..count)
                .map(|k| {
                    let d = self.direction(k, g.len());
                    g.iter().zip(&d).map(|(a, b)| a * b).sum()
                })
                .collect(),
        }
    }

    /// How slope `k` is named in a message.
    pub fn describe(self, k: usize) -> String {
        match self {
            Directions::Axes => format!("component {}", k + 1),
            Directions::Random { .. } => format!("the slope along random direction {}", k + 1),
        }
    }
}

impl FdSlopes {
    /// Finite differences of `f` at `x`: along the axes for at most [`MAX_AXIS_INPUTS`]
    /// inputs, else along random directions. `None` when `f` fails or is not finite.
    pub fn measure(f: impl FnMut(&[f64]) -> Option<f64>, x: &[f64]) -> Option<FdSlopes> {
        if x.len() <= MAX_AXIS_INPUTS {
            return Some(FdSlopes {
                directions: Directions::Axes,
                slopes: finite_difference_gradient(f, x)?,
            });
        }
        let directions = Directions::Random {
            seed: interp::RNG_SEED,
        };
        let slopes = directional_differences(f, x, directions)?;
        Some(FdSlopes { directions, slopes })
    }

    /// The slopes of a gradient computed otherwise (the reverse pass), to compare with.
    pub fn of_gradient(g: &[f64]) -> FdSlopes {
        FdSlopes {
            directions: Directions::Axes,
            slopes: g.to_vec(),
        }
    }

    /// `gradient` projected on these directions.
    pub fn predicted(&self, gradient: &[f64]) -> Vec<f64> {
        self.directions.project(gradient, self.slopes.len())
    }

    /// How far `gradient` is from these slopes (see [`compare_gradients`]); `None` when
    /// its length cannot match.
    pub fn check(&self, gradient: &[f64]) -> Option<FdCheck> {
        if self.directions == Directions::Axes && gradient.len() != self.slopes.len() {
            return None;
        }
        compare_gradients(&self.predicted(gradient), &self.slopes)
    }
}

/// Central differences of `f` at `x` along each random direction: step
/// `h = 1e-6·max(1, max_i |x_i|)`.
fn directional_differences(
    mut f: impl FnMut(&[f64]) -> Option<f64>,
    x: &[f64],
    directions: Directions,
) -> Option<Vec<f64>> {
    let h = 1e-6 * x.iter().fold(1f64, |m, v| m.max(v.abs()));
    let mut out = Vec::with_capacity(RANDOM_DIRECTIONS);
    for k in 0..RANDOM_DIRECTIONS {
        let d = directions.direction(k, x.len());
        let plus: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + h * b).collect();
        let minus: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a - h * b).collect();
        let (fp, fm) = (f(&plus)?, f(&minus)?);
        if !fp.is_finite() || !fm.is_finite() {
            return None;
        }
        out.push((fp - fm) / (2.0 * h));
    }
    Some(out)
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Ok {
        value: String,
        gradient: String,
        fd_check: Option<FdCheck>,
    },
    Failed {
        /// First line of Zygote's error message.
        message: String,
        /// The site Zygote reports.
        first: SiteRef,
        /// Every failing site the reverse pass meets, in the order it meets them.
        all: Vec<SiteRef>,
    },
    NotRun(NotRun),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SiteRef {
    pub path: PathBuf,
    pub start_byte: usize,
    pub end_byte: usize,
    pub line: u32,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NotRun {
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FdCheck {
    pub max_rel_error: f64,
    pub ok: bool,
}

/// Relative-error tolerance of [`finite_difference_check`].
pub const FD_TOLERANCE: f64 = 1e-5;

/// Central finite differences of `f` at `x`: step `h_i = 1e-6·max(1, |x_i|)`. `None` when
/// `f` fails or returns a non-finite value at some point.
pub fn finite_difference_gradient(
    mut f: impl FnMut(&[f64]) -> Option<f64>,
    x: &[f64],
) -> Option<Vec<f64>> {
    let mut p = x.to_vec();
    let mut out = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        let h = 1e-6 * x[i].abs().max(1.0);
        p[i] = x[i] + h;
        let fp = f(&p)?;
        p[i] = x[i] - h;
        let fm = f(&p)?;
        p[i] = x[i];
        if !fp.is_finite() || !fm.is_finite() {
            return None;
        }
        out.push((fp - fm) / (2.0 * h));
    }
    Some(out)
}

/// How far `grad` is from the finite-difference gradient `fd`: the error of component `i`
/// is `|grad_i - fd_i| / max(1, |grad_i|, |fd_i|)` (relative for large values, absolute near
/// zero); `ok` when the largest error is at most [`FD_TOLERANCE`]. `None` when the lengths
/// differ.
pub fn compare_gradients(grad: &[f64], fd: &[f64]) -> Option<FdCheck> {
    if grad.len() != fd.len() {
        return None;
    }
    let worst = grad
        .iter()
        .zip(fd)
        .map(|(g, d)| (g - d).abs() / 1f64.max(g.abs()).max(d.abs()))
        .fold(0.0, f64::max);
    Some(FdCheck {
        max_rel_error: worst,
        ok: worst <= FD_TOLERANCE,
    })
}

/// [`finite_difference_gradient`] of `f` at `x`, compared with `grad` by
/// [`compare_gradients`].
pub fn finite_difference_check(
    f: impl FnMut(&[f64]) -> Option<f64>,
    x: &[f64],
    grad: &[f64],
) -> Option<FdCheck> {
    if x.len() != grad.len() {
        return None;
    }
    compare_gradients(grad, &finite_difference_gradient(f, x)?)
}

/// Indented dump of the tree-sitter tree (field names and anonymous tokens), for debugging the lowering.
pub fn debug_tree(source: &str) -> String {
    let parsed = crate::syntax::parse(source);
    let mut out = String::new();
    crate::syntax::walk_preorder(&parsed.tree, |cursor, depth| {
        let node = cursor.node();
        let field = cursor
            .field_name()
            .map(|f| format!("{f}: "))
            .unwrap_or_default();
        let txt = if node.child_count() == 0 {
            format!(" {:?}", crate::syntax::text(node, source))
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{}{}{}{}\n",
            "  ".repeat(depth),
            field,
            node.kind(),
            txt
        ));
        true
    });
    out
}

use interp::{Ctrl, Interp};
use value::Value;

/// Load the files (top-level code of each, in the order given, with `include` resolved among
/// them), run the program's top level, and report one [`EntryRun`] per entry call executed
/// (`gradient`, `withgradient`, `pullback` + `back`, `jacobian`, `hessian`; qualified or bare).
///
/// A top-level statement whose entry call fails (Zygote error, or an unsupported construct
/// inside the entry) is abandoned and the next statement runs. Anything else that ends a
/// top-level statement abnormally stops the run (`stopped`): an uncaught exception, an
/// unsupported construct outside entries, or an exhausted budget.
pub fn run_program(files: &[SourceFile], opts: &Options) -> ProgramRun {
    // The evaluator recurses (bounded by `max_depth` and the lowering's nesting limit); run it
    // on a thread with a stack large enough for those bounds.
    let files = files.to_vec();
    let opts = opts.clone();
    let handle = std::thread::Builder::new()
        .name("refad".into())
        .stack_size(STACK_BYTES)
        .spawn(move || run_program_here(&files, &opts));
    let failure = match handle.map(|h| h.join()) {
        Ok(Ok(run)) => return run,
        Ok(Err(panic)) => panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
        Err(e) => format!("cannot start its thread: {e}"),
    };
    ProgramRun {
        entries: vec![],
        stopped: Some(NotRun {
            reason: format!("{INTERNAL_ERROR}: {failure}"),
        }),
        steps: 0,
        driver_stops: vec![],
    }
}

/// How a run that failed inside the interpreter (a bug, never the user's program) is
/// reported; the fuzz harness treats it as a failure.
pub const INTERNAL_ERROR: &str = "internal error in the reference interpreter";

/// Stack of the interpreter thread (virtual memory; only touched pages are used).
const STACK_BYTES: usize = 1 << 30;

fn run_program_here(files: &[SourceFile], opts: &Options) -> ProgramRun {
    /// Closures and scopes refer to each other: free what the run left, also when it
    /// panicked.
    struct Collect;
    impl Drop for Collect {
        fn drop(&mut self) {
            interp::break_cycles();
        }
    }
    let _collect = Collect;
    run_program_uncollected(files, opts)
}

fn run_program_uncollected(files: &[SourceFile], opts: &Options) -> ProgramRun {
    let mut paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    paths.push(PathBuf::from("<prelude>"));
    let mut it = Interp::new(paths, opts);
    it.sources = files.iter().map(|f| f.text.clone()).collect();
    it.done = vec![false; files.len()];
    it.prelude_file = files.len() as u32;
    // prelude
    let prelude = lower::lower_file(PRELUDE, files.len() as u32);
    let global = it.global.clone();
    if let Err(e) = it.eval(&prelude, &global) {
        let reason = match e {
            Ctrl::Stop(r) => r,
            other => format!("prelude failed: {other:?}"),
        };
        return ProgramRun {
            entries: vec![],
            stopped: Some(NotRun { reason }),
            steps: it.steps,
            driver_stops: vec![],
        };
    }
    it.prelude_globals = global.vars.borrow().keys().cloned().collect();
    it.steps = 0;
    it.start = std::time::Instant::now();
    it.alloc_base = crate::memory::thread_allocated();
    let mut stopped = None;
    for i in 0..files.len() {
        if it.done[i] {
            continue;
        }
        if let Err(reason) = run_file(&mut it, i) {
            stopped = Some(NotRun { reason });
            break;
        }
    }
    ProgramRun {
        entries: it.entries,
        stopped,
        steps: it.steps,
        driver_stops: it.driver_stops,
    }
}

/// Run one file's top level. `Err(reason)` stops the whole run.
pub(crate) fn run_file(it: &mut Interp, i: usize) -> Result<(), String> {
    it.done[i] = true;
    let src = it.sources[i].clone();
    // The memory budget is for what the program makes, not for its code: the bytes the
    // lowering allocates are left out of it while the file runs.
    let before = crate::memory::thread_allocated();
    let lowered = lower::lower_file(&src, i as u32);
    let code = crate::memory::thread_allocated() - before;
    drop(src);
    it.code_bytes += code;
    let r = run_statements(it, i, lowered);
    it.code_bytes -= code;
    r
}

/// Run the lowered top level of file `i` (see [`run_file`]).
fn run_statements(it: &mut Interp, i: usize, lowered: ir::Ex) -> Result<(), String> {
    let stmts = match lowered {
        ir::Ex::Block(v) => v,
        other => vec![other],
    };
    let global = it.global.clone();
    let driver = it.files[i] == Path::new(confirm::DRIVER_PATH);
    for (k, st) in stmts.iter().enumerate() {
        let before = it.entries.len();
        let r = it.eval(st, &global);
        // The driver calls one function per line; one that ends abnormally is abandoned
        // (its reason kept for the entries it did not reach) and the next one runs.
        if driver {
            if let Err(e) = &r {
                let reason = match e {
                    Ctrl::Stop(reason) => Some(reason.clone()),
                    Ctrl::Throw(Value::Exc(e)) if e.zygote.is_none() => Some(format!(
                        "uncaught exception: {}",
                        value::cut(e.msg.lines().next().unwrap_or(""))
                    )),
                    Ctrl::Throw(Value::Exc(_)) => None,
                    Ctrl::Throw(other) => {
                        Some(format!("uncaught exception: {}", value::show(other)))
                    }
                    _ => None,
                };
                if let Some(reason) = reason {
                    if reason.starts_with("budget") {
                        return Err(reason);
                    }
                    it.driver_stops.push((k as u32 + 1, reason));
                }
                continue;
            }
        }
        match r {
            Ok(_) => {}
            Err(Ctrl::Stop(reason)) => {
                let entry_failed = it.entries.len() > before
                    && matches!(
                        &it.entries[it.entries.len() - 1].outcome,
                        Outcome::NotRun(n) if n.reason == reason
                    );
                if entry_failed && !reason.starts_with("budget") {
                    continue;
                }
                return Err(reason);
            }
            Err(Ctrl::Throw(exc)) => {
                let from_entry = it.entries.len() > before
                    && !matches!(it.entries[it.entries.len() - 1].outcome, Outcome::Ok { .. });
                let is_zygote = matches!(&exc, Value::Exc(e) if e.zygote.is_some());
                if from_entry || is_zygote {
                    continue;
                }
                let msg = match &exc {
                    Value::Exc(e) => e.msg.clone(),
                    other => value::show(other),
                };
                return Err(format!(
                    "uncaught exception at top level: {}",
                    value::cut(msg.lines().next().unwrap_or(""))
                ));
            }
            Err(Ctrl::Return(_)) | Err(Ctrl::Break) | Err(Ctrl::Continue) => {}
        }
    }
    Ok(())
}

/// `include("file.jl")`: run the matching file (by path suffix) at this point.
pub(crate) fn include(it: &mut Interp, path: &str, span: ir::Span) -> Result<Value, Ctrl> {
    let want = path.trim_start_matches("./");
    let idx = included_file(it, want);
    match idx {
        Some(i) if !it.done[i] => match run_file(it, i) {
            Ok(()) => Ok(Value::Nothing),
            Err(reason) => Err(Ctrl::Stop(reason)),
        },
        Some(_) => Ok(Value::Nothing),
        None => Err(it.unsupported(&format!("include of a file not given ({path})"), span)),
    }
}

/// The first given file whose path is `want` or ends with `/want`: one with `want`'s file
/// name (asking every file at each `include` was quadratic in a program of many files).
fn included_file(it: &mut Interp, want: &str) -> Option<usize> {
    let text = |p: &Path| p.to_string_lossy().replace('\\', "/");
    let last = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let files = &it.files;
    let count = it.sources.len();
    let names = it.file_names.get_or_insert_with(|| {
        let mut names: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (i, f) in files.iter().enumerate().take(count) {
            names.entry(last(&text(f))).or_default().push(i);
        }
        names
    });
    let candidates = names.get(&last(want))?;
    candidates.iter().copied().find(|&i| {
        let p = text(&it.files[i]);
        p == want || p.ends_with(&format!("/{want}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_run_frees_its_closures_and_scopes() {
        let files = [SourceFile {
            path: PathBuf::from("/cycles/main.jl"),
            text:
                "f(x) = x + 1\ng = y -> f(y)\nfunction h()\n    k = () -> k\n    k\nend\nkk = h()\n"
                    .to_string(),
        }];
        // Without collection the scopes outlive the run (the test can fail) ...
        let run = run_program_uncollected(&files, &Options::default());
        assert!(run.stopped.is_none(), "{:?}", run.stopped);
        assert!(interp::live_scopes() > 0);
        interp::break_cycles();
        // ... and with it, nothing is left.
        let run = run_program_here(&files, &Options::default());
        assert!(run.stopped.is_none(), "{:?}", run.stopped);
        assert_eq!(interp::live_scopes(), 0);
    }
}
