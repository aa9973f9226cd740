//! Adopting adlint in a project and in CI: config files (every key, discovery, errors),
//! suppressions under a config, SARIF (validated against the 2.1.0 schema), GitHub
//! annotations, baselines, `--statistics`, `--quiet`, `--threads`.

use crate::common::{run_adlint as adlint, Project};
use serde_json::Value;

/// A package with one mutation reached from a gradient, in `src/`, and one in `test/`.
fn package() -> Project {
    Project::new(&[
        (
            "src/model.jl",
            "using Zygote\n\nfunction fill_ones!(x)\n    x[1] = 1.0\n    return x\nend\n\nloss(y) = sum(fill_ones!(copy(y)))\n\ntrain(y) = Zygote.gradient(loss, y)\n",
        ),
        (
            "test/runtests.jl",
            "using Zygote\n\nfunction scratch(y)\n    z = similar(y)\n    z .= 2 .* y\n    return sum(z)\nend\n\nZygote.gradient(scratch, rand(3))\n",
        ),
    ])
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// (path, rule, severity) of each diagnostic of a JSON run.
fn findings(out: &str) -> Vec<(String, String, String)> {
    json(out)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["rule"].as_str().unwrap().to_string(),
                d["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn check_json(p: &Project, extra: &[&str]) -> (i32, Vec<(String, String, String)>, String) {
    let mut args = vec!["check", ".", "--output-format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = adlint(&args, p.dir.path());
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    (code, findings(&out), err)
}

fn rules_of(f: &[(String, String, String)]) -> Vec<&str> {
    f.iter().map(|(_, r, _)| r.as_str()).collect()
}

#[test]
fn without_config_both_findings() {
    let p = package();
    let (code, f, _) = check_json(&p, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        rules_of(&f),
        ["index-assignment", "broadcast-assignment"],
        "{f:?}"
    );
}

#[test]
fn select_ignore_and_extend_select() {
    let p = package();
    std::fs::write(p.path("adlint.toml"), "select = [\"try-catch\"]\n").unwrap();
    assert!(check_json(&p, &[]).1.is_empty());
    std::fs::write(
        p.path("adlint.toml"),
        "select = [\"try-catch\"]\nextend-select = [\"index-assignment\"]\n",
    )
    .unwrap();
    assert_eq!(rules_of(&check_json(&p, &[]).1), ["index-assignment"]);
    std::fs::write(p.path("adlint.toml"), "ignore = [\"index-assignment\"]\n").unwrap();
    assert_eq!(rules_of(&check_json(&p, &[]).1), ["broadcast-assignment"]);
    // The command line's --select replaces the config's; --ignore adds to it.
    std::fs::write(p.path("adlint.toml"), "select = [\"try-catch\"]\n").unwrap();
    assert_eq!(
        rules_of(&check_json(&p, &["--select", "mutation"]).1),
        ["index-assignment", "broadcast-assignment"]
    );
    assert_eq!(
        rules_of(
            &check_json(
                &p,
                &["--select", "mutation", "--ignore", "broadcast-assignment"]
            )
            .1
        ),
        ["index-assignment"]
    );
    assert_eq!(
        rules_of(&check_json(&p, &["--extend-select", "broadcast-assignment"]).1),
        ["broadcast-assignment"]
    );
}

#[test]
fn per_file_ignores_and_severity() {
    let p = package();
    std::fs::write(
        p.path("adlint.toml"),
        "[per-file-ignores]\n\"test/**\" = [\"mutation\"]\n\n[severity]\nindex-assignment = \"warning\"\n",
    )
    .unwrap();
    let (_, f, _) = check_json(&p, &[]);
    assert_eq!(
        f,
        [(
            "src/model.jl".to_string(),
            "index-assignment".to_string(),
            "warning".to_string()
        )]
    );
    // A category's severity applies to its rules; `info` never fails the run.
    std::fs::write(p.path("adlint.toml"), "[severity]\nmutation = \"info\"\n").unwrap();
    let (code, f, _) = check_json(&p, &[]);
    assert_eq!(code, 0);
    assert!(f.iter().all(|(_, _, s)| s == "info"), "{f:?}");
}

#[test]
fn exclude_skips_files_even_when_named() {
    let p = package();
    std::fs::write(p.path("adlint.toml"), "exclude = [\"test\"]\n").unwrap();
    let (_, f, _) = check_json(&p, &[]);
    assert_eq!(rules_of(&f), ["index-assignment"]);
    // A pre-commit hook passing an excluded file: nothing to report, and a note saying why.
    let (code, out, err) = adlint(&["check", "test/runtests.jl"], p.dir.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("test/runtests.jl is excluded by adlint.toml"),
        "{err}"
    );
}

#[test]
fn zygote_version_from_config_and_cli() {
    let p = Project::new(&[(
        "src/a.jl",
        "using Zygote\n\nfunction safe_log(x)\n    try\n        return log(x)\n    finally\n        nothing\n    end\nend\n\nZygote.gradient(safe_log, 2.0)\n",
    )]);
    // try/finally without catch fails only on Zygote <= 0.6.70.
    std::fs::write(p.path("adlint.toml"), "zygote-version = \"0.6.70\"\n").unwrap();
    let (_, f, _) = check_json(&p, &[]);
    assert_eq!(rules_of(&f), ["try-catch"]);
    std::fs::write(p.path("adlint.toml"), "zygote-version = \"0.7.0\"\n").unwrap();
    assert!(check_json(&p, &[]).1.is_empty());
    // The command line wins.
    let (_, f, _) = check_json(&p, &["--zygote-version", "0.6.60"]);
    assert_eq!(rules_of(&f), ["try-catch"]);
}

#[test]
fn entry_points_from_config() {
    let p = Project::new(&[(
        "src/a.jl",
        "using Trainer\n\nfunction loss(x)\n    x[1] = 0.0\n    return sum(x)\nend\n\nTrainer.fit(loss, rand(3))\nfit(loss, rand(3))\n",
    )]);
    assert!(check_json(&p, &[]).1.is_empty(), "unknown API: no entry");
    std::fs::write(
        p.path("adlint.toml"),
        "[entry-points]\n\"Trainer.fit\" = 1\n",
    )
    .unwrap();
    let (code, out, _) = adlint(&["check", ".", "--output-format", "json"], p.dir.path());
    assert_eq!(code, 1);
    let v = json(&out);
    let d = &v["diagnostics"][0];
    assert_eq!(d["rule"], "index-assignment");
    assert_eq!(d["entry"]["api"], "Trainer.fit");
    assert_eq!(d["entry_count"], 2, "the qualified and the `using` form");
    std::fs::write(
        p.path("adlint.toml"),
        "[entry-points]\n\"Trainer.fit\" = { function-arg = 2 }\n",
    )
    .unwrap();
    assert!(
        check_json(&p, &[]).1.is_empty(),
        "argument 2 is not a function"
    );
}

#[test]
fn knowledge_from_config() {
    let p = Project::new(&[(
        "src/a.jl",
        "using Zygote, Buffers\n\nfunction loss(x)\n    y = copy(x)\n    fill_buf!(y, 2.0)\n    return sum(y) * cwrap(x[1])\nend\n\nZygote.gradient(loss, rand(3))\n",
    )]);
    assert!(check_json(&p, &[]).1.is_empty());
    std::fs::write(
        p.path("adlint.toml"),
        "[knowledge]\nmutating = [\"Buffers.fill_buf!\"]\nforeigncall = [\"cwrap\"]\n",
    )
    .unwrap();
    assert_eq!(
        rules_of(&check_json(&p, &[]).1),
        ["mutating-call", "foreign-call"]
    );
    // `has-rule`: the function has a rule elsewhere; adlint does not look into it.
    let q = Project::new(&[(
        "src/a.jl",
        "using Zygote\n\nfunction kernel!(x)\n    x[1] = 0.0\n    return x\nend\n\nloss(x) = sum(kernel!(copy(x)))\nZygote.gradient(loss, rand(3))\n",
    )]);
    assert_eq!(rules_of(&check_json(&q, &[]).1), ["index-assignment"]);
    std::fs::write(
        q.path("adlint.toml"),
        "[knowledge]\nhas-rule = [\"kernel!\"]\n",
    )
    .unwrap();
    assert!(check_json(&q, &[]).1.is_empty());
}

#[test]
fn nearest_config_governs_each_file() {
    let p = package();
    std::fs::write(p.path("adlint.toml"), "ignore = [\"index-assignment\"]\n").unwrap();
    // test/ has its own config: the root's `ignore` does not apply there, its own does.
    std::fs::write(
        p.path("test/.adlint.toml"),
        "ignore = [\"broadcast-assignment\"]\n",
    )
    .unwrap();
    assert!(check_json(&p, &[]).1.is_empty());
    std::fs::remove_file(p.path("test/.adlint.toml")).unwrap();
    assert_eq!(rules_of(&check_json(&p, &[]).1), ["broadcast-assignment"]);
    // adlint.toml is preferred over .adlint.toml in the same directory.
    std::fs::write(p.path(".adlint.toml"), "select = [\"try-catch\"]\n").unwrap();
    assert_eq!(rules_of(&check_json(&p, &[]).1), ["broadcast-assignment"]);
    std::fs::remove_file(p.path("adlint.toml")).unwrap();
    assert!(check_json(&p, &[]).1.is_empty(), ".adlint.toml is used");
}

#[test]
fn whole_program_keys_come_from_the_root_config() {
    let p = package();
    std::fs::write(p.path("test/adlint.toml"), "exclude = [\"*.jl\"]\n").unwrap();
    let (_, f, err) = check_json(&p, &[]);
    assert_eq!(f.len(), 2, "a sub-directory's exclude is ignored: {f:?}");
    assert!(
        err.contains("read only from the package root's config"),
        "{err}"
    );
}

#[test]
fn discovery_stops_at_the_repository_root() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(
        outer.path().join("adlint.toml"),
        "select = [\"try-catch\"]\n",
    )
    .unwrap();
    let repo = outer.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(repo.join("Project.toml"), "name = \"R\"\n").unwrap();
    std::fs::write(
        repo.join("src/a.jl"),
        "using Zygote\nf(x) = (x[1] = 1.0; sum(x))\nZygote.gradient(f, rand(2))\n",
    )
    .unwrap();
    let run = || {
        let (_, out, _) = adlint(&["check", ".", "--output-format", "json"], &repo);
        findings(&out).len()
    };
    assert_eq!(
        run(),
        0,
        "the config above the package applies without a repository"
    );
    std::fs::create_dir(repo.join(".git")).unwrap();
    assert_eq!(run(), 1, "but not above the repository root");
}

#[test]
fn config_and_isolated_flags() {
    let p = package();
    std::fs::write(p.path("adlint.toml"), "select = [\"try-catch\"]\n").unwrap();
    std::fs::write(
        p.path("other.toml"),
        "ignore = [\"broadcast-assignment\"]\n",
    )
    .unwrap();
    assert_eq!(
        rules_of(&check_json(&p, &["--config", "other.toml"]).1),
        ["index-assignment"]
    );
    assert_eq!(check_json(&p, &["--isolated"]).1.len(), 2);
    // Globs of a --config file given by a relative path are relative to its directory.
    std::fs::write(p.path("test/only.toml"), "exclude = [\"runtests.jl\"]\n").unwrap();
    assert_eq!(
        rules_of(&check_json(&p, &["--config", "test/only.toml"]).1),
        ["index-assignment"]
    );
    let (code, _, err) = adlint(&["check", ".", "--config", "missing.toml"], p.dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("cannot read the config"), "{err}");
}

#[test]
fn bad_configs_exit_2_with_place_and_hint() {
    let cases: &[(&str, &str)] = &[
        ("selct = []\n", "adlint.toml:1:1: unknown key `selct` (did you mean `select`?)"),
        ("select = \"mutation\"\n", "adlint.toml:1:10: `select` must be an array of strings, not a string"),
        ("\nignore = [\"index-asignment\"]\n", "adlint.toml:2:11: unknown rule or category `index-asignment` in `ignore` (did you mean `index-assignment`?)"),
        ("[severity]\ntry-catch = \"fatal\"\n", "adlint.toml:2:13: severity `fatal` for `try-catch` is not one of error, warning, info"),
        ("[per-file-ignores]\n\"test/**\" = [\"mutaton\"]\n", "(did you mean `mutation`?)"),
        ("select = [\n", "adlint.toml:1:11: not valid TOML"),
        ("[knowledge]\nforeign = []\n", "unknown key `foreign` in [knowledge] (did you mean `foreigncall`?)"),
        ("zygote-version = 6\n", "`zygote-version` must be a string, not an integer"),
        ("\u{0}\u{1}binary", "not valid TOML"),
    ];
    for (text, expected) in cases {
        let p = package();
        std::fs::write(p.path("adlint.toml"), text).unwrap();
        let (code, out, err) = adlint(&["check", "."], p.dir.path());
        assert_eq!(code, 2, "{text:?}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(
            err.contains(expected),
            "{text:?}: expected {expected:?} in {err}"
        );
    }
}

#[test]
fn suppressions_under_a_config() {
    let p = Project::new(&[(
        "src/a.jl",
        "using Zygote\n\nfunction f(x)\n    # adlint: ignore[boxed-variable] not selected here\n    x[1] = 1.0\n    # adlint: ignore[index-asignment]\n    x[2] = 1.0\n    return sum(x)\nend\n\nZygote.gradient(f, rand(3))\n",
    )]);
    std::fs::write(p.path("adlint.toml"), "ignore = [\"boxed-variable\"]\n").unwrap();
    let (_, out, _) = adlint(&["check", ".", "--output-format", "json"], p.dir.path());
    let v = json(&out);
    let got: Vec<(String, u64)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    // The directive naming a rule the config switches off is not "unused"; the misspelt
    // one is reported (and suppresses nothing).
    assert_eq!(
        got,
        [
            ("index-assignment".to_string(), 5),
            ("unused-suppression".to_string(), 6),
            ("index-assignment".to_string(), 7),
        ],
        "{out}"
    );
    assert!(out.contains("did you mean `index-assignment`"), "{out}");
}

#[test]
fn sarif_is_valid_against_the_2_1_0_schema() {
    let p = Project::new(&[
        (
            "src/model.jl",
            "function g_inner!(x, y)\n    for i in eachindex(x, y)\n        x[i] = 2 * y[i]  # é\n    end\n    return x\nend\n\nfunction g_outer(y)\n    z = similar(y)\n    g_inner!(z, y)\n    return z\nend\n",
        ),
        (
            "src/my train.jl",
            "using Zygote\ninclude(\"model.jl\")\n\nloss(y) = sum(g_outer(y))\n\nZygote.gradient(loss, rand(3))\n",
        ),
    ]);
    let (code, out, err) = adlint(&["check", ".", "--output-format", "sarif"], p.dir.path());
    assert_eq!(code, 1, "{err}");
    let sarif = json(&out);
    let mut schema: Value =
        serde_json::from_str(include_str!("../schemas/sarif-2.1.0.json")).expect("schema");
    // The published schema's `language` patterns have a stray `]`, which a strict ECMA-262
    // regex parser (the validator's check of the schema itself) rejects. adlint never writes
    // `language`; the patterns are corrected here, in memory, to what they mean.
    for def in ["run", "toolComponent"] {
        let language = &mut schema["definitions"][def]["properties"]["language"]["pattern"];
        assert_eq!(language, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *language = Value::from("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
    }
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{out}");
    // And the validator does reject a broken document.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&broken));

    let run = &sarif["runs"][0];
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap()
        .starts_with("file:///"));
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules
        .iter()
        .all(|r| !r["help"]["text"].as_str().unwrap().is_empty()));
    let r = &run["results"][0];
    assert_eq!(r["ruleId"], "index-assignment");
    assert_eq!(
        rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "index-assignment"
    );
    assert_eq!(r["level"], "error");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "src/model.jl");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 3);
    assert_eq!(loc["region"]["startColumn"], 9);
    let related = r["relatedLocations"].as_array().unwrap();
    assert!(related
        .iter()
        .any(|l| l["physicalLocation"]["artifactLocation"]["uri"] == "src/my%20train.jl"));
    let flow = r["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .unwrap();
    assert_eq!(flow.len(), 4, "entry, g_outer, g_inner!, the site");
}

#[test]
fn github_annotations() {
    let p = package();
    let (code, out, _) = adlint(&["check", "src", "--output-format", "github"], p.dir.path());
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with("::error file=src/model.jl,line=4,col=5,endLine=4,endColumn=15,title=adlint (index-assignment)::`x[...] = ...` writes"),
        "{out}"
    );
    assert!(
        lines[0].contains("%0Areached from loss -> fill_ones! via Zygote.gradient"),
        "{out}"
    );
}

