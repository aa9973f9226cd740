//! `adlint.toml` / `.adlint.toml`: parsing, validation with line numbers and "did you mean"
//! hints, and the per-file rule selection it implies.
//!
//! Two kinds of keys. Per-file keys (`select`, `extend-select`, `ignore`, `per-file-ignores`,
//! `[severity]`) come from the config nearest to each file. Whole-program keys
//! (`zygote-version`, `confirm-memory`, `confirm-timeout`, `exclude`, `[entry-points]`,
//! `[knowledge]`) come from the config of the package root, because one analysis has one
//! call graph and one run of the program. Discovery lives in `workspace`.

use crate::diagnostic::{Category, Severity};
use crate::knowledge::{ExtraEntry, ExtraMutating, KnowledgeExtension};
use crate::version::Version;
use std::path::{Path, PathBuf};
use toml::de::{DeString, DeTable, DeValue};
use toml::Spanned;

/// File names adlint looks for, in order, in each directory.
pub const FILE_NAMES: [&str; 2] = ["adlint.toml", ".adlint.toml"];

/// A glob from a config file, relative to the config's directory.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    glob: globset::GlobMatcher,
    /// A pattern without `/` matches a file or directory name at any depth.
    by_name: bool,
}

impl Pattern {
    fn new(text: &str) -> Result<Pattern, String> {
        let trimmed = text.trim_start_matches("./").trim_end_matches('/');
        let glob = globset::GlobBuilder::new(trimmed)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("`{text}` is not a valid glob: {}", e.kind()))?;
        Ok(Pattern {
            text: text.to_string(),
            glob: glob.compile_matcher(),
            by_name: !trimmed.contains('/'),
        })
    }

    /// Whether `rel` (relative to the config's directory) or one of the directories it is
    /// in matches.
    pub fn matches(&self, rel: &Path) -> bool {
        let mut cur = Some(rel);
        while let Some(p) = cur {
            if p.as_os_str().is_empty() {
                break;
            }
            if self.glob.is_match(p)
                || (self.by_name && p.file_name().is_some_and(|n| self.glob.is_match(n)))
            {
                return true;
            }
            cur = p.parent();
        }
        false
    }
}

#[derive(Debug, Clone)]
pub struct PerFileIgnore {
    pub pattern: Pattern,
    pub rules: Vec<String>,
}

/// One config file (or the defaults, with `path: None`).
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub path: Option<PathBuf>,
    /// The directory globs are relative to.
    pub dir: PathBuf,
    pub select: Option<Vec<String>>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    pub per_file_ignores: Vec<PerFileIgnore>,
    pub exclude: Vec<Pattern>,
    pub zygote_version: Option<Version>,
    /// The reference interpreter's budgets (`confirm-memory`, `confirm-timeout`).
    pub confirm: ConfirmLimits,
    /// Severity overrides by rule name or category.
    pub severity: Vec<(String, Severity)>,
    pub entry_points: Vec<ExtraEntry>,
    pub knowledge: KnowledgeExtension,
    /// Every rule name or category the file writes, with its place. The parser does not
    /// know the rules (they come later in the pipeline); [`Config::check_selectors`] is
    /// given them (`rules::check_config`).
    pub selectors: Vec<SelectorUse>,
}

/// A rule name or category written in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorUse {
    pub name: String,
    /// Where it is written, for the message: ``in `ignore` ``, `in [severity]`.
    pub place: String,
    pub line: usize,
    pub column: usize,
    /// Whether `ALL` may stand here (not as a key of `[severity]`).
    pub all_allowed: bool,
}

