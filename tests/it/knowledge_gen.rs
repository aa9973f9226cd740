//! The generated knowledge tables: the committed tables are what the generator computes
//! from the committed extracted facts, every row keeps its provenance, and the analysis
//! reads them (rules covering workspace methods by signature, mutating and foreign-call
//! rows reached by exported names or qualified calls, a project's own table).

use crate::common::{findings, run_adlint, Project};
use adlint::generator;
use adlint::knowledge::tables::Tables;
use std::path::Path;

fn knowledge_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/knowledge")
}

#[test]
fn generated_tables_match_the_extracted_facts() {
    let dir = knowledge_dir();
    let sources =
        generator::read_sources(&std::fs::read_to_string(dir.join("sources.toml")).unwrap())
            .unwrap();
    let extracted = generator::read_extracted(&sources, &dir.join("extracted")).unwrap();
    let committed = std::fs::read_to_string(dir.join("generated.tsv")).unwrap();
    let regenerated = generator::tables(&extracted).render();
    assert!(
        committed == regenerated,
        "src/knowledge/generated.tsv is not what the extracted facts give: run `adlint knowledge --builtin src/knowledge/sources.toml`"
    );
    // The facts name the commits `sources.toml` lists.
    for (s, x) in sources.iter().zip(&extracted) {
        assert_eq!(
            (&s.name, &s.repo, &s.commit),
            (&x.source.name, &x.source.repo, &x.source.commit)
        );
    }
}

#[test]
fn every_generated_row_has_its_provenance() {
    let t = Tables::parse(adlint::knowledge::GENERATED).unwrap();
    assert!(t.rules.len() > 1000 && !t.foreign.is_empty() && !t.mutating.is_empty());
    // `owner/name@commit file:line`.
    let provenance = |s: &str| {
        let Some((repo, at)) = s.split_once(' ') else {
            return false;
        };
        let Some((file, line)) = at.rsplit_once(':') else {
            return false;
        };
        repo.contains('/')
            && repo.contains('@')
            && file.ends_with(".jl")
            && line.parse::<u32>().is_ok()
    };
    for r in &t.rules {
        assert!(provenance(&r.source), "rule row without provenance: {r:?}");
    }
    for r in &t.foreign {
        assert!(provenance(&r.source), "{r:?}");
    }
    for r in &t.mutating {
        assert!(provenance(&r.source), "{r:?}");
    }
    // The text form reads back to the same rows.
    assert_eq!(Tables::parse(&t.render()).unwrap(), t);
}

#[test]
fn an_ecosystem_rule_covers_the_workspace_methods_of_its_function_and_signature() {
    // ChainRules declares `@non_differentiable length(::Any)`: Zygote never enters a method
    // of `Base.length`, whatever the argument. Zygote's `@adjoint copy(x::AbstractArray)`
    // does not cover `copy` of a struct that is no array; and a workspace's own `length`
    // (no qualifier, no import) is another function.
    let src = "using Zygote\n\nstruct MyT\n    v::Vector{Float64}\nend\nfunction Base.length(t::MyT)\n    t.v[1] = 0.0\n    return 1\nend\nfunction Base.copy(t::MyT)\n    t.v[1] = 0.0\n    return t\nend\nmodule Own\nfunction length(v)\n    v[1] = 0.0\n    return 1\nend\nend\nloss(t) = Base.length(t) + sum(copy(t).v) + Own.length(t.v)\ngradient(loss, MyT(rand(3)))\n";
    let p = Project::new(&[("main.jl", src)]);
    let a = p.analyze();
    let lines: Vec<usize> = findings(&a).iter().map(|f| f.2).collect();
    assert!(
        !lines.contains(&7),
        "Base.length is covered: {:?}",
        findings(&a)
    );
    assert!(
        lines.contains(&11),
        "Base.copy(::MyT) is not covered: {:?}",
        findings(&a)
    );
    assert!(
        lines.contains(&16),
        "Own.length is no Base.length: {:?}",
        findings(&a)
    );
}

