//! Data tables about Julia, Zygote and the packages around it, embedded from TOML files in
//! `src/knowledge/`. Each row carries its source. This module holds data and lookups, no
//! analysis logic.

use crate::backend::Backend;
use crate::diagnostic::Severity;
use crate::name::{FastSet, Name};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

// What a config adds to the tables (`[entry-points]`, `[knowledge]`).

/// A mutating function added by `[knowledge]`: its name and the 1-based argument it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraMutating {
    pub name: String,
    pub arg: usize,
}

/// An entry point added by `[entry-points]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraEntry {
    /// The module that defines it (`MyPkg` of `MyPkg.train`).
    pub module: String,
    pub name: String,
    /// 1-based position of the differentiated function.
    pub function_arg: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnowledgeExtension {
    pub mutating: Vec<ExtraMutating>,
    pub has_rule: Vec<String>,
    pub foreigncall: Vec<String>,
}

impl KnowledgeExtension {
    pub fn is_empty(&self) -> bool {
        self.mutating.is_empty() && self.has_rule.is_empty() && self.foreigncall.is_empty()
    }
}

mod profile;
pub mod tables;
pub use profile::{Profile, ProfileError};

const ENTRY_POINTS: &str = include_str!("entry_points.toml");
const FUNCTIONS: &str = include_str!("functions.toml");
const MACROS: &str = include_str!("macros.toml");
/// The tables generated from the ecosystem's source (`adlint knowledge --builtin`).
pub const GENERATED: &str = include_str!("generated.tsv");

#[derive(Debug, Clone, Deserialize)]
pub struct EntryApi {
    pub name: String,
    pub modules: Vec<String>,
    pub exported_by: Vec<String>,
    pub function_arg: usize,
    #[serde(default)]
    pub backend_arg: Vec<usize>,
    /// The backend that runs it unless a backend argument says otherwise; `None` when the
    /// backend is an argument the call must give.
    #[serde(default)]
    pub backend: Option<Backend>,
    /// An argument made by this backend's annotation (`Duplicated(m)`) selects it.
    #[serde(default)]
    pub duplicated: Option<Backend>,
    /// The version of the exporting package from which the name is its own function
    /// (Flux's `gradient` from 0.14 on); before it, it re-exported `Zygote`'s.
    #[serde(default)]
    pub own_since: Option<String>,
    /// A call is an entry only when a backend argument is given (ChainRulesTestUtils'
    /// `test_rrule(ZygoteRuleConfig(), f, x)`; without a config it runs no AD).
    #[serde(default)]
    pub only_with_backend: bool,
    /// A call is an entry only with this keyword argument bound to this name
    /// (`rrule_f = rrule_via_ad`).
    #[serde(default)]
    pub requires_keyword: Option<[String; 2]>,
    /// Keyword arguments that list backends the call does not run (`skip_backends`) or
    /// expects to fail (`broken_backends`), as LuxTestUtils' `@test_gradients` has:
    /// Zygote listed in the first makes the call no Zygote entry, in the second an
    /// expected failure.
    #[serde(default)]
    pub skip_keyword: Option<String>,
    #[serde(default)]
    pub broken_keyword: Option<String>,
    pub nested: NestedKind,
    /// Which of the call's arguments the differentiated function is called with.
    #[serde(default)]
    pub passes: Passes,
    pub source: String,
    /// Added by `[entry-points]` in the config: also matches unqualified calls inside the
    /// module that defines it.
    #[serde(default)]
    pub configured: bool,
}

/// How an entry API calls the function it differentiates with the call's own arguments.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Passes {
    /// The arguments after the function (and after the backend, when there is one), in
    /// order: `gradient(f, x, y)` runs `f(x, y)`, `DI.gradient(f, backend, x, contexts...)`
    /// runs `f(x, contexts...)`.
    #[default]
    All,
    /// Only the first of them: `DI.pullback(f, backend, x, ty, contexts...)` puts the seeds
    /// between `x` and the contexts.
    First,
    /// Values the API makes itself (`Flux.train!` calls the loss with the model and each
    /// batch of the data; Lux calls it with the model, parameters, state and data).
    None,
}