impl Config {
    /// The first rule name or category of the file that `known` refuses, as the error the
    /// user sees, with the nearest of `names` as a hint.
    pub fn check_selectors(
        &self,
        known: impl Fn(&str) -> bool,
        names: &[&str],
    ) -> Result<(), ConfigError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        match (self.selectors.iter())
            .find(|s| !known(&s.name) || (s.name == "ALL" && !s.all_allowed))
        {
            None => Ok(()),
            Some(s) => Err(ConfigError {
                path: path.clone(),
                line: s.line,
                column: s.column,
                message: format!(
                    "unknown rule or category `{}` {}{}",
                    s.name,
                    s.place,
                    hint(&s.name, names)
                ),
            }),
        }
    }
}

/// The reference interpreter's budgets a user sets: `--confirm-memory` and
/// `--confirm-timeout`, or the config's `confirm-memory` and `confirm-timeout`. `None`
/// keeps the interpreter's default (`refad::Budget`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfirmLimits {
    /// Bytes of values alive at once.
    pub memory: Option<u64>,
    /// Milliseconds of one run of the program.
    pub millis: Option<u64>,
}

impl ConfirmLimits {
    /// These limits, with `other`'s where these set none.
    pub fn or(self, other: ConfirmLimits) -> ConfirmLimits {
        ConfirmLimits {
            memory: self.memory.or(other.memory),
            millis: self.millis.or(other.millis),
        }
    }
}

/// The least memory budget a user may set: the interpreter's prelude (Flux's models in
/// Julia) needs some to load.
pub const MIN_MEMORY: u64 = 1 << 20;

/// A memory budget as a user writes it: a number and a unit, `512MiB`, `2GiB`, `1.5GB`.
/// Units: `B`; `kB`, `MB`, `GB`, `TB` (powers of 1000); `KiB`, `MiB`, `GiB`, `TiB` (powers
/// of 1024). The error says what is wrong, for `--confirm-memory` and `confirm-memory`.
pub fn parse_memory(text: &str) -> Result<u64, String> {
    const UNITS: [(&str, f64); 9] = [
        ("B", 1.0),
        ("kB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("TB", 1e12),
        ("KiB", 1024.0),
        ("MiB", 1048576.0),
        ("GiB", 1073741824.0),
        ("TiB", 1099511627776.0),
    ];
    let bytes = quantity(text, &UNITS, "512MiB")?;
    if bytes < MIN_MEMORY as f64 {
        return Err(format!(
            "`{text}` is less than 1MiB, which the interpreter needs to start"
        ));
    }
    Ok(bytes as u64)
}

/// A time budget as a user writes it, in milliseconds: `10s`, `500ms`, `1.5min`. Units:
/// `ms`, `s`, `min`.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    const UNITS: [(&str, f64); 3] = [("ms", 1.0), ("s", 1e3), ("min", 6e4)];
    let millis = quantity(text, &UNITS, "10s")?;
    if millis < 1.0 {
        return Err(format!("`{text}` is less than 1ms"));
    }
    Ok(millis as u64)
}

/// A decimal number followed by one of `units` (an optional space between; any case), in
/// the unit of factor 1, rounded down; at most 2^53 of it (where `f64` counts exactly).
fn quantity(text: &str, units: &[(&str, f64)], example: &str) -> Result<f64, String> {
    let names = units.iter().map(|u| u.0).collect::<Vec<_>>().join(", ");
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim_start());
    let value: f64 = match number.parse() {
        Ok(v) if !number.starts_with('.') && !number.ends_with('.') => v,
        _ => {
            return Err(format!(
                "`{text}` is not a number with a unit, such as {example}"
            ))
        }
    };
    if unit.is_empty() {
        return Err(format!(
            "`{text}` has no unit; write it as {example} (units: {names})"
        ));
    }
    let Some(&(_, factor)) = units.iter().find(|u| u.0.eq_ignore_ascii_case(unit)) else {
        return Err(format!(
            "`{unit}` in `{text}` is not a unit; the units are {names}"
        ));
    };
    let amount = (value * factor).floor();
    if amount > (1u64 << 53) as f64 {
        return Err(format!("`{text}` is too large"));
    }
    Ok(amount)
}

