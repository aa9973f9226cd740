//! The generator of adlint's knowledge tables from the ecosystem's own source.
//!
//! Two stages, so that the committed tables can be checked offline:
//! 1. [`extract`] reads checkouts of Julia packages with adlint's parser and facts and keeps
//!    compact facts per source ([`Extracted`]): every rule declaration with its signature,
//!    and the functions that may end in a foreign call or write into an argument, with the
//!    calls between them. These are committed (`src/knowledge/extracted/`), never the
//!    sources themselves.
//! 2. [`tables`] computes the tables adlint loads (`Tables`, written by `Tables::render`):
//!    rules, and the closures "ends in a foreign call" and "writes into argument k" over
//!    resolved calls, stopped by rules. `src/knowledge/generated.tsv` is its output for the
//!    built-in sources; a test regenerates it from the committed facts.

pub mod extract;
pub mod history;

pub use extract::{extract, Checkout};

use crate::backend::Backend;
use crate::knowledge::tables::{backends_of, Arity, ForeignRow, MutatingRow, RuleRow, Tables};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Where a source's facts come from: enough to find the exact text again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The package (`ChainRules`), or `Base` for Julia's own files.
    pub name: String,
    /// `owner/name` on GitHub, or a local path for a user's checkout.
    pub repo: String,
    /// The commit read; empty when the checkout is no git work tree.
    #[serde(default)]
    pub commit: String,
    /// The package's version from its `Project.toml` (Julia's `VERSION` for Base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl SourceInfo {
    /// `owner/name@abcdef0` for rows' provenance.
    pub fn label(&self) -> String {
        if self.commit.is_empty() {
            match &self.version {
                Some(v) => format!("{}@v{v}", self.repo),
                None => self.repo.clone(),
            }
        } else {
            format!(
                "{}@{}",
                self.repo,
                &self.commit[..self.commit.len().min(10)]
            )
        }
    }
}

/// A rule declaration as read: `kind` is `rrule`, `frule`, `scalar_rule`,
/// `non_differentiable`, `adjoint`, `nograd`, `pullback` or `opt_out`, or
/// `mutation_error` for Zygote's adjoints that raise "Mutating arrays is not supported".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XRule {
    pub kind: String,
    pub function: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub functor: bool,
    /// The covered function's positional parameters ([`extract::encode_param`]).
    #[serde(default)]
    pub params: Vec<String>,
    /// `None`: every method (`@nograd f`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arity: Option<Arity>,
    /// `file:line` inside the source.
    pub at: String,
    /// The release of the source from which the rule exists, when its older releases
    /// lack it ([`history::set_since`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

/// A method that may end in a foreign call or write into an argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XFunction {
    pub name: String,
    /// The qualifier written in the definition (`Base` of `Base.copyto!`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub module: String,
    pub arity: Arity,
    pub at: String,
    /// The foreign call in its body (`ccall at base/libc.jl:12`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign: Option<String>,
    /// 1-based parameters written by `x[i] = v` or `x .= v` in its body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<usize>,
    /// Calls to other kept functions: `name(1,_,2)`, each argument the caller's parameter
    /// passed there or `_`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<String>,
}

/// The compact facts of one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    pub source: SourceInfo,
    /// The names its modules export: a call written without a qualifier reaches only
    /// these (and Base's).
    #[serde(default)]
    pub exports: Vec<String>,
    /// The concrete types (`struct`s) it defines: two of them hold no common value, so a
    /// rule declared for one does not cover a method of the other.
    #[serde(default)]
    pub structs: Vec<String>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<XRule>,
    #[serde(default, rename = "function")]
    pub functions: Vec<XFunction>,
}

impl Extracted {
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("extracted facts serialise")
    }

    pub fn from_toml(text: &str) -> Result<Extracted, toml::de::Error> {
        toml::from_str(text)
    }
}

/// Calls with more positional arguments than this are not looked up in the closures.
pub const MAX_ARITY: usize = 12;

/// A method during the closure: its source and facts.
struct M<'a> {
    source: &'a SourceInfo,
    f: &'a XFunction,
    calls: Vec<(&'a str, Vec<Option<usize>>)>,
}

fn parse_call(call: &str) -> Option<(&str, Vec<Option<usize>>)> {
    let open = call.find('(')?;
    let name = extract::call_name(&call[..open]);
    let inner = call[open + 1..].strip_suffix(')')?;
    let args = if inner.is_empty() {
        Vec::new()
    } else {
        inner.split(',').map(|a| a.parse().ok()).collect()
    };
    Some((name, args))
}

