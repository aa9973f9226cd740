//! Phases that were quadratic in the size of one input, found by the fuzz driver's
//! `--scale` mode (`cargo run --release --example fuzz -- --scale`), each at a size where
//! the quadratic version took minutes in this (debug) build and the linear one takes a
//! second or two. The inputs are the driver's own shapes (`fuzz/stable/shapes.rs`).
//!
//! Each runs under a generous guard ([`GUARD`]): it tells "linear" from "quadratic" by
//! orders of magnitude, not a slow machine from a fast one. Where the work can be counted
//! without a clock (the columns of a long line), it is.

#[allow(dead_code)]
#[path = "../../fuzz/stable/shapes.rs"]
mod shapes;

use adlint::analysis::{Analysis, Options};
use adlint::workspace::Workspace;
use std::path::Path;
use std::time::Duration;

/// Longest one case may take: its linear version takes a second or a few in a debug build,
/// its quadratic one took three to ten minutes.
const GUARD: Duration = Duration::from_secs(60);

/// Runs `work` on a thread and fails when it is not done within [`GUARD`].
fn within_guard<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .stack_size(adlint::syntax::PARSE_STACK)
        .spawn(move || {
            let _ = tx.send(work());
        })
        .expect("a thread");
    match rx.recv_timeout(GUARD) {
        Ok(v) => v,
        Err(_) => panic!("{what}: not done after {GUARD:?}, quadratic again?"),
    }
}

fn shape(name: &str, n: usize) -> shapes::Files {
    let s = (shapes::SHAPES.iter())
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no shape {name}"));
    (s.gen)(n)
}

fn workspace(files: &shapes::Files) -> Workspace {
    let root = Path::new("/scaling");
    Workspace::from_sources(
        root,
        (files.iter())
            .map(|(p, t)| (root.join(p), t.clone()))
            .collect(),
    )
}

/// The check with fixes (`adlint check`'s default output builds them).
fn check_with_fixes(name: &'static str, n: usize) -> Analysis {
    within_guard(name, move || {
        adlint::fix::analyze(workspace(&shape(name, n)), &Options::default())
    })
}

/// The output of `a` in `format`, under the guard.
fn render(format: adlint::render::Format, a: Analysis) -> Vec<u8> {
    within_guard("render", move || {
        let mut out = Vec::new();
        adlint::render::write(format, &a, &mut out, false).unwrap();
        out
    })
}

