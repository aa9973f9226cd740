use std::process::ExitCode;

fn main() -> ExitCode {
    match adlint::cli::run() {
        Ok(code) => code,
        // The reader of the output went away (`adlint check | head`): nothing is left to
        // say, and saying it would be noise on the terminal (what `cat` and `rg` do too).
        Err(e) if broken_pipe(&e) => ExitCode::from(2),
        Err(e) => {
            // Errors quote names and values from the user's files and arguments (a rule
            // name, a config value): their control characters are made visible.
            let text = format!("{e:#}");
            eprintln!("error: {}", adlint::render::visible_lines(&text));
            ExitCode::from(2)
        }
    }
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    (e.chain()).any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
