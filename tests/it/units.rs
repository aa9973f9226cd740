//! Program units and entry points on multi-file projects: which files form one program,
//! which `gradient` is Zygote's, and which backend runs an entry.

use crate::common::{findings, Project};
use adlint::diagnostic::Severity;

/// (rule, file name, line, severity) of every finding.
fn found(p: &Project) -> Vec<(String, String, usize, Severity)> {
    let a = p.analyze();
    findings(&a)
        .into_iter()
        .zip(&a.diagnostics)
        .map(|((rule, file, line, _), d)| (rule, file, line, d.severity))
        .collect()
}

fn f(rule: &str, file: &str, line: usize, sev: Severity) -> (String, String, usize, Severity) {
    (rule.to_string(), file.to_string(), line, sev)
}

const MUTATES: &str = "function loss(x)\n    x[1] = 0.0\n    return sum(x)\nend\n";

#[test]
fn two_testsets_defining_loss_do_not_mix() {
    // Each `@testset` is a local scope: its `loss` is its own. The first one's mutation is
    // what the test expects to fail (info); the second one's `loss` is clean.
    let p = Project::new(&[
        ("src/Pk.jl", "module Pk\nend\n"),
        (
            "test/runtests.jl",
            "using Zygote, Test\n\n@testset \"bad\" begin\n    function loss(x)\n        x[1] = 0.0\n        return sum(x)\n    end\n    @test_throws ErrorException gradient(loss, rand(3))\nend\n\n@testset \"good\" begin\n    loss(x) = sum(abs2, x)\n    @test gradient(loss, rand(3))[1] isa Vector\nend\n",
        ),
    ]);
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "runtests.jl", 5, Severity::Info)]
    );
    let a = p.analyze();
    assert!(
        a.diagnostics[0].message.ends_with("test/runtests.jl:8)"),
        "{}",
        a.diagnostics[0].message
    );
    assert!(
        a.diagnostics[0]
            .message
            .contains("(expected by the test at "),
        "{}",
        a.diagnostics[0].message
    );
}

#[test]
fn top_level_let_and_for_blocks_keep_their_functions() {
    // Outside any function, `let`, `for` and `while` are local scopes: a function defined
    // inside one is not the same-named function of another block or of the file.
    let src = "using Zygote

let
    loss(x) = sum(abs2, x)
    gradient(loss, rand(3))
end

let
    loss(x) = (x[1] = 0.0; sum(x))
    loss(rand(3))
end

for i in 1:2
    f(x) = sum(x) * i
    gradient(f, rand(3))
end
f(x) = (x[2] = 1.0; sum(x))
f(rand(2))
";
    assert_eq!(found(&Project::new(&[("main.jl", src)])), vec![]);
    // The block's own function is the one differentiated.
    let src = "using Zygote

let
    loss(x) = (x[1] = 0.0; sum(x))
    gradient(loss, rand(3))
end
";
    assert_eq!(
        found(&Project::new(&[("main.jl", src)])),
        vec![f("index-assignment", "main.jl", 4, Severity::Error)]
    );
}

#[test]
fn a_box_made_inside_a_testset_is_found() {
    // Zygote's `test/gradcheck_p1.jl` "Stateful Map": `s` is local to the testset and
    // re-bound by `f`, so it is boxed.
    let p = Project::new(&[
        ("src/Pk.jl", "module Pk\nend\n"),
        (
            "test/runtests.jl",
            "using Zygote, Test\n\n@testset \"Stateful Map\" begin\n  s = 0\n  f(x) = (s += x)\n  s = 0\n  @test gradient(x -> sum(map(f, x)), 1:10) == (10:-1:1,)\nend\n",
        ),
    ]);
    let got = found(&p);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "boxed-variable");
    assert!(
        got[0].3 <= Severity::Warning,
        "the map form passes: not an error"
    );
}

