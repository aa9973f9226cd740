//! Grammar quirks of tree-sitter-julia 0.23.1, each pinned so a grammar upgrade that
//! changes them is noticed, and each shown not to produce a wrong finding.

use crate::common::rules_at;
use adlint::facts::{self, FunctionKind, SiteKind};
use adlint::syntax;

/// Every Julia file of the tests and examples, and the fuzz corpus of `check` (inputs
/// without an extension), with its text (lossily decoded): what grammar-level checks run on.
fn grammar_corpus() -> Vec<(std::path::PathBuf, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["tests", "examples", "fuzz/corpus"] {
        for path in crate::common::files_under(&root.join(dir), &|p| {
            p.extension().is_some_and(|e| e == "jl")
                || p.parent().is_some_and(|d| d.ends_with("check"))
        }) {
            let bytes = std::fs::read(&path).unwrap();
            let src = String::from_utf8_lossy(&bytes).into_owned();
            out.push((path, src));
        }
    }
    out
}

#[test]
fn every_query_compiles_against_the_pinned_grammar() {
    for (name, src) in syntax::QUERY_SOURCES {
        let q = tree_sitter::Query::new(&syntax::language(), src);
        assert!(q.is_ok(), "queries/{name}.scm: {:?}", q.err());
        assert!(q.unwrap().capture_names().len() > 10);
    }
}

#[test]
fn the_facts_capture_table_reads_the_query_as_the_query_engine_does() {
    // Extraction walks the tree and looks node kinds up in a table read from
    // queries/facts.scm instead of running the query: both must capture the same nodes,
    // on clean files, broken ones (ERROR and MISSING nodes) and the fuzz corpora.
    let mut sources: Vec<(String, String)> = grammar_corpus()
        .into_iter()
        .map(|(path, src)| (path.display().to_string(), src))
        .collect();
    for (i, broken) in [
        "function f(x\n    y = [x[i] for i in 1:3\n",
        "module M\nstruct S\n  const a::Int\nend\nf(x) = x .+ 1\n",
        "try\n  g(x) do y\n    y[1] = 2\ncatch\n",
        "let a = 1, b = (2,\n  @. a = b\nend end end",
    ]
    .into_iter()
    .enumerate()
    {
        sources.push((format!("broken input {i}"), broken.to_string()));
    }
    assert!(sources.len() > 50, "{} sources", sources.len());
    let names = syntax::CaptureTable::facts().capture_names();
    let key = |caps: Vec<(tree_sitter::Node, String)>| {
        let mut k: Vec<_> = caps
            .into_iter()
            .map(|(n, c)| {
                (
                    n.start_byte(),
                    std::cmp::Reverse(n.end_byte()),
                    n.kind_id(),
                    c,
                )
            })
            .collect();
        k.sort();
        k
    };
    let mut differ = Vec::new();
    let mut total = 0;
    for (name, src) in &sources {
        let parsed = syntax::parse(src);
        let root = parsed.tree.root_node();
        let captures = syntax::facts_captures(root, None);
        // The walk's parents are tree-sitter's (in this subtree and in one of its children).
        for c in captures.iter().step_by(3) {
            assert_eq!(c.parent, c.node.parent(), "{name}: {:?}", c.node);
        }
        if let Some(child) = root.named_child(root.named_child_count().saturating_sub(1) as u32) {
            for c in syntax::facts_captures(child, Some(root)) {
                assert_eq!(c.parent, c.node.parent(), "{name}: {:?}", c.node);
            }
        }
        let walked = key((captures.into_iter())
            .map(|c| (c.node, names[c.index as usize].clone()))
            .collect());
        total += walked.len();
        if walked != key(syntax::facts_captures_by_query(root, src)) {
            differ.push(name.clone());
        }
    }
    assert_eq!(differ, Vec::<String>::new(), "of {} sources", sources.len());
    assert!(total > 10_000, "{total} captures");
}

#[test]
fn facts_from_a_transient_parse_are_those_of_a_kept_tree() {
    // `facts::extract` parses into this thread's arena and never deletes the tree;
    // `extract_parsed` reads a tree that tree-sitter allocates with malloc.
    let sources: Vec<(String, String)> = grammar_corpus()
        .into_iter()
        .map(|(path, src)| (path.display().to_string(), src))
        .collect();
    let mut nested = 0;
    for (name, src) in &sources {
        let kept = facts::extract_parsed(src, &syntax::parse(src));
        let transient = syntax::with_transient_parse(src, |root, errors| {
            // A scope inside a scope (rayon may run another file's extraction on this
            // thread while one waits): the inner one gives back only its own memory.
            if nested < 3 {
                nested += 1;
                let inner = facts::extract("f(x) = x .= 1\ngradient(f, x)\n");
                assert_eq!(inner.functions.len(), 2, "{name}");
            }
            (root.to_sexp(), errors, facts::extract(src))
        });
        assert_eq!(
            transient.0,
            syntax::parse(src).tree.root_node().to_sexp(),
            "{name}"
        );
        assert_eq!(transient.1, kept.parse_errors, "{name}");
        assert_eq!(format!("{:?}", transient.2), format!("{kept:?}"), "{name}");
    }
    syntax::release_parse_memory();
}