/// `adlint confirm FILE` of the first file of `files`, as its report says it, under the
/// guard (the interpreter's own time budget raised out of the way).
fn confirm_file(files: shapes::Files) -> String {
    within_guard("confirm FILE", move || {
        let a = adlint::fix::analyze(workspace(&files), &Options::default());
        let main = Path::new("/scaling").join(&files[0].0);
        let program = adlint::refad::confirm::program_files(&a, Some(&main));
        let options = adlint::refad::Options {
            budget: adlint::refad::Budget {
                max_millis: 600_000,
                ..Default::default()
            },
            ..adlint::refad::confirm::options_for(&a)
        };
        let run = adlint::refad::run_program(&program.files, &options);
        let mut out = Vec::new();
        adlint::refad::confirm::report(&a, &program, &run, &main, None, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    })
}

/// The findings `check --confirm` confirmed.
fn confirmed(a: &Analysis) -> usize {
    (a.diagnostics.iter())
        .filter(|d| {
            d.message
                .ends_with("[confirmed by the reference interpreter]")
        })
        .count()
}

fn count(a: &Analysis, rule: &str) -> usize {
    a.diagnostics.iter().filter(|d| d.rule == rule).count()
}

/// 8,000 writes into one parameter in one function: the non-mutating variant's builder
/// looked at the whole function for each write (it depends on the variable only).
#[test]
fn writes_into_one_parameter_build_one_variant() {
    let a = check_with_fixes("many-findings", 8000);
    assert_eq!(count(&a, "index-assignment"), 8000);
}

/// 4,000 locals each allocated and written whole in one function: the re-binding fix of
/// each walked the function for the local's mentions.
#[test]
fn locals_written_whole_in_one_function_are_fixed_in_linear_time() {
    let a = check_with_fixes("fixable-one-function", 4000);
    assert_eq!(count(&a, "broadcast-assignment"), 4000);
    let last = (a.diagnostics.iter())
        .rfind(|d| d.rule == "broadcast-assignment")
        .unwrap();
    assert!(
        last.fixes
            .iter()
            .any(|f| f.title.starts_with("Bind a new array")),
        "{:?}",
        last.fixes.iter().map(|f| &f.title).collect::<Vec<_>>()
    );
}

/// 4,000 closures in one function, each with a finding: the `rrule` skeleton of the
/// function around them was built again for each closure.
#[test]
fn closures_in_one_function_share_its_rrule_skeleton() {
    let a = check_with_fixes("many-closures", 4000);
    assert_eq!(count(&a, "index-assignment"), 4000);
    let skeletons: std::collections::HashSet<String> = (a.diagnostics.iter())
        .flat_map(|d| &d.fixes)
        .filter(|f| f.title.contains("rrule"))
        .map(|f| f.edits[0].replacement.clone())
        .collect();
    assert_eq!(skeletons.len(), 1, "one skeleton for the one function");
}

/// The functions around a place, found from where functions start and their parents (the
/// fix builders and `adlint graph` asked every function of the file once per finding,
/// quadratic in a file of many functions with findings), are those that contain it, inner
/// first.
#[test]
fn functions_around_a_place_by_start_are_those_that_contain_it() {
    for (name, n) in [
        ("nested-function", 40),
        ("nested-closure", 40),
        ("nested-do", 40),
        ("nested-module", 20),
        ("many-closures", 50),
        ("many-fixable-functions", 50),
        ("call-chain", 50),
    ] {
        let files = shape(name, n);
        let a = adlint::analysis::analyze(workspace(&files), &Options::default());
        for facts in &a.facts {
            let by_start = adlint::facts::FunctionsByStart::new(facts);
            let places = (facts.calls.iter().map(|c| c.span))
                .chain(facts.assigns.iter().map(|a| a.span))
                .chain(facts.functions.iter().map(|f| f.span));
            for at in places {
                let mut naive: Vec<(u32, u32)> = (facts.functions.iter().enumerate())
                    .filter(|(_, f)| f.span.contains(at))
                    .map(|(i, f)| (f.span.start, i as u32))
                    .collect();
                naive.sort_by(|x, y| y.cmp(x));
                let found: Vec<u32> = by_start.around(facts, at).collect();
                let naive: Vec<u32> = naive.into_iter().map(|(_, i)| i).collect();
                assert_eq!(found, naive, "{name}: around {at:?}");
            }
        }
    }
}

/// 12,000 calls of one name of 12,000 methods (`g(x::Val{i})`), none of which an argument can
/// refuse: each call looked up the name's methods again and at every method's parameters
/// (fuzz --scale: check exponent 2.35, the language server's 1.9).
#[test]
fn calls_of_one_name_of_many_methods() {
    let a = check_with_fixes("many-calls-one-name", 12_000);
    assert_eq!(count(&a, "index-assignment"), 1);
}

/// 16,000 methods of one name, each for its own struct (`g(::T1, x)`), each called once:
/// each call looked at every method's annotation (8,000: 4.6 s in a release build). An
/// index by annotated type gives each call the few methods its argument's type may run.
#[test]
fn calls_of_one_name_with_a_method_per_type() {
    let a = check_with_fixes("methods-one-per-type", 16_000);
    assert_eq!(count(&a, "index-assignment"), 1);
    let d = &a.diagnostics[0];
    assert!(
        d.chain.iter().all(|s| !s.possible),
        "certain: {:?}",
        d.chain
    );
}

/// 32,000 inner functions each nested in the one before: the boxed-variable rule gathered
/// the references and assignments of all the code inside each closure to find the
/// variables it captures (fuzz --scale: check exponent 1.83).
#[test]
fn inner_functions_nested_deep() {
    let a = check_with_fixes("nested-function", 32_000);
    assert_eq!(count(&a, "index-assignment"), 1);
}

/// 32,000 do-blocks each nested in the one before, each calling `foreach`: each call looked
/// for a local `foreach` through every function around it (fuzz --scale: check exponent
/// 1.73, lsp-edit 1.96).
#[test]
fn do_blocks_nested_deep() {
    let a = check_with_fixes("nested-do", 32_000);
    assert_eq!(count(&a, "index-assignment"), 1);
}

/// 8,000 `try` blocks each nested in the one before: each asked tree-sitter for its parent
/// (to point `y = try ... end` at the assignment), which searches down from the root
/// (fuzz --scale: check exponent 1.69, lsp-edit 2.04; 6.8 s at this size in a release
/// build).
#[test]
fn try_blocks_nested_deep() {
    let a = check_with_fixes("nested-try", 8_000);
    assert_eq!(count(&a, "try-catch"), 8_000);
}

/// 2,000 closures each nested in the one before, each re-binding the captured `g` and
/// writing into `x`: each of the 4,000 findings listed a call chain as long as its depth
/// and every other assignment of `g` (13 GB and a minute for JSON output at this size; at
/// 4,000 levels the process was killed at 24 GB). Chains keep their ends and related
/// places the first few, so the output grows with the input.
#[test]
fn closures_rebinding_a_captured_variable_nested_deep() {
    use adlint::diagnostic::{CHAIN_ENDS, MAX_RELATED};
    let n = 2_000;
    let a = check_with_fixes("nested-closure-writes", n);
    assert_eq!(count(&a, "index-assignment"), n);
    // Every assignment of `g` but one is a re-binding.
    assert_eq!(count(&a, "boxed-variable"), n - 1);
    let deepest = (a.diagnostics.iter()).map(|d| d.chain_len()).max().unwrap();
    assert!(deepest >= n, "the whole chain is counted: {deepest}");
    for d in &a.diagnostics {
        assert!(
            d.chain.len() <= 2 * CHAIN_ENDS,
            "{} steps kept",
            d.chain.len()
        );
        assert_eq!(d.chain_skipped() + d.chain.len(), d.chain_len());
        assert!(d.related.len() <= MAX_RELATED);
    }
    let long = (a.diagnostics.iter())
        .find(|d| d.rule == "boxed-variable" && d.chain_skipped() > 0)
        .expect("a finding deep inside");
    assert!(
        long.message.contains("are listed, not the others"),
        "{}",
        long.message
    );
    // Steps are numbered in the whole chain: the last kept one is the last step.
    let (last, _) = long.chain_steps().last().unwrap();
    assert_eq!(last + 1, long.chain_len());
    let json = render(adlint::render::Format::Json, a);
    assert!(
        json.len() < 4 * n * 10_000,
        "{} bytes of JSON for {} findings",
        json.len(),
        2 * n
    );
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let skipped: u64 = (doc["diagnostics"].as_array().unwrap().iter())
        .flat_map(|d| d["chain"].as_array().unwrap())
        .filter_map(|s| s["skipped"].as_u64())
        .sum();
    assert!(skipped > 0, "left-out steps are said in JSON");
}

/// 8,000 functions each calling the next, each writing into its argument: each finding
/// walked back through every caller to count the entries that reach it.
#[test]
fn writes_along_a_long_call_chain() {
    let n = 8_000;
    let a = check_with_fixes("call-chain-writes", n);
    assert_eq!(count(&a, "index-assignment"), n);
    assert!(a.diagnostics.iter().all(|d| d.entry_count == 1));
    let deepest = a.diagnostics.iter().map(|d| d.chain_len()).max().unwrap();
    assert_eq!(deepest, n, "the entry call and a step per function called");
    // The full output draws each finding's chain across the file: ariadne walked every
    // line between its ends, for each finding (4.8 s at this size in a release build).
    let text = String::from_utf8(render(adlint::render::Format::Full, a)).unwrap();
    // The chain's far steps are blocks of their own, each naming its place.
    let last = text.rsplit("[index-assignment]").next().unwrap();
    assert!(last.matches("├─[ ").count() >= 3, "{last}");
}

/// 4,000 named functions each nested in the one before, each writing into `x`: the
/// builders that look at a whole function (an `rrule` skeleton, a ForwardDiff wrap) looked
/// at each function with all those inside it (20 s in a release build; 16,000 took over
/// five minutes). They now spend at most a few times the file's size, and the functions
/// past that say so in their help.
#[test]
fn whole_function_fixes_of_functions_nested_deep() {
    let n = 4_000;
    let a = check_with_fixes("nested-function-writes", n);
    assert_eq!(count(&a, "index-assignment"), n);
    let declined = (a.diagnostics.iter())
        .filter(|d| (d.help.as_deref()).is_some_and(|h| h.contains("no rewrite of")))
        .count();
    assert!(declined > 0 && declined < n, "{declined} of {n} declined");
    assert!(a.diagnostics.iter().any(|d| !d.fixes.is_empty()));
}

/// 16,000 closures in one function, each capturing `g`, which the function re-binds
/// before each: every closure gathered and sorted all 16,000 assignments (3.8 s in a
/// release build, for one finding).
#[test]
fn many_closures_capturing_one_boxed_variable() {
    let a = check_with_fixes("many-closures-one-boxed", 16_000);
    assert_eq!(count(&a, "boxed-variable"), 1);
    let d = (a.diagnostics.iter())
        .find(|d| d.rule == "boxed-variable")
        .unwrap();
    assert_eq!(d.related.len(), adlint::diagnostic::MAX_RELATED);
}

/// 12,000 writes into a local allocated again before each: the origin of the local at
/// each write followed all 12,000 assignments, although its step budget was spent after
/// a few hundred (2.9 s for 8,000 in a release build).
#[test]
fn writes_into_a_local_allocated_again_before_each() {
    let a = check_with_fixes("reallocated-writes", 12_000);
    assert_eq!(count(&a, "index-assignment"), 12_000);
}

/// 4,000 `if` blocks each nested in the one before, each writing into `x`: the full
/// output, with the fixes of every finding (each found its node from the root).
#[test]
fn writes_at_every_level_of_nested_ifs() {
    let n = 4_000;
    let a = check_with_fixes("nested-if-writes", n);
    assert_eq!(count(&a, "index-assignment"), n);
    let text = render(adlint::render::Format::Full, a);
    assert!(!text.is_empty());
}

/// 20,000 rebindings `y = identity(y)` in one function: the argument of each call gathered
/// every assignment of `y`, although the search's step budget visits a few hundred
/// (fuzz --scale: check exponent about 2.0; 3.3 s at this size in a release build).
#[test]
fn a_variable_rebound_many_times() {
    let a = check_with_fixes("rebinding", 20_000);
    assert_eq!(count(&a, "index-assignment"), 1);
}

/// `adlint graph` of 2,000 entries, each reaching a function with a finding.
#[test]
fn graph_of_many_entries() {
    let (a, dot) = within_guard("many-entry-functions", || {
        let files = shape("many-entry-functions", 2000);
        let a = adlint::analysis::analyze(workspace(&files), &Options::default());
        let mut out = Vec::new();
        adlint::render::graph::write_dot(&a, None, &mut out).unwrap();
        (a, String::from_utf8(out).unwrap())
    });
    assert_eq!(count(&a, "index-assignment"), 2000);
    assert_eq!(dot.matches("entry: Zygote.gradient").count(), 2000);
}

/// 120,000 integer literals in one function: the type-changing-rebinding rule looked for
/// an update of each among all of the file's assignments.
#[test]
fn integer_literals_in_a_long_function() {
    let a = within_guard("many-lines", || {
        adlint::analysis::analyze(
            workspace(&shape("many-lines", 120_000)),
            &Options::default(),
        )
    });
    assert_eq!(count(&a, "index-assignment"), 1);
}

/// 30,000 suppression comments: each looked for the function, sites and calls starting on
/// the line after it among all of the file's.
#[test]
fn many_suppression_comments() {
    let a = within_guard("many-ignores", || {
        adlint::analysis::analyze(
            workspace(&shape("many-ignores", 30_000)),
            &Options::default(),
        )
    });
    assert!(a.diagnostics.is_empty(), "every write is suppressed");
}

/// Columns on one line of 3 MB with characters outside ASCII every 8 bytes: each was
/// counted from the line's start (for a finding every few bytes, the square of the line).
/// The columns are checked against a count from the start, then 100,000 of them are asked
/// for: a few kilobytes of counting each now, a megabyte and a half each before.
#[test]
fn columns_far_into_a_long_line_are_counted_from_marks() {
    use adlint::syntax::LineIndex;
    let text = "x = 1; ".to_string() + &"αβ = 1; ".repeat(300_000) + "\n";
    let index = LineIndex::new(&text);
    let naive = |byte: usize| {
        let s = &text[..byte];
        (
            s.chars().count(),
            s.chars().map(char::len_utf16).sum::<usize>(),
        )
    };
    for k in 0..200usize {
        let byte = floor_boundary(&text, (k * 9973 * 2) % text.len());
        let (chars, utf16) = naive(byte);
        assert_eq!(
            index.position(&text, byte).column as usize,
            chars,
            "at {byte}"
        );
        assert_eq!(
            index.utf16_column(&text, byte).1 as usize,
            utf16,
            "at {byte}"
        );
    }
    within_guard("columns", move || {
        let mut total = 0u64;
        for k in 0..100_000usize {
            let byte = floor_boundary(&text, text.len() - 2 - (k * 7) % (text.len() / 2));
            total += index.utf16_column(&text, byte).1 as u64;
        }
        assert!(total > 0);
    });
}

fn floor_boundary(text: &str, mut byte: usize) -> usize {
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    byte
}

/// 24,000 files included by one: each `include` in the reference interpreter looked for
/// its file among all of them, and `adlint confirm FILE` asked every file for the includes
/// of each file of the program.
#[test]
fn a_program_of_many_included_files() {
    let files = shape("many-includes", 24_000);
    let run = within_guard("many-includes", move || {
        let sources: Vec<adlint::refad::SourceFile> = (files.iter())
            .map(|(p, t)| adlint::refad::SourceFile {
                path: Path::new("/scaling").join(p),
                text: t.clone(),
            })
            .collect();
        let options = adlint::refad::Options {
            budget: adlint::refad::Budget {
                max_millis: 600_000,
                ..Default::default()
            },
            ..Default::default()
        };
        adlint::refad::run_program(&sources, &options)
    });
    assert!(run.stopped.is_none(), "{:?}", run.stopped);
    assert_eq!(run.entries.len(), 1);
}

/// `check --confirm` of 3,000 functions, each with a finding and its own entry point: each
/// finding looked for its entry's runs, and for a failing site, among all runs (fuzz
/// --scale: confirm exponent 1.7). Not timed here (the quadratic part took seconds at this
/// size): the runs and failing sites, now looked up, confirm every finding.
#[test]
fn confirming_many_findings_with_their_own_entry_points() {
    let mut a = check_with_fixes("many-entry-functions", 3000);
    let (a, runs) = within_guard("confirm", move || {
        let runs = adlint::refad::confirm::confirm_diagnostics(&mut a);
        (a, runs)
    });
    // One file: one program.
    let [unit] = &runs[..] else {
        panic!("{} programs ran", runs.len())
    };
    assert!(unit.run.stopped.is_none(), "{:?}", unit.run.stopped);
    assert_eq!(unit.run.entries.len(), 3000);
    let confirmed = confirmed(&a);
    assert_eq!(confirmed, 3000);
}

/// `adlint confirm FILE` of one function differentiated by 6,000 top-level calls, each an
/// entry point of its own: the report asked every run whether each entry point ran, and
/// the interpreter counted the runs so far at each call site it recorded (fuzz --scale:
/// confirm-file exponent 1.8). Not timed here either: every entry point is reported as run.
#[test]
fn confirming_a_file_of_many_entry_calls() {
    let out = confirm_file(shape("many-entries", 6000));
    let runs = out
        .lines()
        .filter(|l| l.contains(": Zygote.gradient: ") || l.contains(": gradient: "))
        .count();
    assert_eq!(
        runs,
        6000,
        "{}",
        out.lines().take(8).collect::<Vec<_>>().join("\n")
    );
    assert!(!out.contains("did not run"), "every entry point ran");
}

/// `adlint confirm FILE` of 8,000 methods of one name, one per struct, each called once:
/// the interpreter compared each new method's signature with every earlier one and, at
/// each call, copied and scored every method (fuzz --scale: interpret exponent 1.4, 3 s
/// at 255 KB). Methods are filed by the struct their first parameter names.
#[test]
fn confirming_calls_of_one_name_with_a_method_per_type() {
    let out = confirm_file(shape("methods-one-per-type", 8000));
    // `g(::Bad, x)` writes into its argument: the run reaches it through all the others.
    assert!(out.contains("Zygote fails"), "{out}");
    assert!(out.contains("Mutating arrays is not supported"), "{out}");
}

/// `check --confirm` of 4,000 findings on one line, each a failing site of the one run:
/// each finding tried every failing site that starts earlier on its line, and each try
/// looked for the end of that site's line (fuzz --scale: confirm exponent 2.9, killed at
/// 2,000). Not timed here: the sites that reach over a finding, found by descending a tree
/// of where their first lines end, confirm every finding.
#[test]
fn confirming_many_findings_on_one_line() {
    let mut a = check_with_fixes("many-findings-one-line", 4000);
    assert_eq!(count(&a, "index-assignment"), 4000);
    let (a, runs) = within_guard("confirm", move || {
        let runs = adlint::refad::confirm::confirm_diagnostics(&mut a);
        (a, runs)
    });
    let [unit] = &runs[..] else {
        panic!("{} programs ran", runs.len())
    };
    assert_eq!(unit.run.entries.len(), 1);
    let confirmed = confirmed(&a);
    assert_eq!(confirmed, 4000);
}

/// `adlint confirm FILE` of one function with 40,000 failing writes, each on its own line:
/// the report looked for each failing site among those it had said already (fuzz --scale:
/// confirm-file exponent 1.5 to 1.7 for many findings, loops, `try`s, macros or CRLF
/// lines). Not timed here: each site is said once, in the order the reverse pass met them
/// (the last write first).
#[test]
fn confirming_a_file_of_many_failing_sites() {
    let out = confirm_file(shape("many-findings", 40_000));
    let also: Vec<&str> = out.lines().filter(|l| l.contains("also fails")).collect();
    assert_eq!(
        also.len(),
        39_999,
        "{}",
        out.lines().take(8).collect::<Vec<_>>().join("\n")
    );
    assert!(also[0].ends_with(":40001"), "{}", also[0]);
    assert!(also[39_998].ends_with(":3"), "{}", also[39_998]);
}

/// The default output of 4,000 findings on one line of 72 KB: each printed the whole line
/// (fuzz --scale: render exponent 2.0, 37 MB of output for 1,000 findings, 147 MB for
/// 2,000). A label on a long line is now shown around it: the output is counted, not
/// timed, at a few kilobytes a finding.
#[test]
fn findings_on_a_long_line_print_a_part_of_it() {
    let a = check_with_fixes("many-findings-one-line", 4000);
    assert_eq!(count(&a, "index-assignment"), 4000);
    let out = String::from_utf8(render(adlint::render::Format::Full, a)).unwrap();
    assert!(out.len() < 4000 * 4000, "{} bytes", out.len());
    let shown = out.matches("is on a line of").count();
    assert_eq!(shown, 4000);
    let last = out.rfind("is on a line of").unwrap();
    let excerpt = out[last..].lines().nth(1).unwrap();
    assert!(excerpt.contains("│       … = 1; x[1] = α; "), "{excerpt}");
    assert!(excerpt.chars().count() < 100, "{excerpt}");
}

/// The default output of 2,000 `try` blocks each nested in the one before: each finding's
/// label spanned the thousands of lines inside its block, and ariadne printed them all
/// (fuzz --scale nested-try: render exponent 1.4, 27 MB for 4,000 levels). A label of
/// more lines is shown on its first: counted, not timed.
#[test]
fn findings_on_long_blocks_print_their_first_line() {
    let a = check_with_fixes("nested-try", 2000);
    assert_eq!(count(&a, "try-catch"), 2000);
    let out = String::from_utf8(render(adlint::render::Format::Full, a)).unwrap();
    assert!(out.len() < 2000 * 3000, "{} bytes", out.len());
}
