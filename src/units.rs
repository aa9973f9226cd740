//! Program units: which files of a workspace form one program, and what each program loads.
//!
//! A workspace is not one namespace. Julia runs a package (its `src/<Name>.jl` and what
//! that includes), each of its extensions (only where all their trigger packages are
//! loaded), its test suite (`test/runtests.jl` and its includes; or, with a runner that
//! gives every test file a module of its own, each file with the runner's setup code), and
//! each script or example: a file nothing includes is a program of its own. A name
//! resolves only within its unit and the units it loads (`using Flux` loads the package
//! Flux of the workspace, and with it Flux's dependencies and the extensions they
//! trigger).
//!
//! Units are found from the include graph: every file that nothing includes starts one,
//! and an included file belongs to the unit that includes it. A file included by several
//! units (a test helper that each test file includes) is a unit of its own whose top-level
//! definitions and imports count as those of each includer. An `include` inside
//! `@safetestset` gives the included file a fresh module, so it starts a unit.
//!
//! This module reads file paths, `Project.toml` facts and per-file facts; it decides
//! nothing about what a name means (the index does, through [`Units::sees`]).

use crate::facts::{FileFacts, ModIdx, Name, SiteKind, Span};
use crate::name::{FastMap as HashMap, FastSet as HashSet};
use crate::workspace::{display_path_under, JuliaProject, SourceFile};
use fixedbitset::FixedBitSet;
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

/// What kind of program a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    /// A package: `src/<Name>.jl` and its includes.
    Package,
    /// A package extension (`ext/<Name>.jl`), loaded only with its trigger packages.
    Extension,
    /// `test/runtests.jl` and what it includes.
    TestSuite,
    /// A test file run in a module of its own (ParallelTestRunner, `@safetestset`).
    TestFile,
    /// A file of a package's `src/` that the package does not include.
    NotIncluded,
    /// A script or an example: a file nothing includes.
    Script,
    /// A file included by several units.
    Shared,
}

#[derive(Debug, Clone)]
pub struct Unit {
    pub kind: UnitKind,
    /// The file the unit starts from.
    pub root: u32,
    /// How messages name it: `package Flux`, `test suite of Lux`, `example examples/ImageNet`.
    pub label: String,
    /// The environment it runs in (index into the workspace's projects), for versions.
    pub project: Option<u32>,
}

/// The units of a workspace and what each sees.
#[derive(Debug, Default)]
pub struct Units {
    pub units: Vec<Unit>,
    /// The unit of each file.
    pub of_file: Vec<u32>,
    /// Whether each file's top level is its unit's top level (`Main`): included outside
    /// any `module`.
    pub top_level: Vec<bool>,
    /// For each unit, the units whose top-level definitions and imports are also its own
    /// (itself first; a shared include's unit and the units including it see each other's).
    main_with: Vec<Vec<u32>>,
    /// For each unit, the units it sees: itself, what it includes, the packages it loads
    /// (and their dependencies), and the extensions those trigger.
    visible: Vec<FixedBitSet>,
    /// Imports of a test runner's setup code that run in each of its test files'
    /// modules (ParallelTestRunner's `init_code`): (unit, file, import index).
    pub setup_imports: Vec<(u32, u32, u32)>,
    /// Modules a unit's code uses without writing `using`: a `@testitem` runs in a module
    /// with `using Test, <Package>` and `using` of each module its `setup = [...]` names
    /// (ReTestItems' `@testsetup module`, TestItemRunner's `@testmodule`).
    pub implicit_usings: Vec<(u32, Vec<Name>)>,
    /// What the summary should say about how units were found (a package whose include
    /// graph is not known).
    pub notes: Vec<String>,
}

/// The packages that loading a package outside the workspace loads too (what their
/// `Project.toml` says), for the triggers of extensions: `using Flux` loads Zygote.
pub type LoadsOf<'a> = &'a dyn Fn(&str) -> &'a [String];

/// Files and projects by path: the lookups [`Units::build`] makes for every file, each in
/// time of the path's depth (a monorepo has thousands of files and a hundred projects).
struct Layout<'a> {
    projects: &'a [JuliaProject],
    file_at: HashMap<&'a Path, u32>,
    project_at: HashMap<&'a Path, usize>,
}