#[test]
fn a_parse_larger_than_the_arena_takes_the_rest_from_malloc() {
    // About 400 MB of tree-sitter's blocks: past the arena's 256 MB, they come from
    // malloc, and the tree is then deleted node by node as usual.
    let src = "x = 1\n".repeat(900_000);
    let spills = syntax::parse_memory_spills();
    let (statements, errors) =
        syntax::with_transient_parse(&src, |root, errors| (root.named_child_count(), errors));
    assert!(syntax::parse_memory_spills() > spills);
    assert_eq!((statements, errors), (900_000, 0));
    syntax::release_parse_memory();
}

#[test]
fn the_capture_table_refuses_patterns_that_need_the_query_engine() {
    for bad in [
        "(call_expression (identifier)) @call",
        "(call_expression function: (identifier)) @call",
        "((identifier) @ident (#eq? @ident \"x\"))",
        "(identifier)",
        "@ident",
        "(no_such_kind) @ident",
        "(identifier) @",
        "(identifier) @(call)",
    ] {
        assert!(syntax::CaptureTable::read(bad).is_err(), "accepted `{bad}`");
    }
    assert!(syntax::CaptureTable::read("[(identifier) (assignment)] @ident ; x\n").is_ok());
}

#[test]
fn not_equal_after_a_bang_name_is_not_an_assignment() {
    // `x!=0` parses as the assignment `x! = 0`; `m.w!=0` as a field assignment.
    let src = "using Zygote\nfunction f(x)\n    y = x!=0\n    m.w!=0\n    sum(x)\nend\ngradient(f, rand(3))\n";
    let facts = facts::extract(src);
    assert!(facts.assigns.iter().all(|a| a.var != "x!"));
    assert!(facts
        .sites
        .iter()
        .all(|s| !matches!(s.kind, SiteKind::FieldAssign { .. })));
    assert_eq!(rules_at(src), Vec::<String>::new());
}

#[test]
fn const_field_in_mutable_struct_does_not_swallow_what_follows() {
    let src = "mutable struct S\n    const a::Int\n    b\nend\nfunction g(x)\n    x[1] = 0\nend\n";
    let facts = facts::extract(src);
    assert_eq!(
        facts.parse_errors, 0,
        "the const field is masked before parsing"
    );
    assert!(facts.structs.iter().any(|s| s.name == "S" && s.mutable));
    assert!(facts
        .functions
        .iter()
        .any(|f| f.name.as_deref() == Some("g")));
}

#[test]
fn trailing_comma_destructuring_is_an_error_node_but_the_rest_survives() {
    let src = "a, = f()\nfunction g(x)\n    x[1] = 0\nend\n";
    let facts = facts::extract(src);
    assert!(facts.parse_errors > 0);
    assert!(facts
        .functions
        .iter()
        .any(|f| f.name.as_deref() == Some("g")));
    assert_eq!(facts.sites.len(), 1);
}