/// Stage two: the tables from the extracted facts of every source.
pub fn tables(sources: &[Extracted]) -> Tables {
    tables_with(sources, &Tables::default())
}

/// [`tables`] for sources that call into packages whose tables are known already (a
/// user's packages over the built-in tables): a call to a known foreign or mutating
/// function propagates as if its methods were read, a known rule stops it. Only rows of
/// `sources` are returned.
pub fn tables_with(sources: &[Extracted], known: &Tables) -> Tables {
    let pseudo = known_as_extracted(known);
    let mut all: Vec<Extracted> = sources.to_vec();
    all.push(pseudo);
    let mut t = tables_of(&all);
    let ours: HashSet<&str> = sources.iter().map(|s| s.source.name.as_str()).collect();
    t.rules.retain(|r| ours.contains(r.package.as_str()));
    t.structs.retain(|(_, p)| ours.contains(p.as_str()));
    t.foreign.retain(|r| ours.contains(r.package.as_str()));
    t.mutating.retain(|r| ours.contains(r.package.as_str()));
    t
}

/// The name of the pseudo-source that stands for known tables in [`tables_with`].
const KNOWN: &str = "(known tables)";

fn known_as_extracted(known: &Tables) -> Extracted {
    let mut x = Extracted {
        source: SourceInfo {
            name: KNOWN.to_string(),
            repo: KNOWN.to_string(),
            commit: String::new(),
            version: None,
        },
        exports: Vec::new(),
        structs: known.structs.iter().map(|(n, _)| n.clone()).collect(),
        rules: Vec::new(),
        functions: Vec::new(),
    };
    for r in &known.rules {
        x.rules.push(XRule {
            kind: r.kind.clone(),
            function: r.function.clone(),
            functor: r.functor,
            params: r.params.clone(),
            arity: r.arity,
            at: r.source.clone(),
            since: r.since.clone(),
        });
    }
    // One method per name and arity, foreign or writing as the rows say.
    let mut methods: BTreeMap<(&str, usize), XFunction> = BTreeMap::new();
    for r in &known.foreign {
        for &n in &r.arities {
            let f = methods
                .entry((r.function.as_str(), n))
                .or_insert_with(|| pseudo_method(&r.function, n, &r.source));
            f.foreign = Some(r.via.clone());
        }
    }
    for r in &known.mutating {
        for &n in &r.arities {
            let f = methods
                .entry((r.function.as_str(), n))
                .or_insert_with(|| pseudo_method(&r.function, n, &r.source));
            f.writes.push(r.dest);
        }
    }
    x.functions = methods.into_values().collect();
    x
}

fn pseudo_method(name: &str, n: usize, source: &str) -> XFunction {
    XFunction {
        name: name.to_string(),
        module: String::new(),
        arity: Arity {
            min: n,
            max: Some(n),
        },
        at: source.to_string(),
        foreign: None,
        writes: Vec::new(),
        calls: Vec::new(),
    }
}

