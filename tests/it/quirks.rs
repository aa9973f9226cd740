//! Grammar quirks of tree-sitter-julia 0.23.1, each pinned so a grammar upgrade that
//! changes them is noticed, and each shown not to produce a wrong finding.

use crate::common::rules_at;
use adlint::facts::{self, FunctionKind, SiteKind};
use adlint::syntax;

#[test]
fn every_query_compiles_against_the_pinned_grammar() {
    for (name, src) in syntax::QUERY_SOURCES {
        let q = tree_sitter::Query::new(&syntax::language(), src);
        assert!(q.is_ok(), "queries/{name}.scm: {:?}", q.err());
        assert!(q.unwrap().capture_names().len() > 10);
    }
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
            SiteKind::Macro { path } => Some(path.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(path, ["Threads", "@threads"]);
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