#[test]
fn updates_and_broadcast_assignments_share_a_node_kind() {
    let src = "function f(x, tot)\n    tot += x\n    x .= 1\nend\n";
    let facts = facts::extract(src);
    let kinds: Vec<&str> = facts
        .sites
        .iter()
        .map(|s| match &s.kind {
            SiteKind::BroadcastAssign { .. } => "broadcast",
            SiteKind::IndexAssign { .. } => "index",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["broadcast"],
        "`tot += x` is a re-binding, not a site"
    );
    assert!(facts.assigns.iter().any(|a| a.var == "tot"));
}

#[test]
fn threads_macro_qualifier_is_a_sibling() {
    let src = "Threads.@threads for i in 1:3\n    x[i] = i\nend\n";
    let facts = facts::extract(src);
    let path = facts
        .sites
        .iter()
        .find_map(|s| match &s.kind {
            SiteKind::Macro { path } => Some(*path),
            _ => None,
        })
        .unwrap();
    assert_eq!(path.as_slice(), ["Threads", "@threads"]);
    assert!(facts
        .functions
        .iter()
        .any(|f| f.kind == FunctionKind::MacroClosure));
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let depth = 100_000;
    let src = format!("x = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || facts::extract(&src).parse_errors)
        .unwrap();
    handle.join().expect("no stack overflow on a small stack");
}

#[test]
fn broken_files_still_yield_definitions_inside_error_nodes() {
    let src = "using Zygote\nfunction h(x)\n    z = similar(x)\n    z[1] = 1.0\n    sum(z)\nend\n)))\ngradient(h, rand(3))\n";
    let facts = facts::extract(src);
    assert!(facts.parse_errors > 0);
    assert_eq!(rules_at(src), ["index-assignment@4:5"]);
}

/// Parse speed on a file named by `ADLINT_PARSE_FILE` (a probe, not a test of speed):
/// `ADLINT_PARSE_FILE=path cargo test --test it parse_probe -- --ignored --nocapture`.
#[test]
#[ignore]
fn parse_probe() {
    let Ok(path) = std::env::var("ADLINT_PARSE_FILE") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let t = std::time::Instant::now();
    let p = syntax::parse(&text);
    let s = t.elapsed().as_secs_f64();
    println!(
        "{} bytes, {} errors, {:.3} s, {:.2} MB/s",
        text.len(),
        p.error_count,
        s,
        text.len() as f64 / s / 1e6
    );
}

/// Characters the lexer consumed while parsing `src` with `language` (from tree-sitter's
/// own log), a count that does not depend on the machine's speed.
fn lexed_characters(language: &tree_sitter::Language, src: &str) -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(language).unwrap();
    let c = count.clone();
    parser.set_logger(Some(Box::new(move |kind, msg| {
        if kind == tree_sitter::LogType::Lex && msg.starts_with("consume character") {
            c.fetch_add(1, Ordering::Relaxed);
        }
    })));
    parser.parse(src, None).unwrap();
    count.load(Ordering::Relaxed)
}

/// A stack version that dies (here after `4f0 * sum(...)`, where the grammar keeps two
/// readings) makes tree-sitter lex again in error mode, where the shipped scanner scans a
/// block comment's rest to the end of the file. With the guard, lexing stays linear.
#[test]
fn lexing_stays_linear_where_a_parse_stack_version_dies() {
    assert!(syntax::scanner_guard_active());
    let mut src = "reg = 4f0 * sum(abs2, x)\n".repeat(40);
    src.push_str(&"z = 1\n".repeat(2000));
    let shipped = lexed_characters(&syntax::shipped_language(), &src);
    let guarded = lexed_characters(&syntax::language(), &src);
    assert!(
        guarded < src.len(),
        "{guarded} characters lexed for {}",
        src.len()
    );
    assert!(
        shipped > 20 * src.len(),
        "the shipped scanner no longer runs away ({shipped} for {}): the guard may go",
        src.len()
    );
}

/// The guard changes nothing but speed: every tree of the test corpora, the examples and
/// the fuzz corpora (broken files included) is the tree the shipped grammar gives.
#[test]
fn the_scanner_guard_keeps_every_tree() {
    let files = grammar_corpus();
    assert!(files.len() > 50, "{} files", files.len());
    let parse = |language: &tree_sitter::Language, src: &str| {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(language).unwrap();
        let tree = parser.parse(src, None).unwrap();
        syntax::outline(&tree)
    };
    let mut differ = Vec::new();
    for (path, src) in &files {
        if parse(&syntax::shipped_language(), src) != parse(&syntax::language(), src) {
            differ.push(path.display().to_string());
        }
    }
    assert_eq!(differ, Vec::<String>::new(), "of {} files", files.len());
}

#[test]
fn a_call_keeps_its_first_65535_arguments() {
    // Argument ranges are six bytes: a longer list loses its tail, not the call.
    let src = format!("g(x{})\nh(1, 2)\n", ", 1".repeat(70_000));
    let facts = facts::extract(&src);
    let lens: Vec<(String, usize)> = (facts.calls.iter())
        .map(|c| (c.callee.join("."), facts.args(c.args).len()))
        .collect();
    assert_eq!(lens, [("g".to_string(), 65_535), ("h".to_string(), 2)]);
}

#[test]
fn variable_reads_are_kept_in_closures_and_inner_functions_only() {
    // Reads matter for captures: in closures, and in functions inside other functions.
    // The extraction looks for identifiers only inside such functions' nodes.
    let src = "\
a = 1
g(x) = x + a
function outer(x)
    y = x + a
    h = z -> z + y
    function inner(w)
        w * y
    end
    map(v -> begin
        function deeper(q) q + v end
        deeper(v)
    end, x)
end
f2 = t -> t + a
";
    let facts = facts::extract(src);
    let lines = syntax::LineIndex::new(src);
    let refs: Vec<(String, String, usize)> = (facts.refs.iter())
        .map(|r| {
            let f = &facts.functions[r.func as usize];
            let owner = f
                .name
                .map_or_else(|| format!("{:?}", f.kind), |n| n.to_string());
            let line = lines.position(src, r.span.start as usize).line as usize + 1;
            (owner, r.name.to_string(), line)
        })
        .collect();
    let expected = [
        ("Anonymous", "z", 5),
        ("Anonymous", "y", 5),
        ("inner", "w", 7),
        ("inner", "y", 7),
        ("deeper", "q", 10),
        ("deeper", "v", 10),
        ("Anonymous", "deeper", 11),
        ("Anonymous", "v", 11),
        ("Anonymous", "t", 14),
        ("Anonymous", "a", 14),
    ];
    let expected: Vec<(String, String, usize)> = (expected.iter())
        .map(|&(f, n, l)| (f.to_string(), n.to_string(), l))
        .collect();
    assert_eq!(refs, expected);
}