#[test]
fn baseline_hides_old_findings_and_survives_edits() {
    let p = package();
    let (code, _, err) = adlint(
        &["check", ".", "--write-baseline", "adlint-baseline.json"],
        p.dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote 2 findings"), "{err}");
    let (code, out, _) = adlint(
        &["check", ".", "--baseline", "adlint-baseline.json"],
        p.dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("2 findings hidden by the baseline; 0 baseline entries are stale"),
        "{out}"
    );

    // Lines above the finding move it; the baseline still matches. A new mutation is new.
    let model = std::fs::read_to_string(p.path("src/model.jl")).unwrap();
    let edited = model.replace(
        "function fill_ones!(x)\n    x[1] = 1.0\n",
        "# a comment\n\nfunction fill_ones!(x)\n    x[1] = 1.0\n    x[2] = 2.0\n",
    );
    std::fs::write(p.path("src/model.jl"), edited).unwrap();
    let (code, out, _) = adlint(
        &[
            "check",
            ".",
            "--baseline",
            "adlint-baseline.json",
            "--output-format",
            "json",
        ],
        p.dir.path(),
    );
    assert_eq!(code, 1);
    let v = json(&out);
    let diags = v["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{out}");
    assert_eq!(diags[0]["start"]["line"], 7);
    assert_eq!(v["summary"]["baseline"]["hidden"], 2);
    assert_eq!(v["summary"]["baseline"]["stale"], 0);

    // Fixing a baselined finding leaves a stale entry, counted.
    std::fs::write(
        p.path("test/runtests.jl"),
        "using Zygote\n\nscratch(y) = sum(2 .* y)\n\nZygote.gradient(scratch, rand(3))\n",
    )
    .unwrap();
    let (_, out, _) = adlint(
        &[
            "check",
            ".",
            "--baseline",
            "adlint-baseline.json",
            "--output-format",
            "json",
        ],
        p.dir.path(),
    );
    assert_eq!(json(&out)["summary"]["baseline"]["stale"], 1, "{out}");
    // Checking a sub-folder does not call the other folders' entries stale.
    let (_, out, _) = adlint(
        &[
            "check",
            "src",
            "--baseline",
            "adlint-baseline.json",
            "--output-format",
            "json",
        ],
        p.dir.path(),
    );
    assert_eq!(json(&out)["summary"]["baseline"]["stale"], 0, "{out}");

    std::fs::write(p.path("bad.json"), "{").unwrap();
    let (code, _, err) = adlint(&["check", ".", "--baseline", "bad.json"], p.dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("is not an adlint baseline"), "{err}");
}

#[test]
fn statistics_quiet_and_threads() {
    let p = package();
    let (code, out, _) = adlint(&["check", ".", "--statistics"], p.dir.path());
    assert_eq!(code, 1);
    assert!(out.contains("Findings per rule:"), "{out}");
    assert!(out.contains("     1  index-assignment"), "{out}");
    assert!(
        out.contains("     1  Zygote.gradient(loss) at src/model.jl:10:12"),
        "{out}"
    );
    let (_, out, _) = adlint(
        &["check", ".", "--statistics", "--output-format", "json"],
        p.dir.path(),
    );
    let v = json(&out);
    assert_eq!(v["rules"].as_array().unwrap().len(), 2);
    assert_eq!(v["entry_points"].as_array().unwrap().len(), 2);

    std::fs::write(p.path("src/bin.jl"), [0u8, 1, 2]).unwrap();
    let (_, out, err) = adlint(&["check", ".", "--quiet"], p.dir.path());
    assert!(err.is_empty(), "{err}");
    assert!(!out.contains("errors, "), "no summary: {out}");
    assert!(out.contains("[index-assignment]"), "{out}");
    let (_, one, _) = adlint(
        &["check", ".", "-j", "1", "--output-format", "json"],
        p.dir.path(),
    );
    let (_, two, _) = adlint(
        &["check", ".", "--threads", "2", "--output-format", "json"],
        p.dir.path(),
    );
    assert_eq!(one, two);
}