/// A config problem, located in its file. Shown as `path:line:column: message`.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    /// The path as findings show theirs: relative to the working directory when below it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cwd = std::env::current_dir().unwrap_or_default();
        let path = crate::workspace::display_path(&self.path, &cwd);
        if self.line == 0 {
            write!(f, "{}: {}", path, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                path, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

const TOP_KEYS: [&str; 12] = [
    "select",
    "extend-select",
    "ignore",
    "per-file-ignores",
    "exclude",
    "zygote-version",
    "confirm-memory",
    "confirm-timeout",
    "severity",
    "entry-points",
    "knowledge",
    "version",
];
const KNOWLEDGE_KEYS: [&str; 3] = ["mutating", "has-rule", "foreigncall"];
const SEVERITIES: [&str; 3] = ["error", "warning", "info"];

/// ` (did you mean `x`?)` when a candidate is close, else nothing.
pub fn hint(wrong: &str, candidates: &[&str]) -> String {
    did_you_mean(wrong, candidates)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

struct Parser<'a> {
    path: &'a Path,
    text: &'a str,
    /// The rule names and categories met so far, in the order written.
    selectors: std::cell::RefCell<Vec<SelectorUse>>,
}

impl Parser<'_> {
    fn error(&self, offset: usize, message: String) -> ConfigError {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        ConfigError {
            path: self.path.to_path_buf(),
            line,
            column,
            message,
        }
    }

    fn string<'v>(&self, key: &str, v: &'v Spanned<DeValue>) -> Result<&'v str, ConfigError> {
        match v.get_ref() {
            DeValue::String(s) => Ok(s.as_ref()),
            other => Err(self.error(
                v.span().start,
                format!("`{key}` must be a string, not {}", kind(other)),
            )),
        }
    }

    /// A string with a unit (`"512MiB"`, `"10s"`), read by `parse`.
    fn quantity(
        &self,
        key: &str,
        v: &Spanned<DeValue>,
        example: &str,
        parse: fn(&str) -> Result<u64, String>,
    ) -> Result<u64, ConfigError> {
        let at = v.span().start;
        match v.get_ref() {
            DeValue::String(s) => parse(s).map_err(|m| self.error(at, format!("`{key}`: {m}"))),
            other => Err(self.error(
                at,
                format!(
                    "`{key}` must be a string such as \"{example}\", not {}",
                    kind(other)
                ),
            )),
        }
    }

    fn strings(
        &self,
        key: &str,
        v: &Spanned<DeValue>,
    ) -> Result<Vec<Spanned<String>>, ConfigError> {
        let DeValue::Array(items) = v.get_ref() else {
            return Err(self.error(
                v.span().start,
                format!(
                    "`{key}` must be an array of strings, not {}",
                    kind(v.get_ref())
                ),
            ));
        };
        items
            .iter()
            .map(|item| {
                let s = self.string(key, item)?;
                Ok(Spanned::new(item.span(), s.to_string()))
            })
            .collect()
    }

    /// An array of rule names or categories, each recorded for the rule registry's check.
    fn selectors(&self, key: &str, v: &Spanned<DeValue>) -> Result<Vec<String>, ConfigError> {
        let names = self.strings(key, v)?;
        for s in &names {
            self.selector(s.get_ref(), s.span().start, format!("in `{key}`"), true);
        }
        Ok(names.into_iter().map(Spanned::into_inner).collect())
    }

    fn selector(&self, name: &str, offset: usize, place: String, all_allowed: bool) {
        let at = self.error(offset, String::new());
        self.selectors.borrow_mut().push(SelectorUse {
            name: name.to_string(),
            place,
            line: at.line,
            column: at.column,
            all_allowed,
        });
    }

    /// `[entry-points]`: `"MyPkg.train" = 2` or `{ function-arg = 2 }`.
    fn entry_points(
        &self,
        k: &str,
        value: &Spanned<DeValue>,
        out: &mut Vec<ExtraEntry>,
    ) -> Result<(), ConfigError> {
        for (name, spec) in self.table(k, value)?.iter() {
            let full: &str = name.get_ref();
            let (module, bare) = split_qualified(full);
            let Some(module) = module else {
                return Err(self.error(
                    name.span().start,
                    format!(
                        "entry point `{full}` needs its module, as in `MyPkg.{full}`, so that adlint knows which `{full}` is meant"
                    ),
                ));
            };
            let key = format!("entry-points.\"{full}\"");
            let function_arg = match spec.get_ref() {
                DeValue::Table(t) => {
                    let mut arg = None;
                    for (sk, sv) in t.iter() {
                        match sk.get_ref().as_ref() {
                            "function-arg" => arg = Some(self.positive("function-arg", sv)?),
                            _ => return Err(self.unknown_key(sk, &key, &["function-arg"])),
                        }
                    }
                    arg.ok_or_else(|| {
                        self.error(spec.span().start, format!("`{key}` needs `function-arg`"))
                    })?
                }
                _ => self.positive(&key, spec)?,
            };
            out.push(ExtraEntry {
                module: module.rsplit('.').next().unwrap_or(module).to_string(),
                name: bare.to_string(),
                function_arg,
            });
        }
        Ok(())
    }

    /// `[knowledge]`: mutating functions, functions with a rule, foreign calls.
    fn knowledge(
        &self,
        k: &str,
        value: &Spanned<DeValue>,
        out: &mut KnowledgeExtension,
    ) -> Result<(), ConfigError> {
        for (sk, sv) in self.table(k, value)?.iter() {
            let sub: &str = sk.get_ref();
            let key = format!("knowledge.{sub}");
            match sub {
                "mutating" => {
                    let DeValue::Array(items) = sv.get_ref() else {
                        return Err(self.error(
                            sv.span().start,
                            format!("`{key}` must be an array of names or {{ name, arg }} tables"),
                        ));
                    };
                    for item in items.iter() {
                        let m = match item.get_ref() {
                            DeValue::String(s) => ExtraMutating {
                                name: split_qualified(s).1.to_string(),
                                arg: 1,
                            },
                            DeValue::Table(t) => {
                                let mut name = None;
                                let mut arg = 1;
                                for (tk, tv) in t.iter() {
                                    match tk.get_ref().as_ref() {
                                        "name" => name = Some(self.string("name", tv)?.to_string()),
                                        "arg" => arg = self.positive("arg", tv)?,
                                        _ => return Err(self.unknown_key(tk, &key, &["name", "arg"])),
                                    }
                                }
                                let name = name.ok_or_else(|| {
                                    self.error(item.span().start, format!("an entry of `{key}` needs `name`"))
                                })?;
                                ExtraMutating {
                                    name: split_qualified(&name).1.to_string(),
                                    arg,
                                }
                            }
                            other => {
                                return Err(self.error(
                                    item.span().start,
                                    format!("an entry of `{key}` must be a name or a {{ name, arg }} table, not {}", kind(other)),
                                ))
                            }
                        };
                        out.mutating.push(m);
                    }
                }
                "has-rule" => {
                    for s in self.strings(&key, sv)? {
                        out.has_rule
                            .push(split_qualified(s.get_ref()).1.to_string());
                    }
                }
                "foreigncall" => {
                    for s in self.strings(&key, sv)? {
                        out.foreigncall.push(s.into_inner());
                    }
                }
                _ => return Err(self.unknown_key(sk, "knowledge", &KNOWLEDGE_KEYS)),
            }
        }
        Ok(())
    }

    fn table<'v>(
        &self,
        key: &str,
        v: &'v Spanned<DeValue<'v>>,
    ) -> Result<&'v DeTable<'v>, ConfigError> {
        match v.get_ref() {
            DeValue::Table(t) => Ok(t),
            other => Err(self.error(
                v.span().start,
                format!("`{key}` must be a table, not {}", kind(other)),
            )),
        }
    }

    fn unknown_key(&self, key: &Spanned<DeString>, section: &str, known: &[&str]) -> ConfigError {
        let place = if section.is_empty() {
            String::new()
        } else {
            format!(" in [{section}]")
        };
        self.error(
            key.span().start,
            format!(
                "unknown key `{}`{place}{}; known keys: {}",
                key.get_ref(),
                hint(key.get_ref(), known),
                known.join(", ")
            ),
        )
    }

    fn positive(&self, key: &str, v: &Spanned<DeValue>) -> Result<usize, ConfigError> {
        match v.get_ref() {
            DeValue::Integer(i) if i.radix() == 10 => match i.as_str().parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(self.error(
                    v.span().start,
                    format!(
                        "`{key}` must be a positive argument position (1 is the first argument)"
                    ),
                )),
            },
            other => Err(self.error(
                v.span().start,
                format!("`{key}` must be an integer, not {}", kind(other)),
            )),
        }
    }
}

