//! The command line's progress bar on stderr: files parsed, then rules run over the code
//! under the entry points, and the phases between them as a spinner. It is drawn only
//! after a run has taken [`DELAY`] ([`delay`]) (a run of the usual second draws nothing), only on a
//! terminal, and never in the machine-readable formats or with `--quiet`: the CLI decides
//! ([`wanted`]). The language server never makes one.

use crate::analysis::{Progress, ProgressHook};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a run goes before its progress is drawn.
pub const DELAY: Duration = Duration::from_secs(1);

/// [`DELAY`], or `ADLINT_PROGRESS_DELAY_MS` milliseconds when that is set: the tests draw
/// the bar at once (on a pseudo-terminal) to see that it is drawn and cleared.
pub fn delay() -> Duration {
    std::env::var("ADLINT_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(DELAY, Duration::from_millis)
}

/// Whether a run shows progress: stderr is a terminal, the output is for people (`full`
/// or `concise`), and `--quiet` was not given.
pub fn wanted(human_output: bool, quiet: bool) -> bool {
    use std::io::IsTerminal;
    human_output && !quiet && std::io::stderr().is_terminal()
}

/// A progress bar that stays hidden until [`DELAY`] has passed, then draws on stderr.
/// [`Bar::finish`] clears it; it must be called before anything else is written to the
/// terminal (findings, notes), which would otherwise be drawn over.
pub struct Bar {
    bar: ProgressBar,
    /// Dropped by `finish`: tells the thread that shows the bar that the run is over.
    stop: Mutex<Option<mpsc::Sender<()>>>,
    shower: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Bar {
    /// A bar that shows itself after `delay` unless the run has finished.
    pub fn start(delay: Duration) -> Arc<Bar> {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(spinner_style());
        let (stop, stopped) = mpsc::channel::<()>();
        if delay.is_zero() {
            // Drawn from the first phase on, not from whenever the thread below runs.
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        let shown = bar.clone();
        let shower = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(delay) {
                    shown.set_draw_target(ProgressDrawTarget::stderr());
                    shown.enable_steady_tick(Duration::from_millis(120));
                    shown.tick();
                    // Until `finish` drops the sender.
                    let _ = stopped.recv();
                }
            })
            .ok();
        Arc::new(Bar {
            bar,
            stop: Mutex::new(Some(stop)),
            shower: Mutex::new(shower),
        })
    }

    /// The bar as the analysis's progress hook.
    pub fn hook(self: &Arc<Bar>) -> ProgressHook {
        ProgressHook(self.clone())
    }

    /// Clears the bar from the terminal (if it was drawn); later phases draw nothing.
    pub fn finish(&self) {
        drop(self.stop.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(shower) = self.shower.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = shower.join();
        }
        self.bar.finish_and_clear();
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Progress for Bar {
    fn phase(&self, what: &str, total: usize) {
        if self.bar.is_finished() {
            return;
        }
        // The style first: a bar style drawn without a length shows `0/0`.
        if total == 0 {
            self.bar.set_style(spinner_style());
            self.bar.unset_length();
        } else {
            self.bar.set_style(bar_style());
            self.bar.set_length(total as u64);
        }
        self.bar.set_position(0);
        self.bar.set_message(what.to_string());
    }

    fn step(&self) {
        self.bar.inc(1);
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
        .expect("a valid template")
        .tick_chars("-\\|/ ")
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} [{wide_bar}] {pos}/{len} ({elapsed})")
        .expect("a valid template")
        .tick_chars("-\\|/ ")
        .progress_chars("=> ")
}
