//! The workspace symbol table: the include graph, the module tree, what each module sees
//! (`using`/`import`/`export`), every method by name, functors by type, structs, and the
//! rule declarations that cut traversal. It reports nothing.

use crate::facts::{FileFacts, FuncIdx, FunctionKind, ModIdx, Name, RuleDeclKind};
// The index is read by name for every call the resolver looks at: its maps use the fast
// hasher.
use crate::name::{FastMap as HashMap, FastSet as HashSet};
use std::collections::VecDeque;

/// A function anywhere in the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncRef {
    pub file: u32,
    pub func: FuncIdx,
}

/// What one module sees besides its own definitions.
#[derive(Debug, Default, Clone)]
pub struct ModuleScope {
    /// Modules brought in whole by `using X` (paths as written, last name significant).
    pub usings: Vec<Name>,
    /// Names brought in by `import X: n` or `using X: n`, with the module they come from.
    pub imported: HashMap<Name, Name>,
    /// `import X as Y`, `const Y = X`.
    pub aliases: HashMap<Name, Name>,
    pub exports: HashSet<Name>,
}

/// What an unqualified name from outside the workspace refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalBinding {
    /// The binding of this module (`Zygote` for `gradient` after `using Zygote`).
    Module(Name),
    /// Several `using`s export different bindings of the name: Julia refuses it.
    Ambiguous(Vec<Name>),
    /// No `using` or `import` that adlint knows brings it in.
    Unknown,
}

/// Functions grouped by name: each name's functions are a range of one list (in the order
/// they were given), instead of a vector per name. A large workspace defines some hundred
/// thousand names, most with one method.
#[derive(Debug, Default)]
pub struct MethodsByName {
    ranges: HashMap<Name, (u32, u32)>,
    methods: Vec<FuncRef>,
}

impl MethodsByName {
    fn new(pairs: Vec<(Name, FuncRef)>) -> MethodsByName {
        // Count each name's functions, turn the counts into starts, then place each
        // function after those of its name placed so far.
        let mut ranges: HashMap<Name, (u32, u32)> = HashMap::default();
        for (n, _) in &pairs {
            ranges.entry(*n).or_default().1 += 1;
        }
        let mut next = 0;
        for r in ranges.values_mut() {
            let count = r.1;
            *r = (next, 0);
            next += count;
        }
        let mut methods = match pairs.first() {
            Some(&(_, f)) => vec![f; pairs.len()],
            None => Vec::new(),
        };
        for (n, f) in pairs {
            let r = ranges.get_mut(&n).expect("counted above");
            methods[(r.0 + r.1) as usize] = f;
            r.1 += 1;
        }
        MethodsByName { ranges, methods }
    }

    /// The functions named `name`, if any.
    pub fn get(&self, name: Name) -> Option<&[FuncRef]> {
        let &(start, len) = self.ranges.get(&name)?;
        Some(&self.methods[start as usize..(start + len) as usize])
    }
}

#[derive(Debug, Default)]
pub struct Index {
    /// The module path each file's top level belongs to (from the include graph).
    pub file_module: Vec<Vec<Name>>,
    /// Files that include each file (for warnings and cycles).
    pub included_by: Vec<Vec<u32>>,
    /// Named methods by name (inner functions excluded).
    pub by_name: MethodsByName,
    /// Call methods by the type they are defined for.
    pub functors: HashMap<Name, Vec<FuncRef>>,
    /// Structs by name: (file, index in that file's structs).
    pub structs: HashMap<Name, Vec<(u32, usize)>>,
    /// The types the workspace declares, by name: (supertype, whether abstract). A name
    /// declared twice keeps its first declaration.
    pub types: HashMap<Name, (Option<Name>, bool)>,
    /// Scopes by unit and full module path (`[]` is the unit's `Main`).
    pub scopes: HashMap<(u32, Vec<Name>), ModuleScope>,
    /// The program units: which files form one program and what each loads.
    pub units: crate::units::Units,
    /// Names of all workspace modules.
    pub module_names: HashSet<Name>,
    /// Full module path of each file's top level and of each of its modules, by file and
    /// then module index plus one (0: the top level). Built once: every call's resolution
    /// asks for the module of its caller and of each candidate method.
    module_paths: Vec<Vec<Vec<Name>>>,
}