#[test]
fn an_explicit_forwarddiff_import_beside_a_zygote_script() {
    // Two scripts of one folder: `gradient` is ForwardDiff's in the one that imports it,
    // even though the other says `using Zygote`.
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        (
            "zy.jl",
            "using Zygote\n\nf(x) = sum(abs2, x)\ngradient(f, rand(3))\n",
        ),
        (
            "fd.jl",
            &format!(
                "using ForwardDiff: gradient\nusing Zygote\n\n{MUTATES}\ngradient(loss, rand(3))\n"
            ),
        ),
    ]);
    assert_eq!(found(&p), vec![]);
    let a = p.analyze();
    let s = a.summary();
    assert_eq!(s.entries_by_backend.get("forwarddiff"), Some(&1));
    assert_eq!(s.entries_by_backend.get("zygote"), Some(&1));
}

#[test]
fn two_scripts_loss_functions_do_not_mix() {
    // A name resolves within its program: `b.jl`'s `loss` is not `a.jl`'s.
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        (
            "a.jl",
            "using Zygote\n\nloss(x) = sum(x)\ngradient(loss, rand(3))\n",
        ),
        ("b.jl", MUTATES),
    ]);
    assert_eq!(found(&p), vec![]);
    assert_eq!(p.analyze().index.units.units.len(), 2);
}

#[test]
fn a_script_beside_a_package_is_its_own_program() {
    let p = Project::new(&[
        ("Project.toml", "name = \"Pk\"\n"),
        (
            "src/Pk.jl",
            "module Pk\nusing Zygote\nexport fit\nhelper(x) = 2 .* x\nfit(x) = gradient(y -> sum(helper(y)), x)\nend\n",
        ),
        (
            "examples/run.jl",
            "using Pk\n\nfunction helper(x)\n    x[1] = 0.0\n    return x\nend\nfit(rand(3))\n",
        ),
    ]);
    assert_eq!(found(&p), vec![]);
    // The script's own entry into the package is analysed in the package's code.
    let p = Project::new(&[
        ("Project.toml", "name = \"Pk\"\n"),
        (
            "src/Pk.jl",
            "module Pk\nexport helper\nfunction helper(x)\n    x[1] = 0.0\n    return x\nend\nend\n",
        ),
        (
            "examples/run.jl",
            "using Pk, Zygote\n\ngradient(x -> sum(helper(x)), rand(3))\n",
        ),
    ]);
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "Pk.jl", 4, Severity::Error)]
    );
}

#[test]
fn an_extension_is_loaded_only_with_its_triggers() {
    let package = [
        (
            "Project.toml",
            "name = \"Pk\"\n\n[weakdeps]\nCUDA = \"052768ef-5323-5732-b1bb-66c8b64840ba\"\n\n[extensions]\nPkCUDAExt = \"CUDA\"\n",
        ),
        (
            "src/Pk.jl",
            "module Pk\nexport scale\nscale(x) = 2 .* x\nend\n",
        ),
        (
            "ext/PkCUDAExt.jl",
            "module PkCUDAExt\nusing Pk, CUDA\nfunction Pk.scale(x::CuArray)\n    x[1] = 0.0\n    return x\nend\nend\n",
        ),
    ];
    // Without CUDA, the extension's method does not exist.
    let mut files = package.to_vec();
    files.push((
        "test/runtests.jl",
        "using Pk, Zygote\ngradient(x -> sum(scale(x)), rand(3))\n",
    ));
    assert_eq!(found(&Project::new(&files)), vec![]);
    // With CUDA loaded, it may run.
    let mut files = package.to_vec();
    files.push((
        "test/runtests.jl",
        "using Pk, Zygote, CUDA\ngradient(x -> sum(scale(x)), rand(3))\n",
    ));
    let got = found(&Project::new(&files));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].0.as_str(), got[0].1.as_str(), got[0].2),
        ("index-assignment", "PkCUDAExt.jl", 4)
    );
}

