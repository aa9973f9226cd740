//! The generated knowledge tables (`generated.tsv`, and a project's `.adlint/knowledge.tsv`):
//! rules with their signatures, functions that end in a foreign call, functions that write
//! into an argument, and the concrete types of the packages read. The generator
//! (`crate::generator`) computes them from the ecosystem's source; this module holds the
//! rows and their text form, which every row's provenance is part of.

use crate::backend::Backend;
use serde::{Deserialize, Serialize};

/// Positional arity bounds: `min` required, `max` at most (`None`: varargs). Written `2`,
/// `1-3`, `1+`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arity {
    pub min: usize,
    pub max: Option<usize>,
}

impl Arity {
    pub fn admits(&self, n: usize) -> bool {
        n >= self.min && self.max.is_none_or(|m| n <= m)
    }

    pub fn overlaps(&self, other: &Arity) -> bool {
        let lo = self.min.max(other.min);
        let hi = match (self.max, other.max) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => usize::MAX,
        };
        lo <= hi
    }

    pub fn parse(s: &str) -> Option<Arity> {
        if let Some(min) = s.strip_suffix('+') {
            return Some(Arity {
                min: min.parse().ok()?,
                max: None,
            });
        }
        match s.split_once('-') {
            Some((a, b)) => Some(Arity {
                min: a.parse().ok()?,
                max: Some(b.parse().ok()?),
            }),
            None => {
                let n = s.parse().ok()?;
                Some(Arity {
                    min: n,
                    max: Some(n),
                })
            }
        }
    }
}

impl std::fmt::Display for Arity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.max {
            None => write!(f, "{}+", self.min),
            Some(m) if m == self.min => write!(f, "{m}"),
            Some(m) => write!(f, "{}-{m}", self.min),
        }
    }
}

impl Serialize for Arity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Arity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Arity, D::Error> {
        let s = String::deserialize(d)?;
        Arity::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad arity `{s}`")))
    }
}

/// Which backends use a rule of this kind. A ChainRules `rrule` is Zygote's; Enzyme,
/// Mooncake and ReverseDiff use one only when imported with their own macros (a row of its
/// own: `import:mooncake`, `import:enzyme`, `import:reversediff`, `import:tracker`).
/// `@adjoint`, `@nograd` and `_pullback` are Zygote's alone; `frule`s are used by none of
/// the analysed backends.
pub fn backends_of(kind: &str) -> &'static [Backend] {
    match kind {
        "import:mooncake" => &[Backend::Mooncake],
        "import:enzyme" => &[Backend::Enzyme],
        "import:reversediff" => &[Backend::ReverseDiff],
        "import:tracker" => &[Backend::Tracker],
        "rrule" | "scalar_rule" | "non_differentiable" | "adjoint" | "nograd" | "pullback"
        | "opt_out" => &[Backend::Zygote],
        _ => &[],
    }
}

/// A row of the rules table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    pub kind: String,
    pub function: String,
    pub functor: bool,
    /// The package that declares it.
    pub package: String,
    pub arity: Option<Arity>,
    pub params: Vec<String>,
    pub backends: Vec<Backend>,
    /// The package version from which the rule exists, when it is younger than the oldest
    /// version adlint was told about.
    pub since: Option<String>,
    pub source: String,
}

/// A function that ends in a foreign call for every method of these arities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignRow {
    pub function: String,
    pub package: String,
    /// The module the function belongs to when it is not the package's own: the
    /// qualifier of its definition (`Base` of `Base.copyto!`) or the submodule around it
    /// (`BLAS`).
    pub module: String,
    /// Exported by one of the sources: a call without a qualifier may reach it. Otherwise
    /// only a call qualified by its package or module does.
    pub exported: bool,
    pub arities: Vec<usize>,
    /// The path to the foreign call: `unsafe_copyto! -> ccall at base/array.jl:280`.
    pub via: String,
    pub source: String,
}

/// A function that writes into its argument `dest` for every method of these arities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutatingRow {
    pub function: String,
    pub package: String,
    /// The module the function belongs to when it is not the package's own: the
    /// qualifier of its definition (`Base` of `Base.copyto!`) or the submodule around it
    /// (`BLAS`).
    pub module: String,
    /// Exported by one of the sources: a call without a qualifier may reach it. Otherwise
    /// only a call qualified by its package or module does.
    pub exported: bool,
    pub dest: usize,
    pub arities: Vec<usize>,
    pub via: String,
    pub source: String,
}

/// The generated tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tables {
    /// Concrete types and the package defining each.
    pub structs: Vec<(String, String)>,
    pub rules: Vec<RuleRow>,
    pub foreign: Vec<ForeignRow>,
    pub mutating: Vec<MutatingRow>,
}

/// The header of `generated.tsv`.
pub const HEADER: &str = "# Generated by `adlint knowledge`: do not edit.\n# Columns, tab-separated: table, function, package, module, arity or arities, detail, backends, scope, since, source.\n";