impl Index {
    pub fn build(
        files: &[FileFacts],
        include_edges: &[(u32, u32, Option<ModIdx>, crate::facts::Span)],
        units: crate::units::Units,
    ) -> Index {
        let mut index = Index {
            file_module: vec![Vec::new(); files.len()],
            included_by: vec![Vec::new(); files.len()],
            units,
            ..Index::default()
        };
        index.place_files(files, include_edges);

        let mut named: Vec<(Name, FuncRef)> = Vec::new();
        // What a test item's module uses without saying so (`using Test, <Package>`, its
        // setup modules), in the unit's `Main`.
        for (unit, names) in &index.units.implicit_usings {
            let scope = index.scopes.entry((*unit, Vec::new())).or_default();
            scope.usings.extend(names.iter().copied());
        }
        for (fi, facts) in files.iter().enumerate() {
            let fi = fi as u32;
            for m in &facts.modules {
                index.module_names.insert(m.name);
            }
            for (idx, f) in facts.functions.iter().enumerate() {
                let r = FuncRef {
                    file: fi,
                    func: idx as FuncIdx,
                };
                let is_inner = f.parent.get().is_some_and(|p| {
                    !matches!(
                        facts.functions[p as usize].kind,
                        FunctionKind::TopLevel | FunctionKind::Region { .. }
                    )
                });
                match &f.kind {
                    FunctionKind::Named if !is_inner => {
                        if let Some(n) = &f.name {
                            named.push((*n, r));
                        }
                    }
                    FunctionKind::Functor { type_name, .. } => {
                        index.functors.entry(*type_name).or_default().push(r)
                    }
                    _ => {}
                }
            }
            for (si, s) in facts.structs.iter().enumerate() {
                index.structs.entry(s.name).or_default().push((fi, si));
            }
            for t in &facts.types {
                (index.types)
                    .entry(t.name)
                    .or_insert((t.supertype, t.is_abstract));
            }
            let unit = index.units.unit_of(fi);
            let setup: Vec<(u32, &crate::facts::Import)> = (index.units.setup_imports.iter())
                .filter(|s| s.1 == fi)
                .map(|&(u, _, i)| (u, &facts.imports[i as usize]))
                .collect();
            let own = facts.imports.iter().map(|imp| (unit, imp));
            for (unit, imp) in own.chain(setup) {
                let scope = index
                    .scopes
                    .entry((unit, index.module_path(fi, imp.module).to_vec()))
                    .or_default();
                let module = imp
                    .path
                    .iter()
                    .rfind(|p| p.as_str() != ".")
                    .cloned()
                    .unwrap_or_default();
                match (&imp.names, &imp.alias) {
                    (Some(names), _) => {
                        for n in names {
                            scope.imported.insert(*n, module);
                        }
                    }
                    (None, Some(alias)) => {
                        scope.aliases.insert(*alias, module);
                    }
                    (None, None) => {
                        if imp.is_using {
                            scope.usings.push(module);
                        } else {
                            // `import X` makes `X.f` available, nothing unqualified.
                            scope.aliases.insert(module, module);
                            // `import X.f`: the function `f` of `X`, as `import X: f`.
                            if let [.., from, name] = imp.path.as_slice() {
                                if name.starts_with(char::is_lowercase) && from.as_str() != "." {
                                    scope.imported.insert(*name, *from);
                                }
                            }
                        }
                    }
                }
            }
            for (m, name) in &facts.exports {
                index
                    .scopes
                    .entry((unit, index.module_path(fi, *m).to_vec()))
                    .or_default()
                    .exports
                    .insert(*name);
            }
            // `const CRC = ChainRulesCore`: an alias of a module.
            for a in &facts.assigns {
                let owner = &facts.functions[a.func as usize];
                if owner.kind != FunctionKind::TopLevel {
                    continue;
                }
                if let crate::facts::Value::Ident(target) = &a.value {
                    if target.chars().next().is_some_and(char::is_uppercase) {
                        let path = index.module_path(fi, owner.module.get()).to_vec();
                        index
                            .scopes
                            .entry((unit, path))
                            .or_default()
                            .aliases
                            .insert(a.var, *target);
                    }
                }
            }
        }
        index.by_name = MethodsByName::new(named);
        index
    }