#[test]
fn generated_mutating_and_foreign_rows_are_reported_with_their_source() {
    // NNlib exports `softmax!`, which writes its first argument; LinearAlgebra's generalized
    // `schur(A, B)` ends in LAPACK with no rule. An internal function reached without its
    // module's qualifier is not the package's.
    let src = "using Zygote, NNlib, LinearAlgebra\n\nfunction f(x)\n    y = similar(x)\n    softmax!(y, x)\n    S = schur(x * x', x)\n    _softmax!(y, x)\n    return sum(y) + sum(S.T)\nend\ngradient(f, rand(3, 3))\n";
    let p = Project::new(&[("main.jl", src)]);
    let (code, out, _) = run_adlint(
        &["check", "--output-format", "json", "main.jl"],
        p.dir.path(),
    );
    assert_eq!(code, 1, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let found: Vec<(String, u64, String)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["start"]["line"].as_u64().unwrap(),
                d["knowledge"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let at = |line: u64| found.iter().find(|f| f.1 == line);
    let softmax = at(5).expect("softmax! is reported");
    assert_eq!(softmax.0, "mutating-call");
    assert!(
        softmax.2.starts_with("generated: FluxML/NNlib.jl@")
            && softmax.2.contains("src/softmax.jl:"),
        "{softmax:?}"
    );
    let schur = at(6).expect("schur(A, B) is reported");
    assert_eq!(schur.0, "foreign-call");
    assert!(schur.2.contains("JuliaLang/LinearAlgebra.jl@"), "{schur:?}");
    assert!(
        at(7).is_none(),
        "an internal name without its qualifier: {found:?}"
    );
}

#[test]
fn a_project_table_made_by_adlint_knowledge_is_loaded() {
    // A dependency's checkout: it exports `fill_buf!`, which writes its first argument, and
    // declares a rule for its `helper`, which the project extends.
    let dep = Project::new(&[
        ("Project.toml", "name = \"Dep\"\nversion = \"1.2.0\"\n"),
        (
            "src/Dep.jl",
            "module Dep\nusing ChainRulesCore\nexport fill_buf!\nfunction fill_buf!(buf, x)\n    buf[1] = x\n    return buf\nend\nhelper(x) = x\nChainRulesCore.rrule(::typeof(helper), x::AbstractVector) = helper(x), dy -> (NoTangent(), dy)\nend\n",
        ),
    ]);
    let src = "using Zygote, Dep\n\nfunction Dep.helper(x::Vector{Float64})\n    x[1] = 0.0\n    return x\nend\nfunction f(x)\n    y = zeros(3)\n    fill_buf!(y, x[1])\n    return sum(Dep.helper(x)) + sum(y)\nend\ngradient(f, rand(3))\n";
    let p = Project::new(&[("main.jl", src)]);
    let before: Vec<usize> = findings(&p.analyze()).iter().map(|f| f.2).collect();
    assert!(before.contains(&4) && !before.contains(&9), "{before:?}");

    let (code, _, err) = run_adlint(
        &["knowledge", dep.dir.path().to_str().unwrap()],
        p.dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Dep v1.2.0"), "{err}");
    let table = std::fs::read_to_string(p.path(".adlint/knowledge.tsv")).unwrap();
    assert!(table.contains("mutating\tfill_buf!\tDep"), "{table}");
    let after: Vec<usize> = findings(&p.analyze()).iter().map(|f| f.2).collect();
    assert!(after.contains(&9), "fill_buf! writes y: {after:?}");
    assert!(
        !after.contains(&4),
        "Dep's rule covers Dep.helper: {after:?}"
    );

    // A table that does not parse is a warning, and the rest of the run goes on.
    std::fs::write(p.path(".adlint/knowledge.tsv"), "rule\tbroken\n").unwrap();
    let a = p.analyze();
    assert!(
        a.workspace
            .warnings
            .iter()
            .any(|w| w.contains("knowledge.tsv") && w.contains("not loaded")),
        "{:?}",
        a.workspace.warnings
    );
    assert_eq!(findings(&a).iter().map(|f| f.2).collect::<Vec<_>>(), before);
}

#[test]
fn adlint_knowledge_refuses_what_is_no_folder_and_says_what_it_skips() {
    let p = Project::new(&[("main.jl", "x = 1\n")]);
    let (code, _, err) = run_adlint(&["knowledge", "main.jl"], p.dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("not a folder"), "{err}");
    assert!(!p.path(".adlint").exists());

    // A binary file and broken Julia among a package's files: the first is skipped with
    // its reason, the second read as far as it parses; a folder without src/ is named.
    let dep = Project::new(&[
        ("Project.toml", "name = \"Odd\"\n"),
        ("src/Odd.jl", "module Odd\nexport fill_first!\nfunction fill_first!(a, x)\n    a[1] = x\nend\nfunction broken(\nend\n"),
    ]);
    std::fs::write(dep.path("src/blob.jl"), [0u8, 159, 146, 150, 0, 1]).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = run_adlint(
        &[
            "knowledge",
            dep.dir.path().to_str().unwrap(),
            empty.path().to_str().unwrap(),
            "-o",
            "k.tsv",
        ],
        p.dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("skipped") && err.contains("blob.jl") && err.contains("binary"),
        "{err}"
    );
    assert!(err.contains("no src/ or ext/ folder"), "{err}");
    let table = std::fs::read_to_string(p.path("k.tsv")).unwrap();
    assert!(table.contains("mutating\tfill_first!\tOdd"), "{table}");
}

#[test]
fn a_rule_younger_than_the_manifest_package_does_not_cover() {
    // ChainRules declares `@non_differentiable exponent(::Any)` from 1.72.0 on (read from its
    // releases by the generator); with 1.71 in the manifest, Zygote enters the method.
    let rows = Tables::parse(adlint::knowledge::GENERATED).unwrap();
    let row = rows
        .rules
        .iter()
        .find(|r| r.function == "exponent" && r.package == "ChainRules")
        .expect("the rule");
    assert_eq!(row.since.as_deref(), Some("1.72.0"));
    let src = "using Zygote\n\nstruct MyT\n    v::Vector{Float64}\nend\nfunction Base.exponent(t::MyT)\n    t.v[1] = 0.0\n    return 1\nend\nloss(t) = exponent(t) + sum(t.v)\ngradient(loss, MyT(rand(3)))\n";
    let manifest = |v: &str| {
        format!("julia_version = \"1.11.5\"\nmanifest_format = \"2.0\"\n\n[[deps.ChainRules]]\nuuid = \"082447d4-558c-5d27-93f4-14fc19e9eca2\"\nversion = \"{v}\"\n")
    };
    let lines = |files: &[(&str, &str)]| -> Vec<usize> {
        findings(&Project::new(files).analyze())
            .iter()
            .map(|f| f.2)
            .collect()
    };
    assert!(
        !lines(&[("main.jl", src)]).contains(&7),
        "no manifest: the newest rules"
    );
    let old = manifest("1.71.0");
    assert!(lines(&[("main.jl", src), ("Manifest.toml", &old)]).contains(&7));
    let new = manifest("1.72.0");
    assert!(!lines(&[("main.jl", src), ("Manifest.toml", &new)]).contains(&7));
}

#[test]
fn a_folder_of_installed_versions_stands_for_its_newest() {
    // `~/.julia/packages/Dep` holds one folder per installed version.
    let p = Project::new(&[
        (
            "packages/Dep/Old1/Project.toml",
            "name = \"Dep\"\nversion = \"1.0.0\"\n",
        ),
        (
            "packages/Dep/Old1/src/Dep.jl",
            "module Dep\nexport old_fill!\nfunction old_fill!(a, x)\n    a[1] = x\nend\nend\n",
        ),
        (
            "packages/Dep/New2/Project.toml",
            "name = \"Dep\"\nversion = \"2.0.0\"\n",
        ),
        (
            "packages/Dep/New2/src/Dep.jl",
            "module Dep\nexport new_fill!\nfunction new_fill!(a, x)\n    a[1] = x\nend\nend\n",
        ),
    ]);
    let old = std::fs::File::options()
        .write(true)
        .open(p.path("packages/Dep/Old1/Project.toml"))
        .unwrap();
    old.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000))
        .unwrap();
    let (code, _, err) = run_adlint(&["knowledge", "packages/Dep"], p.dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("Dep v2.0.0") && !err.contains("v1.0.0"),
        "{err}"
    );
    let table = std::fs::read_to_string(p.path(".adlint/knowledge.tsv")).unwrap();
    assert!(
        table.contains("new_fill!") && !table.contains("old_fill!"),
        "{table}"
    );
}