fn kind(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Split `MyPkg.Sub.train` into (`MyPkg.Sub`, `train`); a bare name has no module.
fn split_qualified(name: &str) -> (Option<&str>, &str) {
    match name.rsplit_once('.') {
        Some((m, n)) if !m.is_empty() && !n.is_empty() => (Some(m), n),
        _ => (None, name),
    }
}

/// Parse and validate a config file's text.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let p = Parser {
        path,
        text,
        selectors: Default::default(),
    };
    let doc = DeTable::parse(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        p.error(offset, format!("not valid TOML: {}", e.message().trim()))
    })?;
    let mut config = Config {
        path: Some(path.to_path_buf()),
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        ..Config::default()
    };
    for (key, value) in doc.get_ref().iter() {
        let k: &str = key.get_ref();
        match k {
            "select" => config.select = Some(p.selectors(k, value)?),
            "extend-select" => config.extend_select = p.selectors(k, value)?,
            "ignore" => config.ignore = p.selectors(k, value)?,
            "exclude" => {
                for s in p.strings(k, value)? {
                    let pat = Pattern::new(s.get_ref()).map_err(|m| p.error(s.span().start, m))?;
                    config.exclude.push(pat);
                }
            }
            "zygote-version" => {
                let s = p.string(k, value)?;
                config.zygote_version = Some(Version::parse(s).ok_or_else(|| {
                    p.error(
                        value.span().start,
                        format!("`zygote-version` `{s}` is not a version such as \"0.6.70\""),
                    )
                })?);
            }
            "confirm-memory" => {
                config.confirm.memory = Some(p.quantity(k, value, "512MiB", parse_memory)?);
            }
            "confirm-timeout" => {
                config.confirm.millis = Some(p.quantity(k, value, "10s", parse_duration)?);
            }
            // Reserved for the config format itself; only version 1 exists.
            "version" => {
                if p.positive(k, value)? != 1 {
                    return Err(p.error(
                        value.span().start,
                        "this adlint understands config `version = 1` only".to_string(),
                    ));
                }
            }
            "per-file-ignores" => {
                for (glob, rules) in p.table(k, value)?.iter() {
                    let pattern =
                        Pattern::new(glob.get_ref()).map_err(|m| p.error(glob.span().start, m))?;
                    let key = format!("per-file-ignores.\"{}\"", glob.get_ref());
                    let rules = p.selectors(&key, rules)?;
                    config
                        .per_file_ignores
                        .push(PerFileIgnore { pattern, rules });
                }
            }
            "severity" => {
                for (rule, level) in p.table(k, value)?.iter() {
                    let r: &str = rule.get_ref();
                    p.selector(r, rule.span().start, "in [severity]".to_string(), false);
                    let l = p.string(&format!("severity.{r}"), level)?;
                    let sev = match l {
                        "error" => Severity::Error,
                        "warning" => Severity::Warning,
                        "info" => Severity::Info,
                        other => {
                            return Err(p.error(
                                level.span().start,
                                format!(
                                "severity `{other}` for `{r}` is not one of error, warning, info{}",
                                hint(other, &SEVERITIES)
                            ),
                            ))
                        }
                    };
                    config.severity.push((r.to_string(), sev));
                }
            }
            "entry-points" => p.entry_points(k, value, &mut config.entry_points)?,
            "knowledge" => p.knowledge(k, value, &mut config.knowledge)?,
            _ => return Err(p.unknown_key(key, "", &TOP_KEYS)),
        }
    }
    config.selectors = p.selectors.into_inner();
    Ok(config)
}