    /// The module of each file and of each module in it: files nobody includes are roots
    /// in Main; an included file lives in the module where its `include` call is.
    fn place_files(
        &mut self,
        files: &[FileFacts],
        include_edges: &[(u32, u32, Option<ModIdx>, crate::facts::Span)],
    ) {
        let mut children: Vec<Vec<(u32, Option<ModIdx>)>> = vec![Vec::new(); files.len()];
        for &(from, to, module, _) in include_edges {
            children[from as usize].push((to, module));
            self.included_by[to as usize].push(from);
        }
        let mut visited = vec![false; files.len()];
        let mut queue: VecDeque<u32> = (0..files.len() as u32)
            .filter(|&f| self.included_by[f as usize].is_empty())
            .collect();
        // Include cycles with no outside root: start them in Main too.
        let mut pending: Vec<u32> = (0..files.len() as u32).collect();
        loop {
            while let Some(f) = queue.pop_front() {
                if std::mem::replace(&mut visited[f as usize], true) {
                    continue;
                }
                for &(child, module) in &children[f as usize] {
                    if !visited[child as usize] {
                        let mut path = self.file_module[f as usize].clone();
                        path.extend(module_chain(&files[f as usize], module));
                        self.file_module[child as usize] = path;
                        queue.push_back(child);
                    }
                }
            }
            match pending.iter().position(|&f| !visited[f as usize]) {
                Some(i) => queue.push_back(pending.swap_remove(i)),
                None => break,
            }
        }
        self.module_paths = files
            .iter()
            .zip(&self.file_module)
            .map(|(facts, top)| {
                std::iter::once(None)
                    .chain((0..facts.modules.len()).map(|m| Some(m as ModIdx)))
                    .map(|m| {
                        let mut path = top.clone();
                        path.extend(module_chain(facts, m));
                        path
                    })
                    .collect()
            })
            .collect();
    }

    /// Full module path of a module index in a file (`None`: the file's top level).
    pub fn module_path(&self, file: u32, module: Option<ModIdx>) -> &[Name] {
        &self.module_paths[file as usize][module.map_or(0, |m| m as usize + 1)]
    }

    /// Full module path of a function.
    pub fn function_module(&self, f: FuncRef, files: &[FileFacts]) -> &[Name] {
        let func = &files[f.file as usize].functions[f.func as usize];
        self.module_path(f.file, func.module.get())
    }

    /// The unit of a file.
    pub fn unit_of(&self, file: u32) -> u32 {
        self.units.unit_of(file)
    }

    /// Whether code in file `from` may reach the definitions of file `to` (same program,
    /// or one that `from`'s program loads).
    pub fn sees(&self, from: u32, to: u32) -> bool {
        self.units.sees(self.unit_of(from), self.unit_of(to))
    }