fn tables_of(sources: &[Extracted]) -> Tables {
    let mut t = Tables::default();
    for s in sources {
        for st in &s.structs {
            t.structs.push((st.clone(), s.source.name.clone()));
        }
    }
    // Rules, and by name the arities they cover (a covered call is not followed).
    let mut ruled: HashMap<&str, Vec<Option<Arity>>> = HashMap::new();
    for s in sources {
        for r in &s.rules {
            t.rules.push(RuleRow {
                kind: r.kind.clone(),
                function: r.function.clone(),
                functor: r.functor,
                package: s.source.name.clone(),
                arity: r.arity,
                params: r.params.clone(),
                backends: backends_of(&r.kind).to_vec(),
                since: r.since.clone(),
                source: format!("{} {}", s.source.label(), r.at),
            });
            if !r.functor && backends_of(&r.kind).contains(&Backend::Zygote) && r.kind != "opt_out"
            {
                ruled.entry(&r.function).or_default().push(r.arity);
            }
        }
    }
    let covered = |name: &str, n: usize| {
        ruled
            .get(name)
            .is_some_and(|arities| arities.iter().any(|a| a.is_none_or(|a| a.admits(n))))
    };
    let methods: Vec<M> = sources
        .iter()
        .flat_map(|s| {
            s.functions.iter().map(move |f| M {
                source: &s.source,
                f,
                calls: f.calls.iter().filter_map(|c| parse_call(c)).collect(),
            })
        })
        .collect();
    let exported: HashSet<&str> = sources
        .iter()
        .flat_map(|s| s.exports.iter().map(String::as_str))
        .collect();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, m) in methods.iter().enumerate() {
        by_name.entry(&m.f.name).or_default().push(i);
    }
    // Whether every method of `name` that takes `n` arguments satisfies `holds` (and there
    // is one): a call whose method adlint cannot pick is foreign only when all are.
    let all_methods = |name: &str, n: usize, holds: &dyn Fn(usize) -> bool| {
        let Some(ms) = by_name.get(name) else {
            return false;
        };
        let mut any = false;
        for &i in ms {
            if methods[i].f.arity.admits(n) {
                if !holds(i) {
                    return false;
                }
                any = true;
            }
        }
        any
    };

    // Foreign: why each method ends in a foreign call (the call it goes through).
    let mut foreign: Vec<Option<String>> = methods.iter().map(|m| m.f.foreign.clone()).collect();
    // The number of arguments of the call it goes through.
    let mut via_arity: Vec<usize> = vec![0; methods.len()];
    loop {
        let mut changed = false;
        for i in 0..methods.len() {
            if foreign[i].is_some() {
                continue;
            }
            for (callee, args) in &methods[i].calls {
                let n = args.len();
                if covered(callee, n) || !all_methods(callee, n, &|j| foreign[j].is_some()) {
                    continue;
                }
                foreign[i] = Some(callee.to_string());
                via_arity[i] = n;
                changed = true;
                break;
            }
        }
        if !changed {
            break;
        }
    }
    // Whether a call of `name` with `n` arguments writes its argument `k`. By Julia's
    // convention a function whose name ends in `!` modifies its arguments: one method seen
    // writing argument `k` stands for the function (its other methods may hand the array to
    // a kernel or a foreign call adlint cannot follow). Any other function writes only
    // when every method does.
    let any_method = |name: &str, n: usize, holds: &dyn Fn(usize) -> bool| {
        by_name
            .get(name)
            .is_some_and(|ms| ms.iter().any(|&i| methods[i].f.arity.admits(n) && holds(i)))
    };
    let writes_arg = |writes: &[BTreeMap<usize, String>], name: &str, n: usize, k: usize| {
        let holds = |j: usize| writes[j].contains_key(&k);
        if name.ends_with('!') {
            any_method(name, n, &holds)
        } else {
            all_methods(name, n, &holds)
        }
    };
    // Writes: which parameters each method writes, and through what.
    let mut writes: Vec<BTreeMap<usize, String>> = methods
        .iter()
        .map(|m| {
            m.f.writes
                .iter()
                .map(|&k| (k, format!("writes it at {}", m.f.at)))
                .collect()
        })
        .collect();
    loop {
        let mut changed = false;
        for i in 0..methods.len() {
            for (callee, args) in &methods[i].calls {
                let n = args.len();
                if covered(callee, n) {
                    continue;
                }
                for (pos, param) in args.iter().enumerate() {
                    let Some(k) = *param else { continue };
                    if writes[i].contains_key(&k) {
                        continue;
                    }
                    if writes_arg(&writes, callee, n, pos + 1) {
                        writes[i].insert(k, format!("passes it to `{callee}`"));
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }

    // Zygote's own adjoints that raise the mutation error write their first argument.
    for s in sources {
        for r in s.rules.iter().filter(|r| r.kind == "mutation_error") {
            let arities: Vec<usize> = (0..=MAX_ARITY)
                .filter(|&n| n >= 1 && r.arity.is_none_or(|a| a.admits(n)))
                .collect();
            t.mutating.push(MutatingRow {
                function: r.function.clone(),
                package: s.source.name.clone(),
                module: "Base".to_string(),
                exported: true,
                dest: 1,
                arities,
                via: format!("Zygote's adjoint raises \"Mutating arrays is not supported -- called {}(...)\"", r.function),
                source: format!("{} {}", s.source.label(), r.at),
            });
        }
    }
    // The method a row cites: one that holds, from the package's own code before its
    // extensions (whose methods run only with another package loaded).
    let provenance = |ms: &[usize], holds: &dyn Fn(usize) -> bool| -> usize {
        let in_ext =
            |j: usize| methods[j].f.at.starts_with("ext/") || methods[j].f.at.contains("/ext/");
        (ms.iter().copied())
            .filter(|&j| holds(j))
            .min_by_key(|&j| in_ext(j))
            .expect("a method holds")
    };
    // Rows: per name, the arities where every method holds the property.
    let mut names: Vec<&str> = by_name.keys().copied().collect();
    names.sort_unstable();
    for name in names {
        let ms = &by_name[name];
        let arities_where = |holds: &dyn Fn(usize) -> bool| -> Vec<usize> {
            (0..=MAX_ARITY)
                .filter(|&n| !covered(name, n) && all_methods(name, n, holds))
                .collect()
        };
        let fa = arities_where(&|j| foreign[j].is_some());
        if !fa.is_empty() {
            let first = provenance(ms, &|j| {
                foreign[j].is_some() && fa.iter().any(|&n| methods[j].f.arity.admits(n))
            });
            t.foreign.push(ForeignRow {
                function: name.to_string(),
                package: methods[first].source.name.clone(),
                module: methods[first].f.module.clone(),
                exported: exported.contains(name),
                arities: fa,
                via: foreign_path(&methods, &foreign, &via_arity, &by_name, first),
                source: format!("{} {}", methods[first].source.label(), methods[first].f.at),
            });
        }
        let mut dests: HashSet<usize> = HashSet::new();
        for &j in ms {
            dests.extend(writes[j].keys().copied());
        }
        let mut dests: Vec<usize> = dests.into_iter().collect();
        dests.sort_unstable();
        // The argument a call of `n` arguments writes: for a `!` function the first one
        // some method writes (its other methods may write others in their own way), else
        // each that every method writes.
        let written = |n: usize, k: usize| {
            !covered(name, n)
                && writes_arg(&writes, name, n, k)
                && (!name.ends_with('!')
                    || !(1..k).any(|before| writes_arg(&writes, name, n, before)))
        };
        for k in dests {
            let wa: Vec<usize> = (0..=MAX_ARITY).filter(|&n| written(n, k)).collect();
            if wa.is_empty() {
                continue;
            }
            let first = provenance(ms, &|j| {
                writes[j].contains_key(&k) && wa.iter().any(|&n| methods[j].f.arity.admits(n))
            });
            t.mutating.push(MutatingRow {
                function: name.to_string(),
                package: methods[first].source.name.clone(),
                module: methods[first].f.module.clone(),
                exported: exported.contains(name),
                dest: k,
                arities: wa,
                via: writes[first][&k].clone(),
                source: format!("{} {}", methods[first].source.label(), methods[first].f.at),
            });
        }
    }
    t
}

/// `time -> ccall at base/libc.jl:12`: the calls from method `i` to its foreign call.
fn foreign_path(
    methods: &[M],
    foreign: &[Option<String>],
    via_arity: &[usize],
    by_name: &HashMap<&str, Vec<usize>>,
    mut i: usize,
) -> String {
    let mut steps = Vec::new();
    for _ in 0..6 {
        let why = foreign[i].as_deref().unwrap_or("");
        if methods[i].f.foreign.is_some() {
            steps.push(why.to_string());
            break;
        }
        steps.push(format!("`{why}`"));
        match by_name.get(why).and_then(|ms| {
            (ms.iter()).find(|&&j| foreign[j].is_some() && methods[j].f.arity.admits(via_arity[i]))
        }) {
            Some(&j) => i = j,
            None => break,
        }
    }
    steps.join(" -> ")
}

/// A source of the built-in tables, as `sources.toml` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct BuiltinSource {
    pub name: String,
    pub repo: String,
    pub commit: String,
    /// The folder under the checkouts folder that holds the commit's files.
    pub checkout: String,
    pub dirs: Vec<String>,
    /// The folder of the package's `Project.toml` inside the checkout (a monorepo's
    /// `lib/LuxLib`); the checkout itself when absent.
    #[serde(default)]
    pub project: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SourcesFile {
    source: Vec<BuiltinSource>,
}

/// The sources listed in a `sources.toml`.
pub fn read_sources(text: &str) -> Result<Vec<BuiltinSource>, String> {
    toml::from_str::<SourcesFile>(text)
        .map(|f| f.source)
        .map_err(|e| e.to_string())
}

/// The `version` of a `Project.toml`, if it has one.
pub fn project_version(dir: &std::path::Path) -> Option<String> {
    project_field(dir, "version")
}

fn project_field(dir: &std::path::Path, field: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Project.toml")).ok()?;
    let value: toml::Value = toml::from_str(&text).ok()?;
    value.get(field)?.as_str().map(str::to_string)
}

/// The file name of a source's extracted facts.
pub fn extracted_file(name: &str) -> String {
    format!("{name}.toml")
}

/// Read the built-in sources from `checkouts`, write their extracted facts into
/// `extracted_dir` and return them. A checkout that is missing is an error naming it.
/// With `mirrors` (git directories at `<mirrors>/<owner>+<name>/repo`), each rule's first
/// release is read from the history ([`history::set_since`]); without, the versions the
/// facts already committed say are kept.
pub fn extract_builtin(
    sources: &[BuiltinSource],
    checkouts: &std::path::Path,
    extracted_dir: &std::path::Path,
    mirrors: Option<&std::path::Path>,
) -> Result<Vec<Extracted>, String> {
    let mut list = Vec::new();
    for s in sources {
        let root = checkouts.join(&s.checkout);
        if !root.is_dir() {
            return Err(format!(
                "{}: no checkout at {} (export {} at {} there)",
                s.name,
                root.display(),
                s.repo,
                s.commit
            ));
        }
        let project = s.project.as_ref().map_or(root.clone(), |p| root.join(p));
        list.push(Checkout {
            info: SourceInfo {
                name: s.name.clone(),
                repo: s.repo.clone(),
                commit: s.commit.clone(),
                version: project_version(&project),
            },
            root,
            dirs: s.dirs.clone(),
        });
    }
    let mut skipped = Vec::new();
    let mut extracted = extract(&list, &mut skipped).map_err(|e| e.to_string())?;
    for s in &skipped {
        eprintln!("skipped {s}");
    }
    for (s, x) in sources.iter().zip(&mut extracted) {
        match mirrors {
            Some(m) => {
                let git_dir = m.join(s.repo.replace('/', "+")).join("repo");
                let read =
                    history::set_since(&git_dir, s, x).map_err(|e| format!("{}: {e}", s.name))?;
                eprintln!(
                    "{}: first releases of its rules from {} releases ({} .. {})",
                    s.name,
                    read.len(),
                    read.first().map_or("-", |t| t.as_str()),
                    read.last().map_or("-", |t| t.as_str())
                );
            }
            None => {
                let old = std::fs::read_to_string(extracted_dir.join(extracted_file(&s.name)))
                    .ok()
                    .and_then(|t| Extracted::from_toml(&t).ok());
                if let Some(old) = old {
                    let since: HashMap<_, _> = (old.rules.iter())
                        .map(|r| (history::key(r), r.since.clone()))
                        .collect();
                    for r in &mut x.rules {
                        r.since = since.get(&history::key(r)).cloned().flatten();
                    }
                }
            }
        }
    }
    std::fs::create_dir_all(extracted_dir).map_err(|e| e.to_string())?;
    for x in &extracted {
        let path = extracted_dir.join(extracted_file(&x.source.name));
        crate::fix::write_output(&path, x.to_toml().as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(extracted)
}

/// The committed extracted facts of the built-in sources, in the order `sources` lists
/// them.
pub fn read_extracted(
    sources: &[BuiltinSource],
    extracted_dir: &std::path::Path,
) -> Result<Vec<Extracted>, String> {
    sources
        .iter()
        .map(|s| {
            let path = extracted_dir.join(extracted_file(&s.name));
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            Extracted::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect()
}

/// The package folders a path given to `adlint knowledge` stands for: itself when it has a
/// `Project.toml` (or no subfolder has one); otherwise its subfolders that have one, as in
/// `~/.julia/packages/Flux`, which holds one folder per installed version: of those, the
/// most recently modified.
pub fn package_folders(path: &std::path::Path) -> Vec<std::path::PathBuf> {
    if path.join("Project.toml").is_file() {
        return vec![path.to_path_buf()];
    }
    let mut subs: Vec<(std::time::SystemTime, std::path::PathBuf)> = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Project.toml").is_file())
        .map(|p| {
            let modified = std::fs::metadata(p.join("Project.toml"))
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (modified, p)
        })
        .collect();
    if subs.is_empty() {
        return vec![path.to_path_buf()];
    }
    // One folder per package name: the newest.
    subs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut seen = HashSet::new();
    let mut out: Vec<std::path::PathBuf> = subs
        .into_iter()
        .filter(|(_, p)| seen.insert(project_field(p, "name").unwrap_or_default()))
        .map(|(_, p)| p)
        .collect();
    out.sort();
    out
}

/// A user's package checkout for `adlint knowledge PATH`: its name and version from its
/// `Project.toml` (the folder's name without one), its commit when it is a git work tree.
pub fn user_checkout(path: &std::path::Path) -> Checkout {
    let name = project_field(path, "name").unwrap_or_else(|| {
        let folder = path
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| path.display().to_string());
        folder.trim_end_matches(".jl").to_string()
    });
    let commit = std::process::Command::new("git")
        .arg("-C")
        .arg(path)
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    Checkout {
        info: SourceInfo {
            name,
            repo: path.display().to_string(),
            commit,
            version: project_version(path),
        },
        root: path.to_path_buf(),
        dirs: vec!["src".into(), "ext".into()],
    }
}
