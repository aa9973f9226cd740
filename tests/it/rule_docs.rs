//! Every rule's documentation: the *Example* block triggers the rule, the *Use instead*
//! block does not, and every section users rely on is there.

use adlint::rules::all_rules;

/// The first ```julia block after a heading.
fn block_after(docs: &str, heading: &str) -> Option<String> {
    let start = docs.find(heading)? + heading.len();
    let rest = &docs[start..];
    let open = rest.find("```julia\n")? + "```julia\n".len();
    let close = rest[open..].find("```")?;
    Some(rest[open..open + close].to_string())
}

#[test]
fn every_rule_documents_itself() {
    for rule in all_rules() {
        let docs = rule.docs();
        for section in [
            "## What it does",
            "## Why is this bad",
            "## Example",
            "## Use instead",
            "## Fix safety",
        ] {
            assert!(docs.contains(section), "{}: missing {section}", rule.name());
        }
        assert!(!rule.summary().is_empty());
    }
}

#[test]
fn examples_trigger_and_rewrites_do_not() {
    for rule in all_rules() {
        let example = block_after(rule.docs(), "## Example")
            .unwrap_or_else(|| panic!("{}: no example", rule.name()));
        let fixed = block_after(rule.docs(), "## Use instead")
            .unwrap_or_else(|| panic!("{}: no rewrite", rule.name()));
        let got = crate::common::check(&example);
        assert!(
            got.iter().any(|(r, _, _)| r == rule.name()),
            "{}: the example does not trigger it: {got:?}",
            rule.name()
        );
        let got = crate::common::check(&fixed);
        assert!(
            !got.iter().any(|(r, _, _)| r == rule.name()),
            "{}: the rewrite still triggers it: {got:?}",
            rule.name()
        );
    }
}

#[test]
fn names_are_unique_kebab_case() {
    let mut names: Vec<&str> = all_rules().iter().map(|r| r.name()).collect();
    for n in &names {
        assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{n}");
    }
    let len = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), len);
}
