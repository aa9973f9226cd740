//! Backend profiles: reachability, severities and wording read the profile of the entry's
//! backend. Only Zygote's profile ships; a toy profile for another backend shows the seam.

use crate::common::Project;
use adlint::analysis::Options;
use adlint::diagnostic::Severity;
use adlint::knowledge::Profile;

/// A loss with a `try` that cannot throw here and a write into its argument.
fn loss_with(backend: &str) -> String {
    format!(
        "using DifferentiationInterface\n\nfunction loss(x)\n    y = try\n        sqrt(x[1])\n    catch\n        0.0\n    end\n    x[2] = 0.0\n    return sum(x) + y\nend\n\ngradient(loss, {backend}(), rand(3))\n"
    )
}

/// Mooncake as a toy: it differentiates `try` and caps mutation at a warning.
const TOY: &str = r#"
backend = "mooncake"
name = "ToyMooncake"
analysed = true
source = "a test"

[constructs.try-catch]
fails = false
source = "the toy runs catch blocks"

[constructs.mutation]
fails = true
severity = "warning"
source = "the toy says mutation may fail"
"#;

fn findings(p: &Project, options: &Options) -> Vec<(String, usize, Severity, String)> {
    let a = p.analyze_with(options);
    (a.diagnostics.iter())
        .map(|d| {
            let (line, _) = a.line_col(d.location.file, d.location.span.start);
            (d.rule.to_string(), line, d.severity, d.message.clone())
        })
        .collect()
}

#[test]
fn the_zygote_profile_reports_both_constructs() {
    let p = Project::new(&[("main.jl", &loss_with("AutoZygote"))]);
    let found = findings(&p, &Options::default());
    let rules: Vec<(&str, usize)> = found.iter().map(|f| (f.0.as_str(), f.1)).collect();
    assert_eq!(
        rules,
        [("try-catch", 4), ("index-assignment", 9)],
        "{found:?}"
    );
    assert!(found[1].3.contains("(Zygote)"), "{}", found[1].3);
}

#[test]
fn a_backend_without_profile_is_not_analysed() {
    let p = Project::new(&[("main.jl", &loss_with("AutoMooncake"))]);
    assert_eq!(findings(&p, &Options::default()), []);
    let a = p.analyze();
    assert_eq!(a.graph.entries.len(), 0);
    assert_eq!(a.graph.other_entries.len(), 1);
}

#[test]
fn a_toy_profile_decides_what_is_reported_how_and_in_whose_name() {
    let p = Project::new(&[("main.jl", &loss_with("AutoMooncake"))]);
    let options = Options {
        profiles: vec![Profile::parse(TOY).unwrap()],
        ..Default::default()
    };
    let found = findings(&p, &options);
    assert_eq!(found.len(), 1, "{found:?}");
    let (rule, line, severity, message) = &found[0];
    assert_eq!((rule.as_str(), *line), ("index-assignment", 9));
    // The rule says error; the toy caps mutation at a warning.
    assert_eq!(*severity, Severity::Warning);
    assert!(message.contains("(ToyMooncake)"), "{message}");
    // Zygote's entries are judged by Zygote's profile still.
    let z = Project::new(&[("main.jl", &loss_with("AutoZygote"))]);
    assert_eq!(findings(&z, &options).len(), 2);
}