#[test]
fn the_backend_argument_decides() {
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        (
            "main.jl",
            &format!(
                "using DifferentiationInterface, Flux, Enzyme\nimport Zygote, ForwardDiff\n\n{MUTATES}\n\
                 DifferentiationInterface.gradient(loss, AutoForwardDiff(), rand(3))\n\
                 Flux.withgradient(loss, AutoMooncake(), rand(3))\n\
                 Flux.gradient(loss, Duplicated(rand(3), zeros(3)))\n\
                 for backend in (AutoForwardDiff(), AutoEnzyme())\n    DifferentiationInterface.gradient(loss, backend, rand(3))\nend\n"
            ),
        ),
    ]);
    assert_eq!(found(&p), vec![]);
    let s = p.analyze().summary();
    assert_eq!(s.entries_by_backend.get("zygote"), None);
    assert_eq!(s.entries_by_backend.get("forwarddiff"), Some(&2));
    assert_eq!(s.entries_by_backend.get("mooncake"), Some(&1));
    assert_eq!(s.entries_by_backend.get("enzyme"), Some(&1));

    // A loop over backends with Zygote among them is a Zygote entry.
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        (
            "main.jl",
            &format!(
                "import DifferentiationInterface as DI\nusing ADTypes\n\n{MUTATES}\n\
                 for backend in (AutoForwardDiff(), AutoZygote())\n    DI.gradient(loss, backend, rand(3))\nend\n"
            ),
        ),
    ]);
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "main.jl", 5, Severity::Error)]
    );
}

#[test]
fn backends_returned_by_helpers_are_followed() {
    // OrdinaryDiffEq's tests loop over `get_jacobian_backends()`, a one-line helper.
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        (
            "main.jl",
            &format!(
                "import DifferentiationInterface as DI\nusing ADTypes\n\n{MUTATES}\n\
                 get_backends() = [AutoForwardDiff(), AutoEnzyme()]\n\
                 for backend in get_backends()\n    DI.gradient(loss, backend, rand(3))\nend\n\
                 function zygote_backend()\n    return AutoZygote()\nend\n\
                 DI.gradient(loss, zygote_backend(), rand(3))\n"
            ),
        ),
    ]);
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "main.jl", 5, Severity::Error)]
    );
    let s = p.analyze().summary();
    assert_eq!(s.entries_by_backend.get("zygote"), Some(&1));
    assert_eq!(s.entries_by_backend.get("forwarddiff"), Some(&1));
}

#[test]
fn a_backend_that_may_be_zygote_gives_at_most_a_warning() {
    // The backend is a parameter nobody passes: it may be Zygote.
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        (
            "main.jl",
            &format!(
                "import DifferentiationInterface as DI\n\n{MUTATES}\n\
                 grad(backend, x) = DI.gradient(loss, backend, x)\n"
            ),
        ),
    ]);
    let a = p.analyze();
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "main.jl", 4, Severity::Warning)]
    );
    assert!(
        a.diagnostics[0].message.contains("possibly reached"),
        "{}",
        a.diagnostics[0].message
    );
    assert_eq!(a.summary().entries_by_backend.get("unknown"), Some(&1));
    // Called with a Zygote backend: an error.
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        (
            "main.jl",
            &format!(
                "import DifferentiationInterface as DI\nusing ADTypes\n\n{MUTATES}\n\
                 grad(backend, x) = DI.gradient(loss, backend, x)\ngrad(AutoZygote(), rand(3))\n"
            ),
        ),
    ]);
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "main.jl", 5, Severity::Error)]
    );
}

#[test]
fn clashing_exports_make_the_name_ambiguous() {
    // Flux 0.14 and later export a `gradient` of their own: with Zygote's also in scope
    // Julia refuses the bare name.
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        (
            "main.jl",
            &format!("using Flux, Zygote\n\n{MUTATES}\ngradient(loss, rand(3))\n"),
        ),
    ]);
    assert_eq!(found(&p), vec![]);
    assert_eq!(p.analyze().summary().ambiguous_entries, 1);
    // `pullback` is Zygote's re-exported by Flux: one binding, an entry.
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        (
            "main.jl",
            &format!("using Flux, Zygote\n\n{MUTATES}\npullback(loss, rand(3))\n"),
        ),
    ]);
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "main.jl", 4, Severity::Error)]
    );
}

