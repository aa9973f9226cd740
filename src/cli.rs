//! The command line: `check`, `graph`, `rules`, `explain`. Parses arguments, calls the library,
//! picks the writer and the exit code. No analysis here.

use crate::analysis::{self, Analysis, Options};
use crate::diagnostic::Severity;
use crate::render::{self, Format};
use crate::rules;
use crate::version::Version;
use crate::workspace::{ConfigChoice, Workspace};
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "adlint",
    version,
    about = "Finds Julia code that Zygote.jl cannot differentiate, before it runs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse a package (or the package around the given files) and report findings.
    Check(CheckArgs),
    /// List every rule: name, category, default severity, summary.
    Rules,
    /// Print a rule's documentation.
    Explain {
        /// A rule name, as listed by `adlint rules`.
        rule: String,
    },
    /// Run the entry points of a file in the reference interpreter: value, gradient, and a
    /// finite-difference check of the gradient.
    Confirm {
        /// A Julia file; its package is loaded around it so that calls resolve.
        file: PathBuf,
        /// Only the entry point on this line.
        #[arg(long)]
        entry: Option<u32>,
        #[command(flatten)]
        budget: BudgetArgs,
    },
    /// Write the call graph from the entry points to the findings, in Graphviz DOT (or SVG
    /// through Graphviz's `dot`).
    Graph(GraphArgs),
    /// Generate a knowledge table from checkouts of Julia packages (for example your
    /// project's dependencies under `~/.julia/packages`): their rules with signatures, and
    /// the functions that end in a foreign call or write into an argument. `check` and the
    /// language server load `.adlint/knowledge.tsv` beside the project's `adlint.toml`.
    Knowledge(KnowledgeArgs),
    /// Run the language server over stdin and stdout.
    Lsp,
    /// Print the facts extracted from one file (for adlint's developers).
    #[command(hide = true)]
    DebugFacts { path: PathBuf },
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files or directories; the whole package around them is analysed, and findings are
    /// reported inside them. Defaults to the current directory.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "full")]
    pub output_format: Format,
    /// Only run these rules or categories (comma-separated); replaces the config's `select`.
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Run these rules or categories in addition to the selected ones.
    #[arg(long, value_delimiter = ',')]
    pub extend_select: Vec<String>,
    /// Skip these rules or categories (comma-separated), in addition to the config's.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    #[command(flatten)]
    pub configs: ConfigArgs,
    /// Print the number of findings per rule and per entry point instead of the findings.
    #[arg(long)]
    pub statistics: bool,
    /// Print the findings and nothing else (no summary, no warnings on stderr).
    #[arg(long, short)]
    pub quiet: bool,
    /// Threads for parsing and analysis (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Hide the findings recorded in this baseline file; report only new ones.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Record today's findings in this baseline file (and exit 0).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Exit with 0 even when there are findings.
    #[arg(long)]
    pub exit_zero: bool,
    /// The lowest severity that makes the run fail.
    #[arg(long, value_enum, default_value = "warning")]
    pub exit_severity: ExitSeverity,
    /// The Zygote version to assume (overrides Manifest.toml), e.g. 0.6.70.
    #[arg(long)]
    pub zygote_version: Option<String>,
    /// Also list unresolved calls and workspace warnings.
    #[arg(long, short)]
    pub verbose: bool,
    /// Also report findings reached only through two or more guessed calls (calls whose
    /// target depends on argument types adlint does not know).
    #[arg(long)]
    pub include_guesses: bool,
    /// Run the entry points in the reference interpreter and mark each finding confirmed,
    /// not reproduced, or not run.
    #[arg(long)]
    pub confirm: bool,
    /// Apply safe fixes to the files (unsafe ones too with --unsafe-fixes).
    #[arg(long)]
    pub fix: bool,
    /// With --fix or --diff: also apply fixes that may change behaviour.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff and write nothing; exit 1 when there are changes.
    #[arg(long)]
    pub diff: bool,
    /// With --fix or --diff: run the entry points in the reference interpreter before and
    /// after each fix, and refuse fixes that change a value or a gradient.
    #[arg(long)]
    pub verify: bool,
    #[command(flatten)]
    pub budget: BudgetArgs,
}