impl Tables {
    /// The tables as tab-separated lines, sorted, one row per line: `rule` rows give the
    /// kind (and `functor`) and the parameters joined by `;`, `foreign` rows the path to
    /// the foreign call, `mutating` rows the written argument and how.
    pub fn render(&self) -> String {
        // One line of the ten columns, tabs, line breaks and other control characters
        // inside a value made spaces.
        let line = |cols: [&str; 10]| {
            cols.map(|c| c.replace(|ch: char| ch.is_control(), " "))
                .join("\t")
        };
        let scope = |exported: bool| if exported { "exported" } else { "qualified" };
        let list = |a: &[usize]| {
            a.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut lines: Vec<String> = Vec::new();
        for (name, package) in &self.structs {
            lines.push(line(["struct", name, package, "", "", "", "", "", "", ""]));
        }
        for r in &self.rules {
            let kind = if r.functor {
                format!("{} functor", r.kind)
            } else {
                r.kind.clone()
            };
            let backends: Vec<&str> = r.backends.iter().map(|b| b.as_str()).collect();
            lines.push(line([
                "rule",
                &r.function,
                &r.package,
                "",
                &r.arity.map_or("*".to_string(), |a| a.to_string()),
                &format!("{kind}: {}", r.params.join(";")),
                &backends.join(","),
                "",
                r.since.as_deref().unwrap_or(""),
                &r.source,
            ]));
        }
        for r in &self.foreign {
            lines.push(line([
                "foreign",
                &r.function,
                &r.package,
                &r.module,
                &list(&r.arities),
                &r.via,
                "zygote",
                scope(r.exported),
                "",
                &r.source,
            ]));
        }
        for r in &self.mutating {
            lines.push(line([
                "mutating",
                &r.function,
                &r.package,
                &r.module,
                &list(&r.arities),
                &format!("{}: {}", r.dest, r.via),
                "zygote",
                scope(r.exported),
                "",
                &r.source,
            ]));
        }
        lines.sort();
        lines.dedup();
        let mut out = HEADER.to_string();
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
        out
    }

    /// Read what [`Tables::render`] wrote; a line that does not parse is an error naming it.
    pub fn parse(text: &str) -> Result<Tables, String> {
        let mut t = Tables::default();
        for (i, line) in text.lines().enumerate() {
            match Row::parse(line).map_err(|NotARow| format!("line {}: not a table row", i + 1))? {
                None => {}
                Some(Row::Struct(name, package)) => t.structs.push((name, package)),
                Some(Row::Rule(r)) => t.rules.push(r),
                Some(Row::Foreign(r)) => t.foreign.push(r),
                Some(Row::Mutating(r)) => t.mutating.push(r),
            }
        }
        Ok(t)
    }
}

/// A line that is no row of the text form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotARow;

/// One row of the text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A concrete type and its package.
    Struct(String, String),
    Rule(RuleRow),
    Foreign(ForeignRow),
    Mutating(MutatingRow),
}

impl Row {
    /// The name a row is looked up by (its function, or its type), without reading the
    /// rest of the line: the second column.
    pub fn key(line: &str) -> Option<&str> {
        if line.starts_with('#') {
            return None;
        }
        let mut cols = line.splitn(3, '\t');
        cols.next()?;
        cols.next().filter(|k| !k.is_empty())
    }

    /// A line of the text form: `None` for a comment or a blank line.
    pub fn parse(line: &str) -> Result<Option<Row>, NotARow> {
        if line.starts_with('#') || line.trim().is_empty() {
            return Ok(None);
        }
        let mut cols = line.split('\t');
        let mut next = || cols.next().ok_or(NotARow);
        let (table, function, package, module, arity) =
            (next()?, next()?, next()?, next()?, next()?);
        let (detail, backends, scope, since, source) =
            (next()?, next()?, next()?, next()?, next()?);
        if cols.next().is_some() {
            return Err(NotARow);
        }
        let arities = || -> Result<Vec<usize>, NotARow> {
            arity
                .split(',')
                .map(|n| n.parse().map_err(|_| NotARow))
                .collect()
        };
        Ok(Some(match table {
            "struct" => Row::Struct(function.to_string(), package.to_string()),
            "rule" => {
                let (kind, params) = detail.split_once(": ").ok_or(NotARow)?;
                let (kind, functor) = match kind.strip_suffix(" functor") {
                    Some(k) => (k, true),
                    None => (kind, false),
                };
                Row::Rule(RuleRow {
                    kind: kind.to_string(),
                    function: function.to_string(),
                    functor,
                    package: package.to_string(),
                    arity: if arity == "*" {
                        None
                    } else {
                        Some(Arity::parse(arity).ok_or(NotARow)?)
                    },
                    params: if params.is_empty() {
                        Vec::new()
                    } else {
                        params.split(';').map(str::to_string).collect()
                    },
                    backends: backends
                        .split(',')
                        .filter(|b| !b.is_empty())
                        .map(|b| {
                            Backend::ALL
                                .into_iter()
                                .find(|x| x.as_str() == b)
                                .ok_or(NotARow)
                        })
                        .collect::<Result<_, _>>()?,
                    since: (!since.is_empty()).then(|| since.to_string()),
                    source: source.to_string(),
                })
            }
            "foreign" => Row::Foreign(ForeignRow {
                function: function.to_string(),
                package: package.to_string(),
                module: module.to_string(),
                exported: scope == "exported",
                arities: arities()?,
                via: detail.to_string(),
                source: source.to_string(),
            }),
            "mutating" => {
                let (dest, via) = detail.split_once(": ").ok_or(NotARow)?;
                Row::Mutating(MutatingRow {
                    function: function.to_string(),
                    package: package.to_string(),
                    module: module.to_string(),
                    exported: scope == "exported",
                    dest: dest.parse().map_err(|_| NotARow)?,
                    arities: arities()?,
                    via: via.to_string(),
                    source: source.to_string(),
                })
            }
            _ => return Err(NotARow),
        }))
    }
}