#[test]
fn inside_zygote_its_own_pullback_is_the_entry() {
    let p = Project::new(&[
        ("Project.toml", "name = \"Zygote\"\n"),
        (
            "src/Zygote.jl",
            "module Zygote\nexport pullback, gradient\npullback(f, x) = (f(x), identity)\ngradient(f, x) = pullback(f, x)[2](1)\nend\n",
        ),
        (
            "test/runtests.jl",
            &format!("using Zygote, Test\n\n{MUTATES}\n@test pullback(loss, rand(3)) isa Tuple\n"),
        ),
    ]);
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "runtests.jl", 4, Severity::Error)]
    );
}

#[test]
fn a_runner_setup_code_runs_in_each_test_file() {
    // ParallelTestRunner gives each test file its own module, with the runner's
    // `init_code`: here that is what brings Zygote in.
    let p = Project::new(&[
        ("Project.toml", "name = \"Pk\"\n"),
        ("src/Pk.jl", "module Pk\nend\n"),
        (
            "test/runtests.jl",
            "using Pk, ParallelTestRunner\ntestsuite = find_tests(@__DIR__)\ninit_code = quote\n    using Zygote\nend\nruntests(Pk, ARGS; testsuite, init_code)\n",
        ),
        ("test/a.jl", &format!("{MUTATES}\ngradient(loss, rand(3))\n")),
        ("test/b.jl", "loss(x) = sum(x)\ngradient(loss, rand(3))\n"),
    ]);
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "a.jl", 2, Severity::Error)]
    );
    // The message names the program the entry is in.
    let a = p.analyze();
    assert!(
        a.diagnostics[0]
            .message
            .contains("in test file test/a.jl of Pk"),
        "{}",
        a.diagnostics[0].message
    );
}

#[test]
fn a_source_file_the_package_does_not_include_adds_no_methods() {
    let p = Project::new(&[
        ("Project.toml", "name = \"Pk\"\n"),
        (
            "src/Pk.jl",
            "module Pk\nusing Zygote\ninclude(\"layers.jl\")\nrun(x) = gradient(y -> sum(scale(y)), x)\nend\n",
        ),
        ("src/layers.jl", "scale(x) = 2 .* x\n"),
        (
            "src/layers_old.jl",
            "function scale(x::Vector)\n    x[1] = 0.0\n    return x\nend\n",
        ),
    ]);
    assert_eq!(found(&p), vec![]);
}

#[test]
fn checking_the_root_or_the_test_folder_reports_the_same() {
    let p = Project::new(&[
        ("Project.toml", "name = \"Pk\"\n"),
        (
            "src/Pk.jl",
            "module Pk\nexport helper\nfunction helper(x)\n    x[1] = 0.0\n    return x\nend\nend\n",
        ),
        ("test/Project.toml", "[deps]\n"),
        (
            "test/runtests.jl",
            &format!("using Pk, Zygote\n\n{MUTATES}\ngradient(loss, rand(3))\ngradient(x -> sum(helper(x)), rand(3))\n"),
        ),
    ]);
    let in_test = |paths: &[std::path::PathBuf]| {
        let ws = adlint::workspace::Workspace::discover(paths).unwrap();
        let a = adlint::analysis::analyze(ws, &Default::default());
        findings(&a)
            .into_iter()
            .filter(|(_, file, _, _)| file == "runtests.jl")
            .collect::<Vec<_>>()
    };
    let from_root = in_test(&[p.path("")]);
    let from_test = in_test(&[p.path("test")]);
    assert_eq!(from_root.len(), 1);
    assert_eq!(from_root, from_test);
}