impl EntryApi {
    /// The API as users write it: `Zygote.gradient`.
    pub fn display(&self) -> String {
        format!("{}.{}", self.modules[0], self.name)
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum NestedKind {
    Warning,
    ErrorFlux,
    ErrorJacobian,
    ForwardOverReverse,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MutatingFn {
    pub names: Vec<String>,
    pub dest: usize,
    pub severity: Severity,
    pub via: String,
    pub source: String,
    /// ChainRules declares it non-differentiable when the array it writes holds `Bool`
    /// (`fill!(falses(n), true)`): Zygote does not enter it then.
    #[serde(default)]
    pub bool_ok: bool,
    /// The positional arities it writes at; empty: all.
    #[serde(default)]
    pub arities: Vec<usize>,
    /// A row of the generated tables (not `functions.toml`).
    #[serde(default)]
    pub generated: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ForeignFn {
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub qualified: Vec<String>,
    pub arity: Option<usize>,
    pub severity: Severity,
    pub source: String,
    /// Generated rows: the arities it is foreign at (empty: any).
    #[serde(default)]
    pub arities: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Traverse {
    Yes,
    No,
    Cut,
}

#[derive(Debug, Clone, Deserialize)]
struct HigherOrderRow {
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    qualified: Vec<String>,
    arg: usize,
    traverse: Traverse,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ForeignMacro {
    pub names: Vec<String>,
    pub severity: Severity,
    pub message: String,
    pub zygote_below: Option<String>,
    pub julia_at_least: Option<String>,
    pub source: String,
}

#[derive(Debug, Deserialize)]
struct EntryFile {
    api: Vec<EntryApi>,
    backends: HashMap<String, Backend>,
    loads: HashMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct NamesRow {
    names: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ForeignObjectRow {
    constructors: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Origins {
    dict: Vec<String>,
    #[serde(rename = "ref")]
    reference: Vec<String>,
    buffer: Vec<String>,
    array: Vec<String>,
    /// Of `array`, the makers of arrays of `Bool`.
    bool_array: Vec<String>,
    /// Functions whose result is a container of the same kind as their first argument.
    same_as_first: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct FunctionsFile {
    mutating: Vec<MutatingFn>,
    mutating_ok: Vec<NamesRow>,
    foreigncall: Vec<ForeignFn>,
    has_rule: Vec<NamesRow>,
    foreign_object: Vec<ForeignObjectRow>,
    higher_order: Vec<HigherOrderRow>,
    origins: Origins,
    fresh: NamesRow,
    base_exports: NamesRow,
    known: NamesRow,
}

#[derive(Debug, Deserialize)]
struct EscapeMacros {
    ignore: Vec<String>,
    non_differentiable: Vec<String>,
    scalar_rule: Vec<String>,
    adjoint: Vec<String>,
    nograd: Vec<String>,
    opt_out: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct MacrosFile {
    transparent: NamesRow,
    layer: NamesRow,
    scope: NamesRow,
    closure: NamesRow,
    escape: EscapeMacros,
    opaque: NamesRow,
    foreign: Vec<ForeignMacro>,
}

/// What a macro does to the code it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacroClass {
    Transparent,
    /// Transparent, and its code runs in a local scope of its own (`@testset`).
    LocalScope,
    ClosureBody,
    Escape(EscapeMacro),
    Opaque,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscapeMacro {
    Ignore,
    NonDifferentiable,
    ScalarRule,
    Adjoint,
    NoGrad,
    OptOut,
}

/// What kind of object a constructor call makes, for the mutation rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginKind {
    Dict,
    Ref,
    Buffer,
    Array,
    /// The same kind as the first argument (`copy`, `deepcopy`, `similar`): an array
    /// when that is not known.
    SameAsFirst,
}

#[derive(Debug, Clone)]
pub struct Knowledge {
    pub entry_apis: Vec<EntryApi>,
    /// The names of `entry_apis`: most calls are to none of them.
    entry_names: FastSet<Name>,
    mutating: HashMap<String, MutatingFn>,
    mutating_ok: HashSet<String>,
    foreign: Vec<ForeignFn>,
    has_rule: HashSet<String>,
    foreign_objects: HashSet<String>,
    higher_order: HashMap<String, Vec<(usize, Traverse)>>,
    higher_order_qualified: HashMap<String, Vec<(usize, Traverse)>>,
    origins: HashMap<String, OriginKind>,
    bool_arrays: HashSet<String>,
    /// Makers whose result is a new array nothing else refers to (`[fresh]`).
    fresh: HashSet<String>,
    /// Names exported by Base and the usual packages that a twin of `f!` must not take
    /// (`[base_exports]`).
    base_exports: HashSet<String>,
    known: HashSet<String>,
    macros: HashMap<String, MacroClass>,
    /// Macros whose value is a layer that runs their do-block when called.
    layer_macros: HashSet<String>,
    pub foreign_macros: Vec<ForeignMacro>,
    /// Backend constructors (`AutoZygote`) and the backend each selects.
    backends: HashMap<String, Backend>,
    /// Packages outside the workspace and the packages loading them loads.
    loads: HashMap<String, Vec<String>>,
    /// The backend profiles; the first is the default, which an entry whose backend
    /// adlint cannot tell may be run by.
    profiles: Vec<Profile>,
    /// The generated tables: a project's own `.adlint/knowledge.tsv` first, then the
    /// built-in ones.
    generated: Generated,
}

/// The generated tables, kept as their text and read by name when first asked for: a run
/// asks for a few hundred of the thousands of names, and reading every row made each
/// `check` of a small folder twice as slow to start.
#[derive(Debug, Clone, Default)]
struct Generated {
    /// A project's table first, then the built-in one.
    texts: Vec<Arc<str>>,
    /// Per name: where its rows are (text, byte range of the line), and the rows once read.
    by_name: HashMap<String, Entry>,
}

#[derive(Debug, Clone, Default)]
struct Entry {
    lines: Vec<(u8, u32, u32)>,
    rows: OnceLock<Rows>,
}

/// The rows of one name, in the shape the analysis reads them.
#[derive(Debug, Clone, Default)]
struct Rows {
    is_struct: bool,
    rules: Vec<tables::RuleRow>,
    foreign: Vec<(tables::ForeignRow, ForeignFn)>,
    mutating: Vec<(tables::MutatingRow, MutatingFn)>,
}

impl Generated {
    /// The tables of `texts`, the first one's rows before the others'. Each text must be
    /// valid (the built-in one is tested, a project's parsed first).
    fn new(texts: Vec<Arc<str>>) -> Generated {
        let mut by_name: HashMap<String, Entry> = HashMap::new();
        for (t, text) in texts.iter().enumerate() {
            let mut start = 0usize;
            for line in text.split_inclusive('\n') {
                let end = start + line.len();
                if let Some(key) = tables::Row::key(line.trim_end_matches(['\n', '\r'])) {
                    let e = match by_name.get_mut(key) {
                        Some(e) => e,
                        None => by_name.entry(key.to_string()).or_default(),
                    };
                    e.lines.push((t as u8, start as u32, end as u32));
                }
                start = end;
            }
        }
        Generated { texts, by_name }
    }

    /// The rows of a name, read on first use.
    fn rows(&self, name: &str) -> Option<&Rows> {
        let e = self.by_name.get(name)?;
        Some(e.rows.get_or_init(|| {
            let mut rows = Rows::default();
            for &(t, start, end) in &e.lines {
                let line = self.texts[t as usize][start as usize..end as usize]
                    .trim_end_matches(['\n', '\r']);
                match tables::Row::parse(line) {
                    Ok(Some(tables::Row::Struct(..))) => rows.is_struct = true,
                    Ok(Some(tables::Row::Rule(r))) => rows.rules.push(r),
                    Ok(Some(tables::Row::Foreign(r))) => {
                        let f = ForeignFn {
                            names: vec![r.function.clone()],
                            qualified: Vec::new(),
                            arity: None,
                            severity: Severity::Error,
                            source: format!("generated: {} ({})", r.source, r.via),
                            arities: r.arities.clone(),
                        };
                        rows.foreign.push((r, f));
                    }
                    Ok(Some(tables::Row::Mutating(r))) => {
                        let f = MutatingFn {
                            names: vec![r.function.clone()],
                            dest: r.dest,
                            severity: Severity::Error,
                            via: "setindex! or copyto!".to_string(),
                            source: format!("generated: {} ({})", r.source, r.via),
                            bool_ok: false,
                            arities: r.arities.clone(),
                            generated: true,
                        };
                        rows.mutating.push((r, f));
                    }
                    // Validated when the text was taken in.
                    Ok(None) | Err(tables::NotARow) => {}
                }
            }
            rows
        }))
    }

    /// Every row of every text.
    fn tables(&self) -> tables::Tables {
        let mut all = tables::Tables::default();
        for text in &self.texts {
            if let Ok(t) = tables::Tables::parse(text) {
                all.structs.extend(t.structs);
                all.rules.extend(t.rules);
                all.foreign.extend(t.foreign);
                all.mutating.extend(t.mutating);
            }
        }
        all
    }
}

/// Whether a call qualified by `qualifier` (empty: none) reaches a generated row's function:
/// without a qualifier only an exported one, with one only the package's or module's own.
fn reaches(qualifier: &[Name], package: &str, module: &str, exported: bool) -> bool {
    match qualifier.last() {
        None => exported,
        Some(q) => {
            q == package || (!module.is_empty() && q == module.rsplit('.').next().unwrap_or(module))
        }
    }
}

impl Knowledge {
    /// The generated tables this knowledge holds.
    pub fn generated_tables(&self) -> tables::Tables {
        self.generated.tables()
    }

    /// This knowledge with a project's generated table (`.adlint/knowledge.tsv`, already
    /// parsed without error), whose rows come before the built-in ones.
    pub fn with_project_table(&self, project: Arc<str>) -> Knowledge {
        let mut k = self.clone();
        let mut texts = vec![project];
        texts.extend(self.generated.texts.iter().cloned());
        k.generated = Generated::new(texts);
        k
    }

    /// The generated rules declared for functions named `name` (a project's first).
    pub fn ecosystem_rules(&self, name: &str) -> impl Iterator<Item = &tables::RuleRow> {
        (self.generated.rows(name).into_iter()).flat_map(|r| r.rules.iter())
    }

    /// Whether the packages the generated tables were read from define a concrete type
    /// (`struct`) of this name.
    pub fn is_ecosystem_struct(&self, name: &str) -> bool {
        self.generated.rows(name).is_some_and(|r| r.is_struct)
    }

    /// A mutating function called as `qualifier.name` with `arity` positional arguments:
    /// the hand-written rows by name, then the generated ones that call reaches.
    pub fn mutating_call(
        &self,
        qualifier: &[Name],
        name: &str,
        arity: usize,
    ) -> Option<&MutatingFn> {
        if let Some(row) = self.mutating.get(name) {
            return Some(row);
        }
        // In-place functions with a non-differentiable rule (`rand!`), and functions a
        // rule covers, are fine whatever a generated row says.
        if self.mutating_ok.contains(name) || self.has_rule.contains(name) {
            return None;
        }
        let rows = self.generated.rows(name)?;
        rows.mutating.iter().find_map(|(r, f)| {
            (r.arities.contains(&arity) && reaches(qualifier, &r.package, &r.module, r.exported))
                .then_some(f)
        })
    }

    /// The profile of a backend; for [`Backend::Unknown`], the default profile (the
    /// backend may be that one).
    pub fn profile(&self, backend: Backend) -> Option<&Profile> {
        match backend {
            Backend::Unknown => self.profiles.first(),
            b => self.profiles.iter().find(|p| p.backend == b),
        }
    }

    /// The default profile: Zygote's.
    pub fn default_profile(&self) -> &Profile {
        &self.profiles[0]
    }

    /// Whether adlint analyses what this backend differentiates.
    pub fn analyses(&self, backend: Backend) -> bool {
        self.profile(backend).is_some_and(|p| p.analysed)
    }

    /// Add a profile, or replace the one of the same backend.
    pub fn add_profile(&mut self, profile: Profile) {
        match self
            .profiles
            .iter_mut()
            .find(|p| p.backend == profile.backend)
        {
            Some(p) => *p = profile,
            None => self.profiles.push(profile),
        }
    }

    /// Whether a call of this API may run an analysed backend: its backend is one, or is
    /// not fixed by the API (an argument, `Duplicated` values or the config decide).
    pub fn may_run_analysed(&self, api: &EntryApi) -> bool {
        api.backend.is_none_or(|b| self.analyses(b))
            || !api.backend_arg.is_empty()
            || api.duplicated.is_some()
    }

    /// The backend a value made by `constructor` selects, if it is a backend.
    pub fn backend_of_constructor(&self, constructor: &str) -> Option<Backend> {
        self.backends.get(constructor).copied()
    }

    /// The packages that loading `package` (outside the workspace) loads too.
    pub fn loads_of(&self, package: &str) -> &[String] {
        self.loads.get(package).map_or(&[], |v| v.as_slice())
    }

    /// The module whose binding of `name` the module `module` exports, if it exports one
    /// of the entry APIs: `Zygote` for `pullback` after `using Flux` (Flux re-exports
    /// Zygote's), `Flux` for `gradient` from Flux 0.14 on. `flux` is the Flux version when
    /// known (unknown: the newest behaviour).
    pub fn entry_exporter(
        &self,
        module: &str,
        name: &str,
        versions: &dyn Fn(&str) -> Option<crate::version::Version>,
    ) -> Option<Name> {
        let api = (self.entry_apis.iter())
            .find(|a| a.name == name && a.exported_by.iter().any(|m| m == module))?;
        let origin = &api.modules[0];
        if let Some(since) = api
            .own_since
            .as_deref()
            .and_then(crate::version::Version::parse)
        {
            if versions(origin).is_some_and(|v| v < since) {
                return Some(Name::new("Zygote"));
            }
        }
        Some(Name::new(origin))
    }
}

/// The embedded tables, parsed once.
pub fn get() -> &'static Knowledge {
    builtin().as_ref()
}

/// The embedded tables, shared.
pub fn builtin() -> &'static Arc<Knowledge> {
    static K: OnceLock<Arc<Knowledge>> = OnceLock::new();
    K.get_or_init(|| Arc::new(load()))
}

/// The embedded tables plus what a config adds (`[entry-points]`, `[knowledge]`).
pub fn with_config(entries: &[ExtraEntry], ext: &KnowledgeExtension) -> Arc<Knowledge> {
    if entries.is_empty() && ext.is_empty() {
        return Arc::clone(builtin());
    }
    let mut k = get().clone();
    const SOURCE: &str = "adlint.toml";
    for e in entries {
        k.entry_apis.push(EntryApi {
            name: e.name.clone(),
            modules: vec![e.module.clone()],
            exported_by: vec![e.module.clone()],
            function_arg: e.function_arg,
            backend_arg: Vec::new(),
            backend: Some(k.default_profile().backend),
            duplicated: None,
            own_since: None,
            only_with_backend: false,
            requires_keyword: None,
            skip_keyword: None,
            broken_keyword: None,
            nested: NestedKind::Warning,
            // What a project's own API calls the function with is not known.
            passes: Passes::None,
            source: SOURCE.to_string(),
            configured: true,
        });
        k.entry_names.insert(Name::new(&e.name));
    }
    for m in &ext.mutating {
        k.mutating.insert(
            m.name.clone(),
            MutatingFn {
                names: vec![m.name.clone()],
                dest: m.arg,
                severity: Severity::Error,
                via: m.name.clone(),
                source: SOURCE.to_string(),
                bool_ok: false,
                arities: Vec::new(),
                generated: false,
            },
        );
        k.mutating_ok.remove(&m.name);
    }
    // A function with a rule is not looked into: its mutation or foreign call is covered.
    for n in &ext.has_rule {
        k.mutating.remove(n);
        for row in &mut k.foreign {
            row.names.retain(|x| x != n);
        }
        k.has_rule.insert(n.clone());
    }
    for f in &ext.foreigncall {
        let (names, qualified) = match f.rsplit_once('.') {
            Some((module, name)) => {
                let module = module.rsplit('.').next().unwrap_or(module);
                (Vec::new(), vec![format!("{module}.{name}")])
            }
            None => (vec![f.clone()], Vec::new()),
        };
        k.foreign.push(ForeignFn {
            names,
            qualified,
            arity: None,
            severity: Severity::Error,
            source: SOURCE.to_string(),
            arities: Vec::new(),
        });
    }
    Arc::new(k)
}

fn load() -> Knowledge {
    let entries: EntryFile = toml::from_str(ENTRY_POINTS).expect("entry_points.toml is valid");
    let functions: FunctionsFile = toml::from_str(FUNCTIONS).expect("functions.toml is valid");
    let macros: MacrosFile = toml::from_str(MACROS).expect("macros.toml is valid");

    let mut mutating = HashMap::new();
    for mut row in functions.mutating {
        row.source = format!("functions.toml: {}", row.source);
        for n in &row.names {
            mutating.insert(n.clone(), row.clone());
        }
    }
    let mut higher_order: HashMap<String, Vec<(usize, Traverse)>> = HashMap::new();
    let mut higher_order_qualified: HashMap<String, Vec<(usize, Traverse)>> = HashMap::new();
    for row in functions.higher_order {
        for n in row.names {
            higher_order
                .entry(n)
                .or_default()
                .push((row.arg, row.traverse));
        }
        for q in row.qualified {
            higher_order_qualified
                .entry(q)
                .or_default()
                .push((row.arg, row.traverse));
        }
    }
    let bool_arrays: HashSet<String> = functions.origins.bool_array.iter().cloned().collect();
    let mut origins = HashMap::new();
    for n in &bool_arrays {
        origins.insert(n.clone(), OriginKind::Array);
    }
    for (list, kind) in [
        (functions.origins.dict, OriginKind::Dict),
        (functions.origins.reference, OriginKind::Ref),
        (functions.origins.buffer, OriginKind::Buffer),
        (functions.origins.array, OriginKind::Array),
        (functions.origins.same_as_first, OriginKind::SameAsFirst),
    ] {
        for n in list {
            origins.insert(n, kind);
        }
    }
    let mut macro_map = HashMap::new();
    for n in macros.transparent.names {
        macro_map.insert(n, MacroClass::Transparent);
    }
    for n in macros.scope.names {
        macro_map.insert(n, MacroClass::LocalScope);
    }
    for n in macros.opaque.names {
        macro_map.insert(n, MacroClass::Opaque);
    }
    for n in macros.closure.names {
        macro_map.insert(n, MacroClass::ClosureBody);
    }
    let e = macros.escape;
    for (list, kind) in [
        (e.ignore, EscapeMacro::Ignore),
        (e.non_differentiable, EscapeMacro::NonDifferentiable),
        (e.scalar_rule, EscapeMacro::ScalarRule),
        (e.adjoint, EscapeMacro::Adjoint),
        (e.nograd, EscapeMacro::NoGrad),
        (e.opt_out, EscapeMacro::OptOut),
    ] {
        for n in list {
            macro_map.insert(n, MacroClass::Escape(kind));
        }
    }
    Knowledge {
        profiles: vec![Profile::parse(profile::ZYGOTE).expect("profiles/zygote.toml is valid")],
        entry_names: entries.api.iter().map(|a| Name::new(&a.name)).collect(),
        entry_apis: entries.api,
        mutating,
        mutating_ok: functions
            .mutating_ok
            .into_iter()
            .flat_map(|r| r.names)
            .collect(),
        foreign: (functions.foreigncall.into_iter())
            .map(|mut row| {
                row.source = format!("functions.toml: {}", row.source);
                row
            })
            .collect(),
        has_rule: functions
            .has_rule
            .into_iter()
            .flat_map(|r| r.names)
            .collect(),
        foreign_objects: functions
            .foreign_object
            .into_iter()
            .flat_map(|r| r.constructors)
            .collect(),
        higher_order,
        higher_order_qualified,
        origins,
        bool_arrays,
        fresh: functions.fresh.names.into_iter().collect(),
        base_exports: functions.base_exports.names.into_iter().collect(),
        known: functions.known.names.into_iter().collect(),
        macros: macro_map,
        layer_macros: macros.layer.names.into_iter().collect(),
        foreign_macros: macros.foreign,
        backends: entries.backends,
        loads: entries.loads,
        // Read by name on first use; `tests/it/knowledge_gen.rs` parses every row.
        generated: Generated::new(vec![Arc::from(GENERATED)]),
    }
}

/// Whether the value of `@name(...) do x ... end` is a layer whose forward pass is the
/// do-block (Lux's `@compact`): calling the value runs it.
pub fn is_layer_macro(name: &str) -> bool {
    get().layer_macros.contains(name)
}

/// The class of a macro by its name (with `@`); unknown macros are opaque.
pub fn macro_class(name: &str) -> MacroClass {
    get()
        .macros
        .get(name)
        .copied()
        .unwrap_or(MacroClass::Opaque)
}

impl Knowledge {
    pub fn mutating(&self, name: &str) -> Option<&MutatingFn> {
        self.mutating.get(name)
    }

    /// A foreign-call row for a call `qualifier.name` with `arity` positional arguments.
    pub fn foreign_call(&self, qualifier: &[Name], name: &str, arity: usize) -> Option<&ForeignFn> {
        let qualified = qualifier
            .last()
            .map(|q| format!("{q}.{name}"))
            .unwrap_or_default();
        self.foreign
            .iter()
            .find(|row| {
                let by_name = row.names.iter().any(|n| n == name)
                    && (qualifier.is_empty()
                        || qualifier.last().is_some_and(|q| q == "Base" || q == "Libc"));
                let by_qual = !qualified.is_empty() && row.qualified.contains(&qualified);
                (by_name || by_qual) && row.arity.is_none_or(|a| a == arity)
            })
            .or_else(|| {
                if self.has_rule.contains(name) {
                    return None;
                }
                let rows = self.generated.rows(name)?;
                rows.foreign.iter().find_map(|(r, f)| {
                    (r.arities.contains(&arity)
                        && reaches(qualifier, &r.package, &r.module, r.exported))
                    .then_some(f)
                })
            })
    }

    pub fn has_rule(&self, name: &str) -> bool {
        self.has_rule.contains(name)
    }

    pub fn is_foreign_object_constructor(&self, name: &str) -> bool {
        self.foreign_objects.contains(name)
    }

    /// Whether Zygote traverses the function passed at 1-based `arg` of `qualifier.name`.
    pub fn traverse(&self, qualifier: &[Name], name: &str, arg: usize) -> Option<Traverse> {
        if let Some(q) = qualifier.last() {
            let key = format!("{q}.{name}");
            if let Some(rows) = self.higher_order_qualified.get(&key) {
                return rows.iter().find(|(a, _)| *a == arg).map(|&(_, t)| t);
            }
        }
        self.higher_order
            .get(name)
            .and_then(|rows| rows.iter().find(|(a, _)| *a == arg).map(|&(_, t)| t))
    }

    pub fn origin(&self, name: &str) -> Option<OriginKind> {
        self.origins.get(name).copied()
    }

    /// Whether `name(...)` makes a new array that nothing else refers to (`similar`,
    /// `zeros`, `copy`), unlike `view` or `reshape`, whose result shares memory.
    pub fn is_fresh_allocation(&self, name: &str) -> bool {
        self.fresh.contains(name)
    }

    /// Whether Base or a package loaded beside Zygote exports `name` (`step`, `reverse`):
    /// a function of that name defined by the user would shadow it.
    pub fn is_base_export(&self, name: &str) -> bool {
        self.base_exports.contains(name)
    }

    /// Whether `name(...)` makes an array of `Bool` (`falses`, `BitVector`).
    pub fn makes_bool_array(&self, name: &str) -> bool {
        self.bool_arrays.contains(name)
    }

    /// Whether an entry API has this name (with any qualifier).
    pub fn is_entry_api_name(&self, name: Name) -> bool {
        self.entry_names.contains(&name)
    }

    /// Known outside the workspace, so not counted as an unresolved call.
    pub fn is_known(&self, name: &str) -> bool {
        self.known.contains(name)
            || self.mutating.contains_key(name)
            || self.mutating_ok.contains(name)
            || self.has_rule.contains(name)
            || self.higher_order.contains_key(name)
            || self.origins.contains_key(name)
            || Name::lookup(name).is_some_and(|n| self.is_entry_api_name(n))
            || self.generated.rows(name).is_some_and(|r| {
                !r.rules.is_empty()
                    || r.foreign.iter().any(|(f, _)| f.exported)
                    || r.mutating.iter().any(|(m, _)| m.exported)
            })
            || self
                .foreign
                .iter()
                .any(|f| f.names.iter().any(|n| n == name))
    }

    pub fn foreign_macro(&self, name: &str) -> Option<&ForeignMacro> {
        self.foreign_macros
            .iter()
            .find(|m| m.names.iter().any(|n| n == name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_load_and_answer() {
        let k = get();
        assert!(k.entry_apis.iter().any(|a| a.name == "gradient"));
        assert_eq!(k.mutating("push!").unwrap().dest, 1);
        assert_eq!(k.mutating("map!").unwrap().dest, 2);
        assert_eq!(k.traverse(&[], "map", 1), Some(Traverse::Yes));
        assert_eq!(k.traverse(&[], "filter", 1), Some(Traverse::No));
        assert_eq!(
            k.traverse(&["ForwardDiff".into()], "gradient", 1),
            Some(Traverse::Cut)
        );
        assert_eq!(macro_class("@views"), MacroClass::Transparent);
        assert_eq!(macro_class("@my_user_macro"), MacroClass::Opaque);
        assert!(k.foreign_call(&[], "time", 0).is_some());
        assert!(k.foreign_call(&[], "time_ns", 0).is_none());
        assert_eq!(k.origin("Dict"), Some(OriginKind::Dict));
    }

    #[test]
    fn generated_rows_yield_to_the_hand_written_facts() {
        let k = get();
        // Distributions writes into `rand!`'s array, but `rand!` has a non-differentiable
        // rule; `push!`'s hand row (Zygote's own message) comes before any generated one.
        assert!(k
            .mutating_call(&[Name::new("Random")], "rand!", 4)
            .is_none());
        assert!(!k.mutating_call(&[], "push!", 2).unwrap().generated);
        // NNlib's exported `softmax!` is found without a qualifier, an internal
        // `_softmax!` only with NNlib's.
        assert!(k.mutating_call(&[], "softmax!", 2).unwrap().generated);
        assert!(k.mutating_call(&[], "_softmax!", 2).is_none());
        assert!(k
            .mutating_call(&[Name::new("NNlib")], "_softmax!", 2)
            .is_some());
    }

    #[test]
    fn base_exports_hold_the_names_twins_must_not_take() {
        let k = get();
        assert!(k.is_base_export("step") && k.is_base_export("reverse"));
        assert!(!k.is_base_export("scale") && !k.is_base_export("g_inner"));
    }

    #[test]
    fn fresh_allocations_are_array_makers() {
        let k = get();
        assert!(k.is_fresh_allocation("similar") && !k.is_fresh_allocation("view"));
        for name in &k.fresh {
            assert!(
                matches!(
                    k.origin(name),
                    Some(OriginKind::Array | OriginKind::SameAsFirst)
                ),
                "`{name}` in [fresh] makes no array in [origins]"
            );
        }
    }
}