/// The reference interpreter's budgets (`check --confirm`, `check --verify`, `confirm`).
#[derive(Debug, clap::Args)]
pub struct BudgetArgs {
    /// The most memory the reference interpreter's values and tape may take at once, e.g.
    /// 512MiB or 2GiB (default 1GiB; config `confirm-memory`).
    #[arg(long, value_name = "SIZE", value_parser = crate::config::parse_memory)]
    pub confirm_memory: Option<u64>,
    /// The longest one run of the program in the reference interpreter may take, e.g. 10s
    /// or 500ms (default 5s; config `confirm-timeout`).
    #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_duration)]
    pub confirm_timeout: Option<u64>,
}

impl BudgetArgs {
    fn limits(&self) -> crate::config::ConfirmLimits {
        crate::config::ConfirmLimits {
            memory: self.confirm_memory,
            millis: self.confirm_timeout,
        }
    }

    /// The first flag given, for the message when nothing runs the interpreter.
    fn given(&self) -> Option<&'static str> {
        match (self.confirm_memory, self.confirm_timeout) {
            (Some(_), _) => Some("--confirm-memory"),
            (None, Some(_)) => Some("--confirm-timeout"),
            (None, None) => None,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    /// Files or directories, as for `check`: the graph leads to the findings inside them.
    /// Defaults to the current directory.
    pub paths: Vec<PathBuf>,
    /// Only the entry point whose call is on this line of this file (`src/train.jl:15`).
    #[arg(long, value_name = "FILE:LINE")]
    pub entry: Option<String>,
    /// `dot` writes Graphviz's text; `svg` runs Graphviz's `dot -Tsvg` on it.
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub configs: ConfigArgs,
    /// Also draw findings reached only through two or more guessed calls.
    #[arg(long)]
    pub include_guesses: bool,
}

#[derive(clap::Args, Debug)]
pub struct KnowledgeArgs {
    /// Package checkouts: folders with a `Project.toml`, whose `src/` and `ext/` are read
    /// (a folder of versions, such as `~/.julia/packages/Flux`, stands for its newest).
    #[arg(required_unless_present = "builtin")]
    pub paths: Vec<PathBuf>,
    /// Where to write the table.
    #[arg(
        long,
        short,
        value_name = "FILE",
        default_value = ".adlint/knowledge.tsv"
    )]
    pub output: PathBuf,
    /// (developers) Regenerate the built-in tables from the sources this file lists, read
    /// from the checkouts under `--checkouts`; without `--checkouts`, from the committed
    /// extracted facts beside it.
    #[arg(long, value_name = "SOURCES", hide = true)]
    pub builtin: Option<PathBuf>,
    #[arg(long, value_name = "DIR", hide = true, requires = "builtin")]
    pub checkouts: Option<PathBuf>,
    /// (developers) With `--checkouts`: git directories of the sources
    /// (`DIR/<owner>+<name>/repo`), whose releases tell from which version each rule exists.
    #[arg(long, value_name = "DIR", hide = true, requires = "checkouts")]
    pub mirrors: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Svg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExitSeverity {
    Error,
    Warning,
}

/// Which configs a command reads (`check` and `graph`).
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Use this config file for every file, instead of the nearest `adlint.toml`.
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,
    /// Ignore every config file.
    #[arg(long)]
    pub isolated: bool,
}

impl ConfigArgs {
    fn choice(&self) -> ConfigChoice {
        match (&self.config, self.isolated) {
            (_, true) => ConfigChoice::Isolated,
            (Some(c), false) => ConfigChoice::File(c.clone()),
            (None, false) => ConfigChoice::Discover,
        }
    }
}