#[test]
fn versions_come_from_the_manifest_of_each_unit() {
    // The test suite's environment pins Zygote 0.6.70 (any `try` fails) and Flux 0.13
    // (whose `gradient` is Zygote's, so `using Flux, Zygote` is not ambiguous); the
    // example's environment has neither.
    let manifest = "julia_version = \"1.10.4\"\nmanifest_format = \"2.0\"\n\n[[deps.Zygote]]\nversion = \"0.6.70\"\n\n[[deps.Flux]]\nversion = \"0.13.17\"\n";
    let body = "function loss(x)\n    try\n        return sum(x)\n    catch\n        return 0.0\n    end\nend\ngradient(loss, rand(3))\n";
    let p = Project::new(&[
        ("Project.toml", "name = \"Pk\"\n"),
        ("src/Pk.jl", "module Pk\nend\n"),
        ("test/Project.toml", "[deps]\n"),
        ("test/Manifest.toml", manifest),
        ("test/runtests.jl", &format!("using Flux, Zygote\n{body}")),
        ("examples/demo/Project.toml", "[deps]\n"),
        ("examples/demo/main.jl", &format!("using Zygote\n{body}")),
    ]);
    assert_eq!(
        found(&p),
        vec![
            f("try-catch", "main.jl", 3, Severity::Warning),
            f("try-catch", "runtests.jl", 3, Severity::Error),
        ]
    );
}

#[test]
fn test_rrule_runs_zygote_only_with_its_config_and_rrule_via_ad() {
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        (
            "main.jl",
            &format!(
                "using ChainRulesTestUtils, Zygote\n\n{MUTATES}\n\
                 test_rrule(loss, rand(3))\n\
                 test_rrule(ZygoteRuleConfig(), loss, rand(3))\n\
                 test_rrule(ZygoteRuleConfig(), loss, rand(3); rrule_f = rrule_via_ad)\n"
            ),
        ),
    ]);
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "main.jl", 4, Severity::Error)]
    );
    assert_eq!(p.analyze().summary().entry_points, 1);
}

#[test]
fn a_backend_given_as_a_default_argument_is_followed() {
    let p = Project::new(&[
        ("Project.toml", "[deps]\n"),
        (
            "main.jl",
            &format!(
                "import DifferentiationInterface as DI\nusing ADTypes\n\n{MUTATES}\n\
                 grad_kw(x; backend = AutoZygote()) = DI.gradient(loss, backend, x)\n\
                 grad_pos(x, backend = AutoForwardDiff()) = DI.gradient(loss, backend, x)\n"
            ),
        ),
    ]);
    let s = p.analyze().summary();
    assert_eq!(s.entries_by_backend.get("zygote"), Some(&1));
    assert_eq!(s.entries_by_backend.get("forwarddiff"), Some(&1));
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "main.jl", 5, Severity::Error)]
    );
}

#[test]
fn a_computed_include_keeps_the_source_files_with_the_package_and_says_so() {
    let p = Project::new(&[
        ("Project.toml", "name = \"Pk\"\n"),
        (
            "src/Pk.jl",
            "module Pk\nusing Zygote\nfor f in (\"layers.jl\",)\n    include(joinpath(@__DIR__, f))\nend\nrun(x) = gradient(y -> sum(scale(y)), x)\nend\n",
        ),
        (
            "src/layers.jl",
            "function scale(x)\n    x[1] = 0.0\n    return x\nend\n",
        ),
    ]);
    assert_eq!(
        found(&p),
        vec![f("index-assignment", "layers.jl", 2, Severity::Error)]
    );
    let a = p.analyze();
    assert!(
        a.workspace
            .warnings
            .iter()
            .any(|w| w.contains("src/Pk.jl: includes a file by a computed path")),
        "{:?}",
        a.workspace.warnings
    );
}