/// The largest config read (a config is a few lines; a larger one is some other file).
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Read and parse a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = crate::workspace::read_text(path, MAX_CONFIG_BYTES).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: match e.starts_with("not UTF-8") {
            true => "the config is not UTF-8 text".to_string(),
            false => format!("cannot read the config: {e}"),
        },
    })?;
    parse(path, &text)
}

/// The closest candidate by edit distance, when it is close enough to be a typo, else a
/// candidate that the wrong name abbreviates (`foreign` for `foreigncall`).
pub fn did_you_mean<'a>(wrong: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(wrong, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| c)
        .or_else(|| {
            (wrong.len() >= 4)
                .then(|| candidates.iter().find(|c| c.starts_with(wrong)).copied())
                .flatten()
        })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The rules in effect for one file: selectors from the command line and the file's config.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

/// How specific a selector is for a rule: the rule's own name beats its category, which
/// beats `ALL`; `None` when it does not match.
fn specificity(selector: &str, rule: &str, category: Category) -> Option<u8> {
    if selector == rule {
        Some(2)
    } else if selector == category.as_str() {
        Some(1)
    } else if selector == "ALL" {
        Some(0)
    } else {
        None
    }
}

impl Selection {
    /// The selection with no config file.
    pub fn default_for(cli: &CliSelection) -> Selection {
        Config::default().selection(cli, Path::new(""))
    }