pub fn run() -> Result<ExitCode> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(ExitCode::from(code));
        }
    };
    match cli.command {
        Command::Check(args) => check(args),
        Command::Graph(args) => graph(args),
        Command::Confirm {
            file,
            entry,
            budget,
        } => {
            worker_threads(None);
            let ws = Workspace::discover(std::slice::from_ref(&file))?;
            crate::rules::check_configs(&ws)?;
            let options = Options {
                confirm: budget.limits(),
                ..Options::default()
            };
            let analysis = crate::fix::analyze(ws, &options);
            let program = crate::refad::confirm::program_files(&analysis, Some(&file));
            if program.files.is_empty() {
                bail!("`{}` is not a readable Julia file", file.display());
            }
            let options = crate::refad::confirm::options_for(&analysis);
            let run = crate::refad::run_program(&program.files, &options);
            let path = file.canonicalize().unwrap_or_else(|_| file.clone());
            let mut out = std::io::stdout().lock();
            let ok =
                crate::refad::confirm::report(&analysis, &program, &run, &path, entry, &mut out)?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Knowledge(args) => knowledge(args),
        Command::Lsp => {
            worker_threads(None);
            match crate::lsp::run_stdio()? {
                true => Ok(ExitCode::SUCCESS),
                // `exit` without `shutdown`: the protocol's error exit.
                false => Ok(ExitCode::from(1)),
            }
        }
        Command::DebugFacts { path } => {
            let text = crate::workspace::read_source(&path).map_err(anyhow::Error::msg)?;
            let facts = crate::facts::extract(&text);
            println!("{facts:#?}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules => {
            let mut out = std::io::stdout().lock();
            let all = rules::all_rules();
            // Columns as wide as their longest entry, so every row lines up.
            let name_w = all.iter().map(|r| r.name().len()).max().unwrap_or(0);
            let cat_w = (all.iter().map(|r| r.category().as_str().len()))
                .max()
                .unwrap_or(0);
            for r in all {
                writeln!(
                    out,
                    "{:<name_w$}  {:<cat_w$}  {:<7}  {}",
                    r.name(),
                    r.category().as_str(),
                    r.default_severity().as_str(),
                    r.summary()
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { rule } => match rules::rule_by_name(&rule) {
            Some(r) => {
                print!("{}", rules::explain_text(r));
                Ok(ExitCode::SUCCESS)
            }
            None => {
                let names: Vec<&str> = rules::all_rules().iter().map(|r| r.name()).collect();
                bail!(
                    "unknown rule `{rule}`{}; `adlint rules` lists them",
                    crate::config::did_you_mean(&rule, &names)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default()
                )
            }
        },
    }
}

/// `--verbose`: each entry with what it differentiates, the entries of other backends,
/// the ambiguous entry names and the unresolved calls, as notes on stderr.
fn write_entry_notes(err: &mut impl Write, analysis: &Analysis) -> std::io::Result<()> {
    for e in &analysis.graph.entries {
        let call = &analysis.facts[e.file as usize].calls[e.call as usize];
        let (line, col) = analysis.line_col(e.file, call.span.start);
        let roots: Vec<String> = e
            .roots
            .iter()
            .map(|r| {
                let f = &analysis.facts[r.file as usize];
                let cut = if analysis.graph.is_cut(*r) {
                    " (rule-covered)"
                } else {
                    ""
                };
                format!("{}{cut}", f.functions[r.func as usize].display_name(f))
            })
            .collect();
        writeln!(
            err,
            "note: entry `{}` at {}:{line}:{col} differentiates {}",
            e.api,
            render::visible(&analysis.workspace.files[e.file as usize].display),
            if roots.is_empty() {
                "nothing adlint can resolve".to_string()
            } else {
                roots.join(", ")
            }
        )?;
    }
    for e in &analysis.graph.other_entries {
        let call = &analysis.facts[e.file as usize].calls[e.call as usize];
        let (line, col) = analysis.line_col(e.file, call.span.start);
        writeln!(
            err,
            "note: entry `{}` at {}:{line}:{col} runs {}, not Zygote: not analysed",
            e.api,
            render::visible(&analysis.workspace.files[e.file as usize].display),
            e.backend.as_str()
        )?;
    }
    for a in &analysis.graph.ambiguous {
        let call = &analysis.facts[a.file as usize].calls[a.call as usize];
        let (line, col) = analysis.line_col(a.file, call.span.start);
        let modules: Vec<String> = a.modules.iter().map(|m| format!("`{m}`")).collect();
        writeln!(
            err,
            "note: `{}` at {}:{line}:{col} is ambiguous ({} export different functions of that name; Julia refuses the call): no entry",
            call.callee.join("."),
            render::visible(&analysis.workspace.files[a.file as usize].display),
            modules.join(" and ")
        )?;
    }
    for u in &analysis.graph.unresolved {
        let (line, col) = analysis.line_col(u.file, u.span.start);
        writeln!(
            err,
            "note: unresolved call `{}` at {}:{line}:{col}",
            u.what(),
            analysis.workspace.files[u.file as usize].display
        )?;
    }
    Ok(())
}

/// The global pool of the threads that parse and analyse, with the parser's stack
/// ([`crate::syntax::PARSE_STACK`]); `n` threads, or one per core.
fn worker_threads(n: Option<usize>) {
    let mut pool = rayon::ThreadPoolBuilder::new().stack_size(crate::syntax::PARSE_STACK);
    if let Some(n) = n {
        pool = pool.num_threads(n);
    }
    // Fails only when the pool exists already (a second run in one process).
    let _ = pool.build_global();
}

fn check(args: CheckArgs) -> Result<ExitCode> {
    for s in args
        .select
        .iter()
        .chain(&args.extend_select)
        .chain(&args.ignore)
    {
        if !analysis::is_valid_selector(s) {
            bail!(
                "unknown rule or category `{s}`{}",
                crate::config::hint(s, &crate::rules::selector_names())
            );
        }
    }
    if args.verify && !args.fix && !args.diff {
        bail!("--verify checks fixes: use it with --fix or --diff");
    }
    if let (Some(flag), false) = (args.budget.given(), args.confirm || args.verify) {
        bail!("{flag} is a budget of the reference interpreter: use it with --confirm or --verify");
    }
    let zygote_version = match &args.zygote_version {
        Some(v) => match Version::parse(v) {
            Some(v) => Some(v),
            None => bail!("--zygote-version `{v}` is not a version such as 0.6.70"),
        },
        None => None,
    };
    worker_threads(args.threads);
    let choice = args.configs.choice();
    let ws = Workspace::discover_with(&args.paths, choice)?;
    crate::rules::check_configs(&ws)?;
    // Every file skipped: the run still writes its (empty) output, then exits 2 (no input
    // file could be read); the reasons are the warnings below.
    let nothing_read = ws.files.is_empty() && !ws.skipped.is_empty();
    // Not locked for the run: the progress bar's thread draws on stderr meanwhile.
    let mut err = std::io::stderr();
    if !args.quiet {
        for s in &ws.skipped {
            let (path, reason) = (render::visible(&s.path), render::visible(&s.reason));
            writeln!(err, "warning: skipped {path}: {reason}")?;
        }
    }
    // Progress on stderr for runs that take long: cleared before anything else is written.
    let human = matches!(args.output_format, Format::Full | Format::Concise);
    let bar = crate::progress::wanted(human, args.quiet)
        .then(|| crate::progress::Bar::start(crate::progress::delay()));
    let options = Options {
        select: args.select.clone(),
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
        zygote_version,
        include_guesses: args.include_guesses,
        confirm: args.budget.limits(),
        profiles: Vec::new(),
        progress: bar.as_ref().map(|b| b.hook()),
    };
    // Fixes (and the builders' help) are built only where they are shown or applied.
    let no_fixes =
        (args.output_format == Format::Concise || args.statistics || args.write_baseline.is_some())
            && !(args.fix || args.diff || args.confirm);
    let mut analysis = match no_fixes {
        true => analysis::analyze(ws, &options),
        false => crate::fix::analyze(ws, &options),
    };
    // The bar goes before fixes and baselines write to stderr; `--confirm` alone runs on.
    if let Some(bar) = &bar {
        match args.confirm && !(args.fix || args.diff) && args.write_baseline.is_none() {
            true => crate::analysis::Progress::phase(
                &**bar,
                "running the entry points in the reference interpreter",
                0,
            ),
            false => bar.finish(),
        }
    }
    if args.fix || args.diff {
        let request = crate::fix::CliRequest {
            unsafe_fixes: args.unsafe_fixes,
            diff_only: args.diff,
            verify: args.verify,
        };
        match crate::fix::run_cli(analysis, &options, request, &mut err)? {
            crate::fix::CliOutcome::Diff(code) => return Ok(code),
            crate::fix::CliOutcome::Fixed(fixed) => analysis = *fixed,
        }
    }
    if let Some(path) = &args.write_baseline {
        let text = crate::suppress::baseline::render(
            &analysis.workspace,
            &analysis.facts,
            &analysis.diagnostics,
        );
        crate::fix::write_output(path, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write the baseline `{}`: {e}", path.display()))?;
        if !args.quiet {
            writeln!(
                err,
                "wrote {} finding{} to the baseline {}",
                analysis.diagnostics.len(),
                if analysis.diagnostics.len() == 1 {
                    ""
                } else {
                    "s"
                },
                path.display()
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(path) = &args.baseline {
        let baseline = crate::suppress::baseline::Baseline::load(path)?;
        analysis.baseline = Some(baseline.apply(&analysis.workspace, &mut analysis.diagnostics));
    }
    if args.confirm {
        let runs = crate::refad::confirm::confirm_diagnostics(&mut analysis);
        if let Some(bar) = &bar {
            bar.finish();
        }
        for unit in &runs {
            if let Some(stop) = &unit.run.stopped {
                let program = match runs.len() {
                    1 => String::new(),
                    _ => format!(" running {}", render::visible(&unit.root)),
                };
                writeln!(
                    err,
                    "note: the reference interpreter stopped{program}: {}{}",
                    stop.reason,
                    budget_hint(&stop.reason)
                )?;
            }
        }
    }
    if let Some(bar) = &bar {
        bar.finish();
    }
    if !args.quiet {
        for w in &analysis.workspace.warnings {
            writeln!(err, "warning: {}", render::visible(w))?;
        }
    }
    if args.verbose {
        write_entry_notes(&mut err, &analysis)?;
    }
    let color = args.output_format == Format::Full
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // Buffered: standard output flushes at each newline, one system call per line of a
    // report that can run to millions of lines.
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if args.statistics {
        render::write_statistics(args.output_format, &analysis, &mut out)?;
    } else {
        render::write(args.output_format, &analysis, &mut out, color)?;
    }
    if args.output_format == Format::Full && !args.quiet {
        render::write_summary(&analysis, &mut out)?;
    }
    out.flush()?;
    let threshold = match args.exit_severity {
        ExitSeverity::Error => Severity::Error,
        ExitSeverity::Warning => Severity::Warning,
    };
    if nothing_read {
        writeln!(err, "error: no input file could be read")?;
        return Ok(ExitCode::from(2));
    }
    if !args.exit_zero && analysis::has_failures(&analysis.diagnostics, threshold) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// After a stop at the memory or the time budget: the flag that raises it.
fn budget_hint(reason: &str) -> &'static str {
    match reason {
        r if r.starts_with("budget: memory") => "; --confirm-memory raises the budget",
        r if r.starts_with("budget: time") => "; --confirm-timeout raises the budget",
        _ => "",
    }
}

/// `FILE:LINE` of `--entry`: the file and the 1-based line.
fn parse_entry(s: &str) -> Result<(PathBuf, usize)> {
    match s.rsplit_once(':') {
        Some((file, line)) if !file.is_empty() => match line.parse::<usize>() {
            Ok(n) if n > 0 => Ok((PathBuf::from(file), n)),
            _ => bail!(
                "--entry `{s}`: `{line}` is not a line number (FILE:LINE, e.g. src/train.jl:15)"
            ),
        },
        _ => bail!("--entry `{s}` is not FILE:LINE (e.g. src/train.jl:15)"),
    }
}

fn graph(args: GraphArgs) -> Result<ExitCode> {
    let entry = args.entry.as_deref().map(parse_entry).transpose()?;
    worker_threads(None);
    let choice = args.configs.choice();
    let ws = Workspace::discover_with(&args.paths, choice)?;
    crate::rules::check_configs(&ws)?;
    let options = Options {
        include_guesses: args.include_guesses,
        ..Options::default()
    };
    let analysis = analysis::analyze(ws, &options);
    let chosen = match &entry {
        Some((file, line)) => {
            let found = render::graph::entries_at(&analysis, file, *line);
            if found.is_empty() {
                let places = render::graph::entry_places(&analysis);
                bail!(
                    "no entry point at {}:{line}; {}",
                    render::visible(&file.display().to_string()),
                    match places.is_empty() {
                        true => "adlint found none in these files".to_string(),
                        false => format!("the entry points are:\n  {}", places.join("\n  ")),
                    }
                );
            }
            Some(found)
        }
        None => None,
    };
    let mut dot = Vec::new();
    render::graph::write_dot(&analysis, chosen.as_deref(), &mut dot)?;
    let bytes = match args.format {
        GraphFormat::Dot => dot,
        GraphFormat::Svg => run_dot(&dot)?,
    };
    match &args.output {
        Some(path) => crate::fix::write_output(path, &bytes)
            .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// SVG of a DOT text, from Graphviz's `dot -Tsvg`.
fn run_dot(dot: &[u8]) -> Result<Vec<u8>> {
    use std::process::{Command, Stdio};
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "--format svg needs Graphviz's `dot` on PATH (Debian and Ubuntu: apt install graphviz; macOS: brew install graphviz); --format dot writes the graph's text without it"
        ),
        Err(e) => bail!("cannot run Graphviz's `dot`: {e}"),
    };
    // Written from a thread: `dot` may fill its stdout pipe before it has read all of stdin.
    let mut stdin = child.stdin.take().expect("piped");
    let text = dot.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&text));
    let out = child.wait_with_output()?;
    let written = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer to `dot` panicked"))?;
    if !out.status.success() {
        bail!(
            "Graphviz's `dot` failed ({}): {}",
            out.status,
            render::visible(String::from_utf8_lossy(&out.stderr).trim())
        );
    }
    written?;
    Ok(out.stdout)
}

/// `adlint knowledge`: generate a table from package checkouts (or, for adlint's
/// developers, the built-in tables).
fn knowledge(args: KnowledgeArgs) -> Result<ExitCode> {
    use crate::generator as generate;
    if let Some(sources_path) = &args.builtin {
        let text = std::fs::read_to_string(sources_path)
            .with_context(|| format!("cannot read {}", sources_path.display()))?;
        let sources = generate::read_sources(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", sources_path.display()))?;
        let dir = sources_path.parent().unwrap_or(Path::new("."));
        let extracted_dir = dir.join("extracted");
        let extracted = match &args.checkouts {
            Some(c) => {
                generate::extract_builtin(&sources, c, &extracted_dir, args.mirrors.as_deref())
            }
            None => generate::read_extracted(&sources, &extracted_dir),
        }
        .map_err(|e| anyhow::anyhow!(e))?;
        let tables = generate::tables(&extracted);
        let out = dir.join("generated.tsv");
        crate::fix::write_output(&out, tables.render().as_bytes())
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!(
            "{}: {} rules, {} foreign-call rows, {} mutating rows from {} sources",
            out.display(),
            tables.rules.len(),
            tables.foreign.len(),
            tables.mutating.len(),
            extracted.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut checkouts = Vec::new();
    for p in &args.paths {
        if !p.is_dir() {
            eprintln!(
                "error: {}: not a folder (give a package checkout)",
                render::visible(&p.display().to_string())
            );
            return Ok(ExitCode::from(2));
        }
        for dir in generate::package_folders(p) {
            if !dir.join("src").is_dir() && !dir.join("ext").is_dir() {
                eprintln!(
                    "warning: {}: no src/ or ext/ folder, nothing is read from it",
                    render::visible(&dir.display().to_string())
                );
            }
            checkouts.push(generate::user_checkout(&dir));
        }
    }
    let mut skipped = Vec::new();
    let extracted = generate::extract(&checkouts, &mut skipped)
        .with_context(|| "cannot read the checkouts".to_string())?;
    for s in &skipped {
        eprintln!("warning: skipped {}", render::visible(&s.to_string()));
    }
    let tables = generate::tables_with(&extracted, &crate::knowledge::get().generated_tables());
    if let Some(parent) = args.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    crate::fix::write_output(&args.output, tables.render().as_bytes())
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    for x in &extracted {
        eprintln!(
            "{}{}: {} rules, {} functions that may end in a foreign call or write an argument",
            render::visible(&x.source.name),
            render::visible(
                &(x.source.version.as_deref()).map_or(String::new(), |v| format!(" v{v}"))
            ),
            x.rules.len(),
            x.functions.len()
        );
    }
    eprintln!(
        "wrote {}: {} rules, {} foreign-call rows, {} mutating rows",
        render::visible(&args.output.display().to_string()),
        tables.rules.len(),
        tables.foreign.len(),
        tables.mutating.len()
    );
    Ok(ExitCode::SUCCESS)
}