    /// The scopes of module path `module` as `unit` sees them: its own, and those of the
    /// units whose top level is shared with it (a file included by several programs).
    fn scopes_at<'s>(
        &'s self,
        unit: u32,
        module: &'s [Name],
    ) -> impl Iterator<Item = &'s ModuleScope> + 's {
        let key = module.to_vec();
        (self.units.main_with(unit).iter()).filter_map(move |&u| self.scopes.get(&(u, key.clone())))
    }

    /// Whether `name` is brought into `module` from one of `packages` (by `using` or by
    /// an explicit import).
    pub fn package_in_scope(
        &self,
        unit: u32,
        module: &[Name],
        packages: &[String],
        name: Name,
    ) -> bool {
        let mut m = module.to_vec();
        loop {
            for scope in self.scopes_at(unit, &m) {
                if scope.usings.iter().any(|u| packages.iter().any(|p| p == u)) {
                    return true;
                }
                if scope
                    .imported
                    .get(&name)
                    .is_some_and(|from| packages.iter().any(|p| p == from))
                {
                    return true;
                }
            }
            // Submodules see what their parents loaded only through `using`; be generous
            // and look outward, since files are often `include`d in odd places.
            if m.pop().is_none() {
                return false;
            }
        }
    }

    /// What an unqualified `name` not defined in the workspace refers to in `module` of
    /// `unit`: the module whose binding it is, found through the `using`/`import`s of
    /// the module and the modules around it. An explicit `using X: name` or `import X:
    /// name` decides; otherwise the modules brought in whole by `using` that export it
    /// (`exporter(module, name)` gives the module whose binding a module exports, when
    /// it does). Two `using`s exporting different bindings make it ambiguous, as Julia
    /// refuses the call.
    pub fn external_binding(
        &self,
        unit: u32,
        module: &[Name],
        name: Name,
        exporter: &dyn Fn(Name, Name) -> Option<Name>,
    ) -> ExternalBinding {
        let mut m = module.to_vec();
        loop {
            let mut found: Vec<Name> = Vec::new();
            for scope in self.scopes_at(unit, &m) {
                if let Some(&from) = scope.imported.get(&name) {
                    let from = self.unalias(unit, &m, from);
                    return ExternalBinding::Module(exporter(from, name).unwrap_or(from));
                }
                for &used in &scope.usings {
                    if let Some(b) = exporter(used, name) {
                        found.push(b);
                    }
                }
            }
            found.sort();
            found.dedup();
            match found.as_slice() {
                [one] => return ExternalBinding::Module(*one),
                [] => {}
                many => return ExternalBinding::Ambiguous(many.to_vec()),
            }
            if m.pop().is_none() {
                return ExternalBinding::Unknown;
            }
        }
    }

    /// Whether `rrule` names ChainRulesCore's function in `module` (imported there or in a
    /// module around it: files are often `include`d in odd places).
    pub fn imports_rrule(&self, unit: u32, module: &[Name]) -> bool {
        let rrule = Name::new("rrule");
        let mut m = module.to_vec();
        loop {
            for scope in self.scopes_at(unit, &m) {
                let from = scope.imported.get(&rrule);
                if from.is_some_and(|f| f == "ChainRulesCore" || f == "ChainRules") {
                    return true;
                }
            }
            if m.pop().is_none() {
                return false;
            }
        }
    }

    /// Resolve a module qualifier through aliases (`DI` -> `DifferentiationInterface`).
    pub fn unalias(&self, unit: u32, module: &[Name], qualifier: Name) -> Name {
        let mut m = module.to_vec();
        loop {
            for scope in self.scopes_at(unit, &m) {
                if let Some(target) = scope.aliases.get(&qualifier) {
                    return *target;
                }
            }
            if m.pop().is_none() {
                return qualifier;
            }
        }
    }

    /// Methods named `name` visible from `module` of `unit`: its own, then those of used
    /// modules that export the name or were imported by name. Returns whether the match
    /// is certain. Only methods of the programs `unit` sees are candidates.
    pub fn visible_methods(
        &self,
        unit: u32,
        module: &[Name],
        name: Name,
        files: &[FileFacts],
    ) -> (Vec<FuncRef>, bool) {
        let Some(all) = self.by_name.get(name) else {
            return (vec![], true);
        };
        let seen = |f: &FuncRef| self.units.sees(unit, self.unit_of(f.file));
        let main = self.units.main_with(unit);
        let in_module = |m: &[Name]| -> Vec<FuncRef> {
            all.iter()
                .copied()
                .filter(|&f| {
                    self.function_module(f, files) == m
                        && (self.unit_of(f.file) == unit || main.contains(&self.unit_of(f.file)))
                })
                .collect()
        };
        // Methods that extend another module's function (`Base.show`, or `f` after
        // `import ..Parent: f`) are reachable by dispatch from every program that loads
        // them.
        let extending: Vec<FuncRef> = (all.iter().copied())
            .filter(|f| seen(f) && self.extended_module(*f, name, files).is_some())
            .collect();
        let mut found = Vec::new();
        let mut m = module.to_vec();
        loop {
            found.extend(in_module(&m));
            for scope in self.scopes_at(unit, &m) {
                for used in &scope.usings {
                    for f in all.iter().filter(|f| seen(f)) {
                        let fm = self.function_module(*f, files);
                        if fm.last() == Some(used) && self.exports(self.unit_of(f.file), fm, name) {
                            found.push(*f);
                        }
                    }
                }
                if let Some(from) = scope.imported.get(&name) {
                    for f in all.iter().filter(|f| seen(f)) {
                        if self.function_module(*f, files).last() == Some(from) {
                            found.push(*f);
                        }
                    }
                }
            }
            if !found.is_empty() || m.pop().is_none() {
                break;
            }
        }
        found.extend(extending);
        found.sort();
        found.dedup();
        if found.is_empty() {
            // Not visible by the rules above (a module set up in a way adlint cannot follow,
            // such as `@reexport`): the methods of that name in this program, and the
            // exported ones of the programs it loads, as possible targets. A loaded
            // package's unexported function is not reachable by its bare name.
            let possible: Vec<FuncRef> = (all.iter().copied())
                .filter(|f| {
                    let u = self.unit_of(f.file);
                    u == unit
                        || main.contains(&u)
                        || (seen(f) && self.exports(u, self.function_module(*f, files), name))
                })
                .collect();
            return (possible, false);
        }
        (found, true)
    }

    fn exports(&self, unit: u32, module: &[Name], name: Name) -> bool {
        self.scopes_at(unit, module)
            .any(|s| s.exports.contains(&name))
    }

    /// Methods named `name` of the workspace module whose name is `module_name`, in the
    /// programs `unit` sees: defined in it, or extending its function from elsewhere.
    pub fn methods_in_module(
        &self,
        unit: u32,
        module_name: Name,
        name: Name,
        files: &[FileFacts],
    ) -> Vec<FuncRef> {
        self.by_name
            .get(name)
            .map(|all| {
                all.iter()
                    .copied()
                    .filter(|&f| {
                        self.units.sees(unit, self.unit_of(f.file))
                            && (self.function_module(f, files).last() == Some(&module_name)
                                || self.extended_module(f, name, files) == Some(module_name))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the method `f` (named `name`) adds to a function defined outside the
    /// workspace (`Base.show`, `SciMLBase.remake`).
    pub fn extends_external(&self, f: FuncRef, name: Name, files: &[FileFacts]) -> bool {
        self.extended_module(f, name, files)
            .is_some_and(|m| !self.module_names.contains(&m))
    }

    /// The module whose function the method `f` (named `name`) adds to, when it is not its
    /// own: the qualifier of `function M.f(...)`, or `M` when `f` was imported from `M`
    /// (`import ..M: f` then `function f(...)`, as Julia requires for extending).
    fn extended_module(&self, f: FuncRef, name: Name, files: &[FileFacts]) -> Option<Name> {
        let def = &files[f.file as usize].functions[f.func as usize];
        if let Some(&q) = def.qualifier.last() {
            return Some(q);
        }
        let own = self.function_module(f, files);
        let from = self
            .scopes_at(self.unit_of(f.file), own)
            .find_map(|s| s.imported.get(&name).copied())?;
        (own.last() != Some(&from)).then_some(from)
    }

    /// Whether a struct of this name is declared `mutable` anywhere in the workspace.
    pub fn struct_mutability(&self, name: Name, files: &[FileFacts]) -> Option<bool> {
        let defs = self.structs.get(&name)?;
        Some(
            defs.iter()
                .any(|&(f, s)| files[f as usize].structs[s].mutable),
        )
    }
}

fn module_chain(facts: &FileFacts, module: Option<ModIdx>) -> Vec<Name> {
    let mut chain = Vec::new();
    let mut cur = module;
    let mut guard = 0;
    while let Some(m) = cur {
        guard += 1;
        if guard > 256 {
            break;
        }
        let def = &facts.modules[m as usize];
        chain.push(def.name);
        cur = def.parent;
    }
    chain.reverse();
    chain
}

/// The workspace's own AD rules (`rrule`, `@adjoint`, `@non_differentiable` ...) that cover a
/// function, by target name: named apart from `rules`, adlint's lint rules.
#[derive(Debug, Default)]
pub struct CustomRules {
    pub by_target: HashMap<Name, Vec<(u32, usize)>>,
    /// The workspace's struct types: concrete, so two different ones hold no common value.
    concrete: HashSet<Name>,
    /// The workspace's declared types: (supertype, whether abstract).
    types: HashMap<Name, (Option<Name>, bool)>,
}

impl CustomRules {
    /// The declarations in effect. An `rrule` defined without a qualifier is a method of
    /// ChainRulesCore's `rrule` only where its module imports the name (`import
    /// ChainRulesCore: rrule`); after `using ChainRulesCore` alone it defines a function of
    /// its own, which Zygote never calls (zygote-semantics.md §6.1).
    pub fn build(files: &[FileFacts], index: &Index) -> CustomRules {
        let mut r = CustomRules {
            concrete: index.structs.keys().copied().collect(),
            types: index.types.clone(),
            ..CustomRules::default()
        };
        for (fi, facts) in files.iter().enumerate() {
            for (di, d) in facts.rule_decls.iter().enumerate() {
                let unit = index.unit_of(fi as u32);
                if d.bare && !index.imports_rrule(unit, index.module_path(fi as u32, d.module)) {
                    continue;
                }
                r.by_target
                    .entry(d.target)
                    .or_default()
                    .push((fi as u32, di));
            }
        }
        r
    }

    /// The supertypes of a workspace struct up to `Any`, when every one is a type of the
    /// workspace (an external supertype may have any ancestors).
    fn ancestors(&self, name: &str) -> Option<Vec<Name>> {
        let mut cur = Name::lookup(name).filter(|n| self.concrete.contains(n))?;
        let mut up = Vec::new();
        loop {
            match self.types.get(&cur)? {
                (Some(sup), _) => {
                    if up.contains(sup) || up.len() > 64 {
                        return None;
                    }
                    up.push(*sup);
                    cur = *sup;
                }
                (None, _) => return Some(up),
            }
        }
    }

    /// A rule of the generated tables that Zygote uses instead of entering a workspace
    /// method named `name` with this arity and these parameters. `extends` tells whether the
    /// method may be a method of the rule's function at all (see the call graph's cuts). A
    /// rule covers the argument types it is declared for: one whose declared type at some
    /// position cannot hold what the method takes there (two different concrete types of
    /// the workspace or the ecosystem, or two families [`crate::facts::types_disjoint`]
    /// tells apart) does not cover it; a rule younger than the version of its package in the
    /// manifest (`version_of`) does not exist there; an `@opt_out` that may match restores
    /// traversal.
    pub fn ecosystem_covering<'k>(
        &self,
        knowledge: &'k crate::knowledge::Knowledge,
        name: &str,
        extends: &dyn Fn(&crate::knowledge::tables::RuleRow) -> bool,
        arity: (usize, Option<usize>),
        params: &[crate::facts::Param],
        version_of: &dyn Fn(&str) -> Option<crate::version::Version>,
    ) -> Option<&'k crate::knowledge::tables::RuleRow> {
        use crate::knowledge::tables::Arity;
        let is_struct = |t: &str| {
            Name::lookup(t).is_some_and(|n| self.concrete.contains(&n))
                || knowledge.is_ecosystem_struct(t)
        };
        // A type the rule declares, as opposed to a type variable of its `where` clause
        // (`x::T`, `f::F`, `A::TA`), which may be anything: a known family, a type of the
        // workspace or the ecosystem, or a name longer than type variables are written.
        let known_type = |t: &str| {
            crate::facts::type_family(t).is_some()
                || is_struct(t)
                || Name::lookup(t).is_some_and(|n| self.types.contains_key(&n))
                || (t.chars().count() > 3
                    && t.starts_with(|c: char| c.is_uppercase())
                    && t.chars().all(|c| c.is_alphanumeric() || c == '_')
                    && !matches!(t, "Union" | "Type" | "Vararg" | "Any"))
        };
        let disjoint = |a: &str, b: &str| {
            let (x, y) = (
                crate::facts::base_type_name(a),
                crate::facts::base_type_name(b),
            );
            crate::facts::types_disjoint(a, b)
                || (x != y && is_struct(&x) && is_struct(&y))
                // A workspace struct whose supertypes are all known, none of them the
                // declared type.
                || (x != y
                    && known_type(&x)
                    && self.ancestors(&y).is_some_and(|up| !up.iter().any(|u| *u == x)))
        };
        let wanted = Arity {
            min: arity.0,
            max: arity.1,
        };
        let mut cover = None;
        for r in knowledge.ecosystem_rules(name) {
            if r.functor || !r.backends.contains(&crate::backend::Backend::Zygote) || !extends(r) {
                continue;
            }
            if r.arity.is_some_and(|a| !a.overlaps(&wanted)) {
                continue;
            }
            // A rule younger than the package the manifest holds does not exist there.
            let since = r.since.as_deref().and_then(crate::version::Version::parse);
            if since.is_some_and(|s| version_of(&r.package).is_some_and(|v| v < s)) {
                continue;
            }
            let declared: Vec<crate::facts::Param> =
                r.params.iter().map(|p| decode_param(p)).collect();
            if crate::facts::positional_pairs(&declared, params).any(|(a, b)| disjoint(&a, &b)) {
                continue;
            }
            if r.kind == "opt_out" {
                return None;
            }
            cover.get_or_insert(r);
        }
        cover
    }

    /// Whether a rule declared for `declared` cannot apply to a method taking `params`
    /// because at some position they name two different struct types of the workspace
    /// (concrete, so holding no common value). [`crate::facts::RuleDecl::may_cover`]
    /// decides what the annotations alone tell.
    fn structs_disjoint(
        &self,
        declared: &[crate::facts::Param],
        params: &[crate::facts::Param],
    ) -> bool {
        let structs = |a: &str, b: &str| {
            let (a, b) = (
                crate::facts::base_type_name(a),
                crate::facts::base_type_name(b),
            );
            a != b
                && [&a, &b]
                    .iter()
                    .all(|t| Name::lookup(t).is_some_and(|n| self.concrete.contains(&n)))
        };
        crate::facts::positional_pairs(declared, params).any(|(a, b)| structs(&a, &b))
    }

    /// The declaration that stops Zygote from entering a method with this name (or functor
    /// type), arity and parameters, unless an `@opt_out` restores traversal. A rule applies
    /// to the argument types it is declared for (zygote-semantics.md §6.1): one whose
    /// declared type at some position cannot hold what the method takes there
    /// (`@non_differentiable f(::Vector{Int})` for `f(g::AbstractMatrix)`) does not cover it.
    /// Only declarations of programs that see the method's file count (`declared_in`
    /// says whether a file's declarations do): two scripts' rules do not cover each
    /// other's functions.
    pub fn covering<'f>(
        &self,
        files: &'f [FileFacts],
        declared_in: &dyn Fn(u32) -> bool,
        name: Name,
        functor: bool,
        arity: (usize, Option<usize>),
        params: &[crate::facts::Param],
    ) -> Option<&'f crate::facts::RuleDecl> {
        let decls = self.by_target.get(&name)?;
        let mut cover = None;
        for &(f, d) in decls {
            if !declared_in(f) {
                continue;
            }
            let decl = &files[f as usize].rule_decls[d];
            if decl.functor != functor && decl.kind != RuleDeclKind::NoGrad {
                continue;
            }
            if !decl.may_cover(arity, params) || self.structs_disjoint(&decl.params, params) {
                continue;
            }
            if decl.kind == RuleDeclKind::OptOut {
                return None;
            }
            cover.get_or_insert(decl);
        }
        cover
    }
}

/// A parameter of a generated rule as the facts hold one: its type (`Any` for none), then
/// `=` for a default or `...` for the rest.
fn decode_param(p: &str) -> crate::facts::Param {
    let (ty, vararg, has_default) = if let Some(t) = p.strip_suffix("...") {
        (t, true, false)
    } else if let Some(t) = p.strip_suffix('=') {
        (t, false, true)
    } else {
        (p, false, false)
    };
    crate::facts::Param {
        name: None,
        annotation: (!ty.is_empty() && ty != "Any").then(|| Name::new(ty)),
        has_default,
        vararg,
    }
}