#[test]
fn a_loaded_package_s_unexported_function_is_not_its_bare_name() {
    // `helper` is not exported: in the script, the bare name is not the package's.
    let files = |export: &str| {
        vec![
            ("Project.toml".to_string(), "name = \"Pk\"\n".to_string()),
            (
                "src/Pk.jl".to_string(),
                format!("module Pk\n{export}function helper(x)\n    x[1] = 0.0\n    return x\nend\nend\n"),
            ),
            (
                "examples/run.jl".to_string(),
                "using Pk, Zygote\ngradient(x -> sum(helper(x)), rand(3))\n".to_string(),
            ),
        ]
    };
    let owned = files("");
    let refs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(found(&Project::new(&refs)), vec![]);
    let owned = files("export helper\n");
    let refs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        found(&Project::new(&refs)),
        vec![f("index-assignment", "Pk.jl", 4, Severity::Error)]
    );
}

#[test]
fn a_program_without_an_entry_hands_no_function_to_another_programs_entry() {
    // Two scripts load one package: the package's `apply` runs the function it is given.
    // Only `train.jl` differentiates; what `plot.jl` passes to `apply` runs in another
    // program, so its mutation is not reached from `train.jl`'s entry.
    let package = [
        ("Project.toml", "name = \"Pk\"\n"),
        (
            "src/Pk.jl",
            "module Pk\nexport apply\napply(f, x) = f(x)\nend\n",
        ),
        (
            "train.jl",
            "using Pk, Zygote\n\ngradient(x -> apply(sum, x), rand(3))\n",
        ),
    ];
    let plot = (
        "plot.jl",
        "using Pk\n\nfunction fill_first(y)\n    y[1] = 0.0\n    return sum(y)\nend\napply(fill_first, rand(3))\n",
    );
    let mut files = package.to_vec();
    files.push(plot);
    assert_eq!(found(&Project::new(&files)), vec![]);
    // The same function handed over by the differentiating program is reached.
    let mut files = package.to_vec();
    files[2].1 = "using Pk, Zygote\n\nfunction fill_first(y)\n    y[1] = 0.0\n    return sum(y)\nend\ngradient(x -> apply(fill_first, x), rand(3))\n";
    assert_eq!(
        found(&Project::new(&files)),
        vec![f("index-assignment", "train.jl", 4, Severity::Error)]
    );
}

#[test]
fn a_test_item_uses_its_package_and_setup_modules_without_saying_so() {
    // ReTestItems runs each `@testitem` in a module with `using Test, <Package>` and the
    // modules its `setup = [...]` names: the item's bare `grad` is the package's and
    // `helper` the setup module's.
    let files = [
        (
            "Project.toml",
            "name = \"Pk\"\nuuid = \"12345678-1234-1234-1234-123456789012\"\n",
        ),
        (
            "src/Pk.jl",
            "module Pk\nusing Zygote\nexport fill_first, grad\nfunction fill_first(x)\n    y = copy(x)\n    y[1] = 0.0\n    sum(y)\nend\ngrad(f, x) = Zygote.gradient(f, x)\nend\n",
        ),
        (
            "test/shared.jl",
            "@testsetup module Shared\nusing Zygote\nexport helper\nhelper(x) = (z = copy(x); z[2] = 1.0; sum(z))\nend\n",
        ),
        (
            "test/a_tests.jl",
            "@testitem \"one\" setup=[Shared] begin\n    grad(fill_first, rand(3))\n    grad(helper, rand(3))\nend\n",
        ),
        ("test/runtests.jl", "using ReTestItems, Pk\nruntests(Pk)\n"),
    ];
    assert_eq!(
        found(&Project::new(&files)),
        vec![
            f("index-assignment", "Pk.jl", 6, Severity::Error),
            f("index-assignment", "shared.jl", 4, Severity::Error),
        ]
    );
    // Without the setup module named, `helper` is not in the item's module.
    let mut files = files.to_vec();
    files[3].1 =
        "@testitem \"one\" begin\n    grad(fill_first, rand(3))\n    grad(helper, rand(3))\nend\n";
    assert_eq!(
        found(&Project::new(&files)),
        vec![f("index-assignment", "Pk.jl", 6, Severity::Error)]
    );
}
