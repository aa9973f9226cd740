//! The language server: `adlint lsp`.
//!
//! It calls the same library as the CLI ([`crate::analysis`]): open documents override the
//! files found on disk, every change re-runs the workspace analysis in the background (facts
//! of unchanged files come from a [`crate::analysis::FactsCache`]), and the result is
//! published as push or pull diagnostics, with hover text and code actions read from the
//! same result.
//!
//! Layout: [`transport`] frames messages and shields tower-lsp-server from malformed
//! input (pushed diagnostics bypass tower-lsp-server's `Client`: they are serialised with
//! the analysis on all threads and queued as finished frames, see [`Outbox`]), `document` keeps each open document's text and tree, `convert` turns byte spans
//! into LSP ranges, `state` holds the workspace and the latest analysis, `analyze` runs it,
//! `features` answers hover and code actions, and `server` is the `LanguageServer` impl.

mod analyze;
mod convert;
mod document;
mod features;
mod server;
mod state;
mod transport;

use std::future::Future;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};

/// Settings of a server instance (tests use [`serve_with`]).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The longest interval between the starts of two analyses in a burst of edits (the
    /// interval is twice the last analysis's time, up to this): an edit after a quiet spell
    /// is analysed at once.
    pub debounce: std::time::Duration,
    /// Enable the test-only requests: `adlint/debugPanic`, which panics inside a handler
    /// (tests of the panic guard), and `adlint/debugDocument`, which returns an open
    /// document's text, version and tree outline (tests of incremental sync).
    pub debug_methods: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            debounce: std::time::Duration::from_millis(20),
            debug_methods: false,
        }
    }
}

/// The body of the next message on a language-server stream (the server's framing, as a
/// client reads it: a message whose headers cannot be used is skipped); `None` at the end.
/// The clients of the harness and of the fuzz driver read the server's output with it.
pub async fn read_message<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Option<Vec<u8>>> {
    loop {
        match transport::read_frame(r).await? {
            Some(transport::Frame::Body(body)) => return Ok(Some(body)),
            Some(transport::Frame::BadHeader(_)) => continue,
            None => return Ok(None),
        }
    }
}

/// Serve over stdin and stdout until the client sends `exit` or closes stdin. Returns
/// whether the session ended as the protocol says: an `exit` after `shutdown` (or the
/// input closed); an `exit` without `shutdown` is an error (the process exits 1).
pub fn run_stdio() -> std::io::Result<bool> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("adlint-lsp")
        .thread_stack_size(crate::syntax::PARSE_STACK)
        .build()?;
    let ending = runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // Reading stdin happens on a blocking thread that may never return; do not wait for it.
    runtime.shutdown_background();
    Ok(!ending.exit_without_shutdown)
}

/// How a session ended.
#[derive(Debug, Default, Clone, Copy)]
pub struct Ending {
    /// The client sent `exit` before any `shutdown` request.
    pub exit_without_shutdown: bool,
}

/// Serve one client over a pair of streams (stdio, a pipe, or an in-memory duplex in
/// tests). Returns after `exit`, or when the input ends.
pub async fn serve<I: AsyncRead + Unpin, O: AsyncWrite>(input: I, output: O) -> Ending {
    serve_with(input, output, ServeOptions::default()).await
}

/// What the client has asked of the session so far, as the proxy saw it go by.
#[derive(Default)]
struct Lifecycle {
    initialized: bool,
    shut_down: bool,
}