impl<'a> Layout<'a> {
    fn new(files: &'a [SourceFile], projects: &'a [JuliaProject]) -> Layout<'a> {
        Layout {
            projects,
            file_at: (files.iter().enumerate())
                .map(|(i, f)| (f.path.as_path(), i as u32))
                .collect(),
            project_at: (projects.iter().enumerate())
                .map(|(i, p)| (p.dir.as_path(), i))
                .collect(),
        }
    }

    fn file(&self, path: &Path) -> Option<u32> {
        self.file_at.get(path).copied()
    }

    /// The innermost project whose directory holds `path`.
    fn project_around(&self, path: &Path) -> Option<usize> {
        (path.ancestors().skip(1)).find_map(|dir| self.project_at.get(dir).copied())
    }

    /// The innermost package (a project with a name) whose `src/` holds `path`.
    fn package_of_source(&self, path: &Path) -> Option<usize> {
        (path.ancestors().skip(1))
            .filter(|dir| dir.file_name().is_some_and(|n| n == "src"))
            .filter_map(|src| self.project_at.get(src.parent()?).copied())
            .find(|&p| self.projects[p].name.is_some())
    }

    /// The package a project directory belongs to as its `test/`, `docs/` or `benchmark/`
    /// environment.
    fn package_above(&self, env: &JuliaProject) -> Option<usize> {
        let environment = (env.dir.file_name().and_then(|n| n.to_str()))
            .is_some_and(|n| matches!(n, "test" | "tests" | "docs" | "benchmark" | "benchmarks"));
        let p = *self.project_at.get(env.dir.parent()?)?;
        (environment && self.projects[p].name.is_some()).then_some(p)
    }
}

impl Units {
    /// Units of `files`, given the include edges (including file, included file, module
    /// and span of the `include`), the workspace's projects and its root (for labels).
    pub fn build(
        files: &[SourceFile],
        facts: &[FileFacts],
        edges: &[(u32, u32, Option<ModIdx>, Span)],
        projects: &[JuliaProject],
        root: &Path,
        loads_of: LoadsOf,
    ) -> Units {
        let n = files.len();
        let layout = Layout::new(files, projects);
        // Labels name files relative to the root, made canonical once.
        let root = &root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        // Includes inside `@safetestset` (and the like) give the included file a module
        // of its own: such edges start a unit instead of joining one.
        let fresh = |from: u32, span: Span| {
            let f = &facts[from as usize];
            let text = &files[from as usize].text;
            f.sites.iter().any(|s| {
                // Written before the include inside a macro call around it (also when
                // nested: `@time @safetestset "A" include("a.jl")`).
                matches!(s.kind, SiteKind::Macro { .. })
                    && s.span.contains(span)
                    && text
                        .get(s.span.start as usize..span.start as usize)
                        .is_some_and(|t| {
                            t.contains("@safetestset") || t.contains("@time_safetestset")
                        })
            })
        };
        let mut children: Vec<Vec<(u32, bool)>> = vec![Vec::new(); n];
        let mut included = vec![false; n];
        for &(from, to, module, span) in edges {
            if fresh(from, span) {
                continue;
            }
            children[from as usize].push((to, module.is_none()));
            if from != to {
                included[to as usize] = true;
            }
        }
        // Roots: files nothing includes, then one file of each include cycle left over.
        let (mut roots, group_of, notes) =
            roots_of(files, facts, &included, projects, &layout, root);
        let (reached_by, top_level) = reach_from_roots(&mut roots, &children);
        let package_groups: HashSet<usize> = group_of.values().copied().collect();
        let mut units: Vec<Unit> = (roots.iter().enumerate())
            .map(|(g, group)| {
                let mut unit = describe(group[0], files, &layout, root);
                if package_groups.contains(&g) {
                    // The files of a package whose include graph is not known.
                    if let Some(p) = unit.project.map(|p| &projects[p as usize]) {
                        if p.name.is_some()
                            && files[group[0] as usize].path.starts_with(p.dir.join("src"))
                        {
                            unit.kind = UnitKind::Package;
                            unit.label = format!("package {}", p.name.as_deref().unwrap_or("?"));
                        }
                    }
                }
                unit
            })
            .collect();
        let mut of_file = vec![0u32; n];
        let mut main_with: Vec<Vec<u32>> = (0..units.len() as u32).map(|u| vec![u]).collect();
        let mut shared: BTreeMap<Vec<u32>, u32> = BTreeMap::new();
        for f in 0..n {
            let by = &reached_by[f];
            if by.len() == 1 {
                of_file[f] = by[0];
                continue;
            }
            let u = *shared.entry(by.clone()).or_insert_with(|| {
                let u = units.len() as u32;
                units.push(Unit {
                    kind: UnitKind::Shared,
                    root: f as u32,
                    label: format!(
                        "{}, included by {} programs",
                        display_path_under(&files[f].path, root),
                        by.len()
                    ),
                    project: describe(f as u32, files, &layout, root).project,
                });
                main_with.push(std::iter::once(u).chain(by.iter().copied()).collect());
                for &includer in by {
                    main_with[includer as usize].push(u);
                }
                u
            });
            of_file[f] = u;
        }

        let setup_imports = setup_imports_of(&units, files, facts, &layout);

        let implicit = testitem_usings(files, facts, &of_file, projects, &layout);
        let (imports, module_units) = imports_of(
            units.len(),
            facts,
            &of_file,
            &top_level,
            &setup_imports,
            &implicit,
        );
        let extensions = extensions_of(&units, files, projects);

        let visible = visibility(
            &units,
            projects,
            &imports,
            &module_units,
            &main_with,
            &extensions,
            loads_of,
        );
        Units {
            units,
            of_file,
            top_level,
            main_with,
            visible,
            setup_imports,
            implicit_usings: implicit.into_iter().collect(),
            notes,
        }
    }

