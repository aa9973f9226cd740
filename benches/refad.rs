//! Speed of the reference interpreter: `cargo bench --bench refad`.
//!
//! Prints, for a few programs, the wall time of a run, the evaluation steps it took (the
//! unit of the step budget: one per expression evaluated) and steps per second; then the
//! cost of `--confirm` on the bundled `examples/` project: `analysis::analyze` alone
//! against analysis plus `confirm_diagnostics`. Asserts nothing about time; it checks only
//! that each program ran its entry point as expected, so the figures measure real work.

use adlint::analysis::{self, Options};
use adlint::refad::{self, confirm, Outcome, ProgramRun, SourceFile};
use adlint::workspace::Workspace;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

/// (name, source, whether the entry point must fail in the reverse pass)
const PROGRAMS: &[(&str, &str, bool)] = &[
    (
        "vector loss, 1,000 elements, 100-iteration loop",
        "using Zygote\n\
         function loss(x)\n\
             s = 0.0\n\
             for k in 1:100\n\
                 s += sum(x .* x) / k\n\
             end\n\
             return s\n\
         end\n\
         x = rand(1000)\n\
         gradient(loss, x)\n",
        false,
    ),
    (
        "scalar loop, 100,000 iterations",
        "using Zygote\n\
         function f(a)\n\
             s = 0.0\n\
             for i in 1:100000\n\
                 s += a * i / (i + 1)\n\
             end\n\
             return s\n\
         end\n\
         gradient(f, 2.0)\n",
        false,
    ),
    (
        "mutation found in a 1,000-element fill loop",
        "using Zygote\n\
         function g(x)\n\
             z = similar(x)\n\
             for i in eachindex(x)\n\
                 z[i] = 2 * x[i]\n\
             end\n\
             return sum(z)\n\
         end\n\
         gradient(g, rand(1000))\n",
        true,
    ),
    (
        "Flux: Dense(10 => 32, relu) |> Dense(32 => 1), 20 steps of train!",
        "using Flux\n\
         model = Chain(Dense(10 => 32, relu), Dense(32 => 1))\n\
         x = rand(10, 16)\n\
         y = rand(1, 16)\n\
         opt = Flux.setup(Adam(0.01), model)\n\
         for step in 1:20\n\
             Flux.train!((m, a, b) -> Flux.mse(m(a), b), model, [(x, y)], opt)\n\
         end\n",
        false,
    ),
];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn run_once(src: &str) -> (Duration, ProgramRun) {
    let files = [SourceFile {
        path: PathBuf::from("/adlint-bench/main.jl"),
        text: src.to_string(),
    }];
    let t = Instant::now();
    // Budgets far above the work, so the bench measures instead of stopping.
    let opts = refad::Options {
        budget: refad::Budget {
            max_millis: 600_000,
            ..refad::Budget::default()
        },
        ..refad::Options::default()
    };
    let run = refad::run_program(&files, &opts);
    (t.elapsed(), run)
}

fn main() {
    // `cargo bench` passes `--bench`; there are no other arguments.
    let build = if cfg!(debug_assertions) {
        "debug build: figures are pessimistic"
    } else {
        "release build"
    };
    println!("Reference interpreter ({RUNS} runs each, median; {build})");
    println!(
        "{:<66} {:>10} {:>12} {:>14}",
        "program", "wall", "steps", "steps/s"
    );
    for (name, src, must_fail) in PROGRAMS {
        let mut times = Vec::new();
        let mut steps = 0;
        for _ in 0..RUNS {
            let (t, run) = run_once(src);
            assert!(run.stopped.is_none(), "{name}: {:?}", run.stopped);
            assert!(!run.entries.is_empty(), "{name}: no entry point ran");
            for e in &run.entries {
                let failed = matches!(e.outcome, Outcome::Failed { .. });
                assert!(
                    failed == *must_fail && !matches!(e.outcome, Outcome::NotRun(_)),
                    "{name}: {:?}",
                    e.outcome
                );
            }
            steps = run.steps;
            times.push(t);
        }
        let t = median(times);
        println!(
            "{:<66} {:>7.1} ms {:>12} {:>12.2} M",
            name,
            t.as_secs_f64() * 1000.0,
            steps,
            steps as f64 / t.as_secs_f64() / 1e6
        );
    }

    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let analyse = || {
        let ws = Workspace::discover(std::slice::from_ref(&examples)).expect("examples/");
        analysis::analyze(ws, &Options::default())
    };
    let mut plain = Vec::new();
    let mut confirmed = Vec::new();
    let mut statuses = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        std::hint::black_box(analyse());
        plain.push(t.elapsed());
        let t = Instant::now();
        let mut a = analyse();
        let runs = confirm::confirm_diagnostics(&mut a);
        confirmed.push(t.elapsed());
        for unit in &runs {
            let stop = &unit.run.stopped;
            assert!(stop.is_none(), "examples/{}: {stop:?}", unit.root);
        }
        statuses = a
            .diagnostics
            .iter()
            .map(|d| {
                d.confirmation
                    .as_ref()
                    .map_or("none".to_string(), |c| format!("{:?}", c.status))
            })
            .collect();
    }
    let (plain, confirmed) = (median(plain), median(confirmed));
    println!();
    println!("`adlint check` on examples/ ({RUNS} runs, median)");
    println!(
        "  analysis only           {:>8.1} ms",
        plain.as_secs_f64() * 1000.0
    );
    println!(
        "  analysis + --confirm    {:>8.1} ms  (overhead {:.1} ms, {:.1}x)",
        confirmed.as_secs_f64() * 1000.0,
        (confirmed.as_secs_f64() - plain.as_secs_f64()) * 1000.0,
        confirmed.as_secs_f64() / plain.as_secs_f64()
    );
    println!("  confirmations           {}", statuses.join(", "));
}