/// How long a session whose input ended waits for the answers still being worked on.
const END_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// [`serve`] with options.
pub async fn serve_with<I: AsyncRead + Unpin, O: AsyncWrite>(
    input: I,
    output: O,
    options: ServeOptions,
) -> Ending {
    use tokio::io::AsyncWriteExt;
    use tower_lsp_server::{LspService, Server};

    let (mut to_server, server_in) = tokio::io::duplex(1 << 16);
    let (server_out, from_server) = tokio::io::duplex(1 << 16);
    // Everything the client receives goes through this one queue, in the order queued. It
    // is bounded: a client that stops reading holds up the server's writers (as a full
    // pipe would) instead of letting frames pile up in memory.
    let (outbox, mut outgoing) = tokio::sync::mpsc::channel::<Outgoing>(OUTGOING_FRAMES);

    let debug = options.debug_methods;
    let backend_outbox = outbox.clone();
    let mut builder = LspService::build(move |client| {
        server::Backend::new(client, options, backend_outbox.clone())
    });
    if debug {
        builder = builder
            .custom_method("adlint/debugPanic", server::Backend::debug_panic)
            .custom_method("adlint/debugDocument", server::Backend::debug_document)
            .custom_method("adlint/debugSleep", server::Backend::debug_sleep);
    }
    let (service, socket) = builder.finish();
    let server = Server::new(server_in, server_out, socket).serve(service);

    let errors = outbox.clone();
    let ending = std::sync::Mutex::new((Lifecycle::default(), Ending::default()));
    let ending_ref = &ending;
    let pump_in = async move {
        let mut reader = BufReader::new(input);
        loop {
            match transport::read_frame(&mut reader).await {
                Ok(Some(transport::Frame::Body(body))) => match transport::check_message(&body) {
                    transport::Verdict::Forward { method, request } => {
                        // Whether a `shutdown` request came before `exit` decides the exit
                        // code; one before `initialize` is refused by the server, and a
                        // `shutdown` notification is no request.
                        {
                            let mut e = ending_ref.lock().unwrap_or_else(|e| e.into_inner());
                            match method.as_deref() {
                                Some("initialize") if request => e.0.initialized = true,
                                Some("shutdown") if request && e.0.initialized => {
                                    e.0.shut_down = true
                                }
                                Some("exit") => e.1.exit_without_shutdown = !e.0.shut_down,
                                _ => {}
                            }
                        }
                        if transport::write_frame(&mut to_server, &body).await.is_err() {
                            break;
                        }
                    }
                    transport::Verdict::Reject(response) => {
                        let _ = errors.send(Outgoing::Frame(response)).await;
                    }
                },
                Ok(Some(transport::Frame::BadHeader(why))) => {
                    eprintln!("adlint lsp: skipped a message: {why}");
                }
                Ok(None) | Err(_) => break,
            }
        }
        let _ = to_server.shutdown().await;
        drop(to_server);
        // The input ended; the server sees end of input and stops once the requests in
        // flight are answered, and its output drains. A request that waits on a long
        // analysis would hold the session for as long: after a grace period the session
        // ends without it (the client is gone and reads no answer).
        tokio::time::sleep(END_GRACE).await
    };

    // The server's frames are read whole by their own task (a read cut short by another
    // branch of a select would lose half a frame) and queued behind what is already there.
    let server_frames = outbox;
    let read_server = async move {
        let mut reader = BufReader::new(from_server);
        loop {
            match transport::read_frame(&mut reader).await {
                Ok(Some(transport::Frame::Body(body))) => {
                    let _ = server_frames.send(Outgoing::Frame(body)).await;
                }
                Ok(Some(transport::Frame::BadHeader(_))) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let _ = server_frames.send(Outgoing::End).await;
    };

    let pump_out = async move {
        tokio::pin!(output);
        while let Some(next) = outgoing.recv().await {
            let body: &[u8] = match &next {
                Outgoing::Frame(body) => body,
                Outgoing::Shared(body) => body,
                Outgoing::End => break,
            };
            if transport::write_frame(&mut output, body).await.is_err() {
                break;
            }
        }
        let _ = output.flush().await;
    };

    let both = async {
        tokio::join!(server, read_server, pump_out);
    };
    tokio::select! {
        _ = both => {}
        _ = pump_in => {}
    }
    let ending = ending.lock().unwrap_or_else(|e| e.into_inner()).1;
    ending
}

/// A frame queued for the client.
pub(crate) enum Outgoing {
    Frame(Vec<u8>),
    /// A body the server also keeps (pushed diagnostics, compared with the next push).
    Shared(std::sync::Arc<[u8]>),
    /// The server's output ended: nothing after it is written.
    End,
}

/// Where the server queues frames it writes itself, beside tower-lsp-server's output.
pub(crate) type Outbox = tokio::sync::mpsc::Sender<Outgoing>;

/// How many frames may wait for the client.
const OUTGOING_FRAMES: usize = 64;

/// Run a future, turning a panic inside it into `Err(message)`.
pub(crate) async fn catch_panic<F: Future>(fut: F) -> Result<F::Output, String> {
    CatchUnwind { fut: Box::pin(fut) }.await
}

struct CatchUnwind<F: Future> {
    fut: std::pin::Pin<Box<F>>,
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let fut = self.fut.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(payload) => std::task::Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