    /// One unit holding all `files` files: a flat namespace, for callers that analyse
    /// facts without a workspace (benchmarks of single phases).
    pub fn single(files: usize) -> Units {
        let mut visible = FixedBitSet::with_capacity(1);
        visible.insert(0);
        Units {
            units: vec![Unit {
                kind: UnitKind::Script,
                root: 0,
                label: "script".to_string(),
                project: None,
            }],
            of_file: vec![0; files],
            top_level: vec![true; files],
            main_with: vec![vec![0]],
            visible: vec![visible],
            setup_imports: Vec::new(),
            implicit_usings: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The unit of a file.
    pub fn unit_of(&self, file: u32) -> u32 {
        self.of_file.get(file as usize).copied().unwrap_or(0)
    }

    /// The units whose top-level definitions count as those of `unit`'s top level.
    pub fn main_with(&self, unit: u32) -> &[u32] {
        self.main_with
            .get(unit as usize)
            .map_or(&[][..], |v| v.as_slice())
    }

    /// Whether code of `from` may reach definitions of `to` (loaded or included).
    pub fn sees(&self, from: u32, to: u32) -> bool {
        from == to
            || self
                .visible
                .get(from as usize)
                .is_some_and(|v| v.contains(to as usize))
    }

    /// The unit's label when the workspace has more than one unit worth naming.
    pub fn label_of_file(&self, file: u32) -> Option<&str> {
        if self.units.len() <= 1 {
            return None;
        }
        let u = &self.units[self.unit_of(file) as usize];
        Some(&u.label)
    }
}

/// The modules a `@testitem`'s `setup = [A, B]` names, from the macro call's text up to
/// its body.
fn testitem_setup(call: &str) -> Vec<String> {
    let head = call.split("begin").next().unwrap_or(call);
    let Some(at) = head.find("setup") else {
        return Vec::new();
    };
    let rest = head[at + "setup".len()..].trim_start();
    let Some(rest) = rest.strip_prefix('=') else {
        return Vec::new();
    };
    let Some(list) = rest.trim_start().strip_prefix('[') else {
        return Vec::new();
    };
    let list = list.split(']').next().unwrap_or("");
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .map(str::to_string)
        .collect()
}

/// The extension a file under `ext/` defines: `ext/<Name>.jl` or `ext/<Name>/<Name>.jl`.
fn extension_name(path: &Path, package_dir: &Path) -> Option<String> {
    let rel = path.strip_prefix(package_dir.join("ext")).ok()?;
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    match parts.as_slice() {
        [file] => file.strip_suffix(".jl").map(str::to_string),
        [dir, file] if file.strip_suffix(".jl") == Some(dir) => Some(dir.to_string()),
        _ => None,
    }
}

/// The test runner (`test/runtests.jl`) of the package whose test folder holds `file`.
fn runner_of(file: u32, files: &[SourceFile], layout: &Layout) -> Option<u32> {
    let path = &files[file as usize].path;
    path.ancestors()
        .filter(|a| a.file_name().is_some_and(|n| n == "test" || n == "tests"))
        .find_map(|test| layout.file(&test.join("runtests.jl")))
}

/// What program a unit that starts at `file` is.
fn describe(file: u32, files: &[SourceFile], layout: &Layout, root: &Path) -> Unit {
    let path = &files[file as usize].path;
    let projects = layout.projects;
    // The innermost project around the file: a package, or an environment (a test
    // suite's, an example's), which belongs to the package above it when it is a test,
    // docs or benchmark folder of it.
    let env = (layout.project_around(path)).map(|i| (i, &projects[i]));
    let package = env.and_then(|(i, p)| match p.name {
        Some(_) => Some(i),
        None => layout.package_above(p),
    });
    let package = package.map(|i| (i, &projects[i]));
    let project = env.map(|(i, _)| i as u32);
    let rel = display_path_under(path, root);
    let unit = |kind, label: String| Unit {
        kind,
        root: file,
        label,
        project,
    };
    if let Some((pi, p)) = package {
        let name = p.name.as_deref().unwrap_or("?");
        let in_dir = |d: &str| path.starts_with(p.dir.join(d));
        if p.entry_file().as_deref() == Some(path.as_path()) {
            return Unit {
                project: Some(pi as u32),
                ..unit(UnitKind::Package, format!("package {name}"))
            };
        }
        if in_dir("ext") {
            if let Some(ext) =
                extension_name(path, &p.dir).filter(|e| p.extensions.iter().any(|(x, _)| x == e))
            {
                return Unit {
                    project: Some(pi as u32),
                    ..unit(UnitKind::Extension, format!("extension {ext} of {name}"))
                };
            }
        }
        for test in ["test", "tests"] {
            if in_dir(test) {
                if path.as_path() == p.dir.join(test).join("runtests.jl") {
                    return unit(UnitKind::TestSuite, format!("test suite of {name}"));
                }
                return unit(UnitKind::TestFile, format!("test file {rel} of {name}"));
            }
        }
        if in_dir("src") {
            return unit(
                UnitKind::NotIncluded,
                format!("{rel}, which package {name} does not include"),
            );
        }
    }
    match env {
        Some((_, p)) if p.name.is_none() && p.dir.as_path() != root => {
            let dir = display_path_under(&p.dir, root);
            if p.dir.join(path.file_name().unwrap_or_default()) == *path {
                unit(UnitKind::Script, format!("example {dir}"))
            } else {
                unit(UnitKind::Script, format!("example {dir} ({rel})"))
            }
        }
        _ => unit(UnitKind::Script, format!("script {rel}")),
    }
}

/// Setup code of a test runner that gives each test file its own module: the imports
/// inside ParallelTestRunner's `init_code = quote ... end`, as (unit, runner file, import).
fn setup_imports_of(
    units: &[Unit],
    files: &[SourceFile],
    facts: &[FileFacts],
    layout: &Layout,
) -> Vec<(u32, u32, u32)> {
    let mut setup_imports = Vec::new();
    for (ui, unit) in units.iter().enumerate() {
        if unit.kind != UnitKind::TestFile {
            continue;
        }
        let Some(runner) = runner_of(unit.root, files, layout) else {
            continue;
        };
        let rf = &facts[runner as usize];
        let init: Vec<Span> = (rf.assigns.iter())
            .filter(|a| a.var == "init_code")
            .map(|a| a.span)
            .collect();
        for (ii, imp) in rf.imports.iter().enumerate() {
            if init.iter().any(|s| s.contains(imp.span)) {
                setup_imports.push((ui as u32, runner, ii as u32));
            }
        }
    }
    setup_imports
}

/// Test items: what ReTestItems and TestItemRunner load into each item's module (Test,
/// the package, the setup modules it names), by unit.
fn testitem_usings(
    files: &[SourceFile],
    facts: &[FileFacts],
    of_file: &[u32],
    projects: &[JuliaProject],
    layout: &Layout,
) -> BTreeMap<u32, Vec<Name>> {
    let mut implicit: BTreeMap<u32, Vec<Name>> = BTreeMap::new();
    for (f, ff) in facts.iter().enumerate() {
        let text = &files[f].text;
        for site in &ff.sites {
            let SiteKind::Macro { path } = &site.kind else {
                continue;
            };
            if path.last().is_none_or(|m| m != "@testitem") {
                continue;
            }
            let u = of_file[f];
            let names = implicit.entry(u).or_default();
            let package = (layout.project_around(&files[f].path))
                .and_then(|p| match projects[p].name {
                    Some(_) => Some(p),
                    None => layout.package_above(&projects[p]),
                })
                .and_then(|p| projects[p].name.as_deref());
            let head = text.get(site.span.start as usize..site.span.end as usize);
            let setup = head.map(testitem_setup).unwrap_or_default();
            for n in ["Test"]
                .into_iter()
                .chain(package)
                .chain(setup.iter().map(|s| s.as_str()))
            {
                let n = Name::new(n);
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
    }
    implicit
}

/// Extensions: (extension unit, its package's unit, the packages that trigger it).
fn extensions_of(
    units: &[Unit],
    files: &[SourceFile],
    projects: &[JuliaProject],
) -> Vec<(u32, u32, Vec<String>)> {
    let package_unit = |dir: &Path| -> Option<u32> {
        (units.iter().position(|u| {
            u.kind == UnitKind::Package
                && u.project
                    .is_some_and(|p| projects[p as usize].dir.as_path() == dir)
        }))
        .map(|u| u as u32)
    };
    let mut extensions: Vec<(u32, u32, Vec<String>)> = Vec::new();
    for (ui, unit) in units.iter().enumerate() {
        if unit.kind != UnitKind::Extension {
            continue;
        }
        let Some(p) = unit.project.map(|p| &projects[p as usize]) else {
            continue;
        };
        let name = extension_name(&files[unit.root as usize].path, &p.dir);
        let triggers = (p.extensions.iter())
            .find(|(e, _)| Some(e.as_str()) == name.as_deref())
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        if let Some(pu) = package_unit(&p.dir) {
            extensions.push((ui as u32, pu, triggers));
        }
    }
    extensions
}

/// The units each unit sees: those it loads by name (its imports, a package's
/// dependencies, and what they load in turn), with the extensions whose package and
/// triggers are all loaded, to a fixed point.
#[allow(clippy::too_many_arguments)]
fn visibility(
    units: &[Unit],
    projects: &[JuliaProject],
    imports: &[HashSet<Name>],
    module_units: &HashMap<Name, Vec<u32>>,
    main_with: &[Vec<u32>],
    extensions: &[(u32, u32, Vec<String>)],
    loads_of: LoadsOf,
) -> Vec<FixedBitSet> {
    let count = units.len();
    let load_names: Vec<Vec<&str>> = (0..count)
        .map(|v| {
            let mut names: Vec<&str> = imports[v].iter().map(|n| n.as_str()).collect();
            let unit = &units[v];
            if unit.kind == UnitKind::Package {
                if let Some(p) = unit.project {
                    names.extend(projects[p as usize].deps.iter().map(String::as_str));
                }
            }
            names
        })
        .collect();
    let mut visible = Vec::with_capacity(count);
    for u in 0..count {
        let mut seen = FixedBitSet::with_capacity(count);
        let mut loaded: HashSet<&str> = HashSet::default();
        let mut queue: VecDeque<u32> = main_with[u].iter().copied().collect();
        loop {
            while let Some(v) = queue.pop_front() {
                if seen.put(v as usize) {
                    continue;
                }
                queue.extend(main_with[v as usize].iter().copied());
                let mut names = load_names[v as usize].clone();
                while let Some(name) = names.pop() {
                    if !loaded.insert(name) {
                        continue;
                    }
                    names.extend(loads_of(name).iter().map(String::as_str));
                    if let Some(us) = Name::lookup(name).and_then(|n| module_units.get(&n)) {
                        queue.extend(us.iter().copied());
                    }
                }
            }
            let mut more = false;
            for (e, pu, triggers) in extensions {
                if !seen.contains(*e as usize)
                    && seen.contains(*pu as usize)
                    && triggers.iter().all(|t| loaded.contains(t.as_str()))
                {
                    queue.push_back(*e);
                    more = true;
                }
            }
            if !more {
                break;
            }
        }
        visible.push(seen);
    }
    visible
}

/// What each unit imports by name (its files' imports, its runner's setup imports, what
/// its test items load), and the units whose top-level modules have each name.
fn imports_of(
    count: usize,
    facts: &[FileFacts],
    of_file: &[u32],
    top_level: &[bool],
    setup_imports: &[(u32, u32, u32)],
    implicit: &BTreeMap<u32, Vec<Name>>,
) -> (Vec<HashSet<Name>>, HashMap<Name, Vec<u32>>) {
    let mut imports: Vec<HashSet<Name>> = vec![HashSet::default(); count];
    let mut module_units: HashMap<Name, Vec<u32>> = HashMap::default();
    for (f, ff) in facts.iter().enumerate() {
        let u = of_file[f] as usize;
        for imp in &ff.imports {
            if let Some(first) = imp.path.first().filter(|p| p.as_str() != ".") {
                imports[u].insert(*first);
            }
        }
        if top_level[f] {
            for m in ff.modules.iter().filter(|m| m.parent.is_none()) {
                module_units.entry(m.name).or_default().push(u as u32);
            }
        }
    }
    for &(u, file, ii) in setup_imports {
        let imp = &facts[file as usize].imports[ii as usize];
        if let Some(first) = imp.path.first().filter(|p| p.as_str() != ".") {
            imports[u as usize].insert(*first);
        }
    }
    for (&u, names) in implicit {
        imports[u as usize].extend(names.iter().copied());
    }
    (imports, module_units)
}

/// The roots that reach each file (a file reached by several is shared by their units),
/// and whether each file is reached at top level (not inside a module). Files no root
/// reaches (include cycles) start roots of their own, at the end of `roots`.
fn reach_from_roots(
    roots: &mut Vec<Vec<u32>>,
    children: &[Vec<(u32, bool)>],
) -> (Vec<Vec<u32>>, Vec<bool>) {
    let n = children.len();
    let mut reached_by: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut top_level = vec![false; n];
    let mut r = 0;
    loop {
        while r < roots.len() {
            let mut queue: VecDeque<(u32, bool)> = roots[r].iter().map(|&f| (f, true)).collect();
            let mut seen = HashSet::default();
            while let Some((f, top)) = queue.pop_front() {
                if !seen.insert(f) {
                    continue;
                }
                reached_by[f as usize].push(r as u32);
                top_level[f as usize] |= top;
                for &(c, at_top) in &children[f as usize] {
                    queue.push_back((c, top && at_top));
                }
            }
            r += 1;
        }
        match (0..n).find(|&f| reached_by[f].is_empty()) {
            Some(f) => roots.push(vec![f as u32]),
            None => break,
        }
    }
    (reached_by, top_level)
}

/// The files nothing includes, as the roots of units (first the files of each package
/// whose include graph adlint cannot know, grouped), with each such package's group and
/// the notes that say so.
fn roots_of(
    files: &[SourceFile],
    facts: &[FileFacts],
    included: &[bool],
    projects: &[JuliaProject],
    layout: &Layout,
    root: &Path,
) -> (Vec<Vec<u32>>, HashMap<usize, usize>, Vec<String>) {
    let n = files.len();
    // A package whose `src/<Name>.jl` is missing, or whose files include others by a
    // computed path (`include(joinpath(...))`), has an include graph adlint cannot
    // know: its `src/` files that nothing includes are most likely loaded by it, so
    // they start one unit together.
    let computed = |f: usize| {
        let ff = &facts[f];
        let calls = (ff.calls.iter())
            .filter(|c| c.callee.len() == 1 && c.callee[0] == "include")
            .count();
        calls > ff.includes.len()
    };
    let mut group_of: HashMap<usize, usize> = HashMap::default();
    let mut notes: Vec<String> = Vec::new();
    let mut roots: Vec<Vec<u32>> = Vec::new();
    // Per package: whether its include graph is unknown.
    let mut unknown_graphs: HashMap<usize, bool> = HashMap::default();
    for f in (0..n).filter(|&f| !included[f]) {
        let path = &files[f].path;
        let package = (layout.package_of_source(path)).map(|pi| (pi, &projects[pi]));
        let unknown_graph = package.is_some_and(|(pi, p)| {
            *unknown_graphs.entry(pi).or_insert_with(|| {
                match p.entry_file().and_then(|e| layout.file(&e)) {
                    None => true,
                    Some(e) => computed(e as usize),
                }
            })
        });
        match package.filter(|_| unknown_graph) {
            Some((pi, p)) => match group_of.get(&pi) {
                Some(&g) => roots[g].push(f as u32),
                None => {
                    // Said when the package's own file is there (a missing one is a
                    // layout adlint reads as one program, not a gap in what it knows).
                    if let Some(e) = p.entry_file().filter(|e| layout.file(e).is_some()) {
                        notes.push(format!(
                            "{}: includes a file by a computed path, which adlint does not follow; the files of its `src/` that nothing includes are analysed as part of package {}",
                            display_path_under(&e, root),
                            p.name.as_deref().unwrap_or("?")
                        ));
                    }
                    group_of.insert(pi, roots.len());
                    roots.push(vec![f as u32]);
                }
            },
            None => roots.push(vec![f as u32]),
        }
    }
    (roots, group_of, notes)
}