    /// Enabled when the most specific matching `select` is more specific than the most
    /// specific matching `ignore` (so `select = ["mutation"]`, `ignore = ["index-assignment"]`
    /// runs the other mutation rules, and `ignore = ["mutation"]` with
    /// `extend-select = ["index-assignment"]` keeps that one).
    pub fn enabled(&self, rule: &str, category: Category) -> bool {
        let best = |list: &[String]| {
            list.iter()
                .filter_map(|s| specificity(s, rule, category))
                .max()
        };
        match (best(&self.select), best(&self.ignore)) {
            (Some(s), Some(i)) => s > i,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// Command-line selectors, which take precedence over config files.
#[derive(Debug, Clone, Default)]
pub struct CliSelection {
    /// Replaces the config's `select` when not empty.
    pub select: Vec<String>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
}

impl Config {
    /// The selection for a file at `path` (absolute) under this config.
    pub fn selection(&self, cli: &CliSelection, path: &Path) -> Selection {
        let mut select = if !cli.select.is_empty() {
            cli.select.clone()
        } else {
            self.select
                .clone()
                .unwrap_or_else(|| vec!["ALL".to_string()])
        };
        if cli.select.is_empty() {
            select.extend(self.extend_select.iter().cloned());
        }
        select.extend(cli.extend_select.iter().cloned());
        let mut ignore = self.ignore.clone();
        ignore.extend(cli.ignore.iter().cloned());
        if let Ok(rel) = path.strip_prefix(&self.dir) {
            for pfi in &self.per_file_ignores {
                if pfi.pattern.matches(rel) {
                    ignore.extend(pfi.rules.iter().cloned());
                }
            }
        }
        Selection { select, ignore }
    }

    /// The configured severity of a rule: its own entry, else its category's.
    pub fn severity_for(&self, rule: &str, category: Category) -> Option<Severity> {
        self.severity
            .iter()
            .find(|(k, _)| k == rule)
            .or_else(|| self.severity.iter().find(|(k, _)| k == category.as_str()))
            .map(|&(_, s)| s)
    }

    /// Whether keys that only the package root's config may set are present.
    pub fn has_whole_program_keys(&self) -> bool {
        self.zygote_version.is_some()
            || self.confirm != ConfirmLimits::default()
            || !self.exclude.is_empty()
            || !self.entry_points.is_empty()
            || !self.knowledge.is_empty()
    }

    /// Whether `path` (absolute) is excluded by this config's `exclude`.
    pub fn excludes(&self, path: &Path) -> bool {
        match path.strip_prefix(&self.dir) {
            Ok(rel) => self.exclude.iter().any(|p| p.matches(rel)),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Config, ConfigError> {
        parse(Path::new("/p/adlint.toml"), text)
    }

    #[test]
    fn patterns_match_files_directories_and_names() {
        let p = Pattern::new("test/**").unwrap();
        assert!(p.matches(Path::new("test/a.jl")));
        assert!(p.matches(Path::new("test/sub/a.jl")));
        assert!(!p.matches(Path::new("src/test.jl")));
        let d = Pattern::new("scripts").unwrap();
        assert!(d.matches(Path::new("scripts/run.jl")));
        assert!(d.matches(Path::new("deep/scripts/run.jl")));
        let n = Pattern::new("*_gen.jl").unwrap();
        assert!(n.matches(Path::new("src/model_gen.jl")));
        let s = Pattern::new("src/*.jl").unwrap();
        assert!(s.matches(Path::new("src/a.jl")));
        assert!(!s.matches(Path::new("src/sub/a.jl")));
    }

    #[test]
    fn selection_prefers_the_more_specific_selector() {
        let sel = |select: &[&str], ignore: &[&str]| Selection {
            select: select.iter().map(|s| s.to_string()).collect(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
        };
        let m = Category::Mutation;
        assert!(sel(&["ALL"], &[]).enabled("index-assignment", m));
        assert!(!sel(&["mutation"], &["index-assignment"]).enabled("index-assignment", m));
        assert!(sel(&["mutation"], &["index-assignment"]).enabled("mutating-call", m));
        assert!(sel(&["ALL", "index-assignment"], &["mutation"]).enabled("index-assignment", m));
        assert!(!sel(&["mutation"], &["mutation"]).enabled("index-assignment", m));
        assert!(!sel(&["try-catch"], &[]).enabled("index-assignment", m));
    }

    #[test]
    fn errors_name_line_column_and_a_hint() {
        let e = parse_str("select = [\"mutation\"]\nignroe = [\"x\"]\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("did you mean `ignore`"), "{}", e.message);
        // Rule names are checked against the rules the caller gives (`rules::check_config`).
        let c = parse_str("select = [\"index-asignment\"]").unwrap();
        let e =
            (c.check_selectors(|s| s == "index-assignment", &["index-assignment"])).unwrap_err();
        assert_eq!((e.line, e.column), (1, 11));
        assert!(
            e.message.contains("did you mean `index-assignment`"),
            "{}",
            e.message
        );
        let e = parse_str("select = \"mutation\"").unwrap_err();
        assert!(
            e.message
                .contains("must be an array of strings, not a string"),
            "{}",
            e.message
        );
        let e = parse_str("[severity]\nboxed-variable = \"eror\"").unwrap_err();
        assert!(e.message.contains("did you mean `error`"), "{}", e.message);
        assert_eq!(e.line, 2);
        let e = parse_str("not toml [").unwrap_err();
        assert!(e.message.starts_with("not valid TOML"), "{}", e.message);
        let e = parse_str("[entry-points]\ntrain = 2").unwrap_err();
        assert!(e.message.contains("needs its module"), "{}", e.message);
        let e = parse_str("[knowledge]\nmutatng = []").unwrap_err();
        assert!(
            e.message.contains("did you mean `mutating`"),
            "{}",
            e.message
        );
        let e = parse_str("zygote-version = \"new\"").unwrap_err();
        assert!(e.message.contains("not a version"), "{}", e.message);
        let e = parse_str("exclude = [\"[\"]").unwrap_err();
        assert!(e.message.contains("not a valid glob"), "{}", e.message);
        let e = parse_str("[entry-points]\n\"M.f\" = 0").unwrap_err();
        assert!(
            e.message.contains("positive argument position"),
            "{}",
            e.message
        );
    }

    #[test]
    fn every_key_is_read() {
        let c = parse_str(
            r#"
version = 1
select = ["mutation", "try-catch"]
extend-select = ["boxed-variable"]
ignore = ["mutating-call"]
exclude = ["scripts", "gen/*.jl"]
zygote-version = "0.6.70"

[per-file-ignores]
"test/**" = ["mutation"]

[severity]
try-catch = "warning"
mutation = "info"

[entry-points]
"MyPkg.train" = 2
"MyPkg.Sub.fit" = { function-arg = 1 }

[knowledge]
mutating = ["MyPkg.fill_buf!", { name = "scatter!", arg = 2 }]
has-rule = ["Fast.kernel"]
foreigncall = ["cwrap", "Lib.call_c"]
"#,
        )
        .unwrap();
        assert_eq!(c.select.as_deref().unwrap(), ["mutation", "try-catch"]);
        assert_eq!(c.extend_select, ["boxed-variable"]);
        assert_eq!(c.ignore, ["mutating-call"]);
        assert_eq!(c.exclude.len(), 2);
        assert_eq!(c.zygote_version, Some(Version(0, 6, 70)));
        assert_eq!(c.per_file_ignores[0].rules, ["mutation"]);
        assert_eq!(
            c.severity_for("try-catch", Category::TryCatch),
            Some(Severity::Warning)
        );
        assert_eq!(
            c.severity_for("index-assignment", Category::Mutation),
            Some(Severity::Info)
        );
        assert_eq!(
            c.severity_for("boxed-variable", Category::BoxedVariable),
            None
        );
        assert_eq!(
            c.entry_points,
            [
                ExtraEntry {
                    module: "MyPkg".into(),
                    name: "train".into(),
                    function_arg: 2
                },
                ExtraEntry {
                    module: "Sub".into(),
                    name: "fit".into(),
                    function_arg: 1
                },
            ]
        );
        assert_eq!(
            c.knowledge.mutating,
            [
                ExtraMutating {
                    name: "fill_buf!".into(),
                    arg: 1
                },
                ExtraMutating {
                    name: "scatter!".into(),
                    arg: 2
                },
            ]
        );
        assert_eq!(c.knowledge.has_rule, ["kernel"]);
        assert_eq!(c.knowledge.foreigncall, ["cwrap", "Lib.call_c"]);
        let sel = c.selection(&CliSelection::default(), Path::new("/p/test/t.jl"));
        assert!(!sel.enabled("index-assignment", Category::Mutation));
        assert!(sel.enabled("try-catch", Category::TryCatch));
        let sel = c.selection(&CliSelection::default(), Path::new("/p/src/a.jl"));
        assert!(sel.enabled("index-assignment", Category::Mutation));
        assert!(!sel.enabled("mutating-call", Category::Mutation));
        assert!(sel.enabled("boxed-variable", Category::BoxedVariable));
        assert!(!sel.enabled("nested-ad", Category::NestedAd));
        assert!(c.excludes(Path::new("/p/scripts/x.jl")));
        assert!(c.excludes(Path::new("/p/gen/x.jl")));
        assert!(!c.excludes(Path::new("/p/src/x.jl")));
    }
}
