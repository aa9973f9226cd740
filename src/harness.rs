//! Whole-pipeline entry points that take arbitrary bytes and check the invariants that must
//! hold whatever the input: no panic, every reported range inside its file and on character
//! boundaries, no fix that breaks the syntax, an interpreter that stops within its budget, a
//! language server that answers and ends. The fuzz targets in `fuzz/` and the stable fuzz
//! driver (`fuzz/stable/`) call these, and `tests/it/fuzz_corpus.rs` replays the stored
//! corpus through them on stable Rust.

use crate::analysis::{Analysis, Options};
use crate::workspace::{self, Workspace};
use std::path::{Path, PathBuf};

const ROOT: &str = "/fuzz";

/// The entry point of a fuzz target: arbitrary bytes in, a panic on a broken invariant.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, each with the entry point it runs.
pub const TARGETS: [(&str, Target); 4] = [
    ("check", check),
    ("fix", fix),
    ("lsp", lsp),
    ("interpret", interpret),
];

/// The directories whose files are the inputs of a target, relative to the repository root:
/// the seeds (the project's own fixtures, read but never written; `fuzz/run.sh` lists the
/// same ones), then the fuzzer's corpus and the crashes kept as regressions. The stable fuzz
/// driver (`cargo run --example fuzz`) mutates these, and `tests/it/fuzz_corpus.rs` replays
/// them.
pub fn corpus_dirs(target: &str) -> Vec<String> {
    let seeds: &[&str] = match target {
        "check" => &["tests/corpus/dev", "examples/src"],
        "fix" => &[
            "tests/fix/crlf",
            "tests/fix/fill_loops",
            "tests/fix/guidance",
            "tests/fix/limitations",
            "tests/fix/map_do",
            "tests/fix/safe_copy",
        ],
        "interpret" => &["tests/corpus/dev"],
        _ => &[],
    };
    let mut out: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
    out.push(format!("fuzz/corpus/{target}"));
    out.push(format!("fuzz/regressions/{target}"));
    out
}

/// The input as a small package: text before the first form feed is `src/main.jl`, the rest
/// `src/more.jl`, so that cross-file resolution is exercised too. `None` for input that is
/// not source (binary, not UTF-8), which the CLI skips with a warning.
fn package(data: &[u8]) -> Option<Workspace> {
    let text = workspace::decode_source(data.to_vec()).ok()?;
    let mut parts = text.splitn(2, '\u{c}');
    let mut files = vec![(
        PathBuf::from(ROOT).join("src/main.jl"),
        parts.next().unwrap_or("").to_string(),
    )];
    if let Some(more) = parts.next() {
        files.push((PathBuf::from(ROOT).join("src/more.jl"), more.to_string()));
    }
    Some(Workspace::from_sources(Path::new(ROOT), files))
}

fn assert_span(a: &Analysis, file: u32, start: u32, end: u32, what: &str) {
    let text = &a.workspace.files[file as usize].text;
    assert!(
        start <= end && end as usize <= text.len(),
        "{what}: {start}..{end} outside a file of {} bytes",
        text.len()
    );
    assert!(
        text.is_char_boundary(start as usize) && text.is_char_boundary(end as usize),
        "{what}: {start}..{end} splits a character"
    );
}

/// Every range an analysis reports is inside its file, on character boundaries.
fn assert_ranges(a: &Analysis) {
    for d in &a.diagnostics {
        let l = d.location;
        assert_span(a, l.file, l.span.start, l.span.end, d.rule);
        if let Some(e) = &d.entry {
            let l = e.location;
            assert_span(a, l.file, l.span.start, l.span.end, "entry");
        }
        for step in &d.chain {
            let l = step.location;
            assert_span(a, l.file, l.span.start, l.span.end, "chain step");
        }
        for r in &d.related {
            assert_span(
                a,
                r.location.file,
                r.location.span.start,
                r.location.span.end,
                "related",
            );
        }
        for f in &d.fixes {
            for e in &f.edits {
                assert_span(
                    a,
                    e.location.file,
                    e.location.span.start,
                    e.location.span.end,
                    "edit",
                );
            }
        }
    }
}

/// Parse, facts, call graph and every rule, then every output format.
pub fn check(data: &[u8]) {
    let Some(ws) = package(data) else { return };
    let a = crate::fix::analyze(ws, &Options::default());
    assert_ranges(&a);
    for format in [
        crate::render::Format::Full,
        crate::render::Format::Concise,
        crate::render::Format::Json,
        crate::render::Format::Sarif,
        crate::render::Format::Github,
    ] {
        let mut out = Vec::new();
        crate::render::write(format, &a, &mut out, false).expect("writing to memory");
    }
}

/// Every fix, safe and unsafe, applied to a fixed point: a fixed text never has more syntax
/// errors than the text it came from (a fix that would is dropped by the applier).
pub fn fix(data: &[u8]) {
    let Some(ws) = package(data) else { return };
    let a = crate::fix::analyze(ws, &Options::default());
    let before: Vec<usize> = a.facts.iter().map(|f| f.parse_errors).collect();
    let outcome = crate::fix::fix_to_fixed_point(a, &Options::default(), true, None);
    for (file, original, fixed) in &outcome.changed {
        let errors = crate::syntax::parse(fixed).error_count;
        assert!(
            errors <= before[*file as usize],
            "a fix added syntax errors ({} -> {errors}):\n--- before\n{original}\n--- after\n{fixed}",
            before[*file as usize]
        );
    }
    assert_ranges(&outcome.analysis);
}

/// The reference interpreter on arbitrary source, with small budgets: it ends (by finishing,
/// an error, an unsupported construct or a budget) and never fails internally.
pub fn interpret(data: &[u8]) {
    let Ok(text) = workspace::decode_source(data.to_vec()) else {
        return;
    };
    let files = [crate::refad::SourceFile {
        path: PathBuf::from(ROOT).join("main.jl"),
        text,
    }];
    let options = crate::refad::Options {
        budget: crate::refad::Budget {
            max_steps: 200_000,
            max_elements: 200_000,
            max_memory: 1 << 30,
            max_depth: 64,
            max_millis: 2_000,
        },
        zygote_version: None,
        reference_gradients: true,
    };
    let run = crate::refad::run_program(&files, &options);
    if let Some(stop) = &run.stopped {
        assert!(
            !stop.reason.starts_with(crate::refad::INTERNAL_ERROR),
            "{}",
            stop.reason
        );
    }
}

/// The language server driven by a sequence of operations decoded from `data`: edits with
/// ranges anywhere (past the end, inside characters, reversed), stale and repeated
/// versions, raw bytes as message bodies, requests at arbitrary positions, close and
/// reopen; then shutdown and exit. The server must answer, never let a handler panic, and
/// end when told.
pub fn lsp(data: &[u8]) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(lsp_session(data));
}

/// Longest the harness waits for the server at the end before calling it a hang.
const LSP_HANG: std::time::Duration = std::time::Duration::from_secs(30);

/// One session, driven by the fuzz input: initialize, open, then edits, hovers, code
/// actions and saves as the bytes say, then shutdown and the checks. One piece on purpose:
/// its steps share the writer, the request counter and the document version through
/// closures, in the order a client sends them, and split they would each take half a
/// dozen borrowed pieces of the session.
async fn lsp_session(data: &[u8]) {
    use serde_json::{json, Value};
    use tokio::io::{AsyncWriteExt, BufReader};

    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_io);
    let server = tokio::spawn(crate::lsp::serve_with(
        server_read,
        server_write,
        crate::lsp::ServeOptions {
            debounce: std::time::Duration::from_millis(1),
            debug_methods: false,
        },
    ));
    let (reader, writer) = tokio::io::split(client_io);
    let writer = std::sync::Arc::new(tokio::sync::Mutex::new(writer));
    async fn send(
        w: &tokio::sync::Mutex<tokio::io::WriteHalf<tokio::io::DuplexStream>>,
        body: &[u8],
    ) {
        let mut w = w.lock().await;
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        // The server may already have gone (that is checked at the end).
        let _ = w.write_all(header.as_bytes()).await;
        let _ = w.write_all(body).await;
        let _ = w.flush().await;
    }
    // Everything the server says: answer its requests, keep its log lines.
    let answer = writer.clone();
    let listener = tokio::spawn(async move {
        let mut reader = BufReader::new(reader);
        let mut logs: Vec<String> = Vec::new();
        while let Ok(Some(body)) = crate::lsp::read_message(&mut reader).await {
            let v: Value = serde_json::from_slice(&body).expect("the server sends JSON");
            if v.get("method").is_some() && v.get("id").is_some() {
                let reply = json!({"jsonrpc": "2.0", "id": v["id"], "result": null});
                send(&answer, reply.to_string().as_bytes()).await;
            }
            if v["method"] == "window/logMessage" {
                logs.push(v["params"]["message"].as_str().unwrap_or("").to_string());
            }
        }
        logs
    });

    let uri = "file:///fuzz/src/main.jl";
    let mut id = 0;
    let mut request = |method: &str, params: Value| {
        id += 1;
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
    };
    let notify =
        |method: &str, params: Value| json!({"jsonrpc": "2.0", "method": method, "params": params});
    let init = request(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {
            "textDocument": {"publishDiagnostics": {"relatedInformation": true, "versionSupport": true}},
            "general": {"positionEncodings": ["utf-8", "utf-16"]}}}),
    );
    send(&writer, init.to_string().as_bytes()).await;
    send(
        &writer,
        notify("initialized", json!({})).to_string().as_bytes(),
    )
    .await;
    let start =
        "using Zygote\nfunction f(x)\n    x[1] = 0.0\n    sum(x)\nend\ngradient(f, rand(3))\n";
    let open = |v: i64| {
        notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "julia", "version": v, "text": start}}),
        )
    };
    send(&writer, open(1).to_string().as_bytes()).await;

    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    let mut version: i64 = 1;
    let pos = |line: u8, ch: u8| json!({"line": line % 12, "character": ch % 40});
    while let Some(op) = next() {
        let (a, b, c, d) = (
            next().unwrap_or(0),
            next().unwrap_or(0),
            next().unwrap_or(0),
            next().unwrap_or(0),
        );
        let msg = match op % 8 {
            0 | 1 => {
                // An edit; a version that may go backwards or repeat when `op` says so.
                version = if op % 16 < 14 {
                    version + 1
                } else {
                    version - (a as i64 % 3)
                };
                let len = (d % 8) as usize;
                let text: String = (0..len)
                    .map(|_| char::from(next().unwrap_or(b' ')))
                    .collect();
                let change = if op % 32 == 1 {
                    json!({"text": text})
                } else {
                    json!({"range": {"start": pos(a, b), "end": pos(c, d)}, "text": text})
                };
                notify(
                    "textDocument/didChange",
                    json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
                )
            }
            2 => {
                // Raw bytes as a message body.
                let len = (a % 64) as usize;
                let raw: Vec<u8> = (0..len).map(|_| next().unwrap_or(b'{')).collect();
                send(&writer, &raw).await;
                continue;
            }
            3 => request(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": pos(a, b)}),
            ),
            4 => request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uri}, "range": {"start": pos(a, b), "end": pos(c, d)},
                       "context": {"diagnostics": []}}),
            ),
            5 => request(
                "textDocument/diagnostic",
                json!({"textDocument": {"uri": uri}}),
            ),
            6 => {
                if a % 2 == 0 {
                    notify(
                        "textDocument/didClose",
                        json!({"textDocument": {"uri": uri}}),
                    )
                } else {
                    version += 1;
                    open(version)
                }
            }
            _ => request(&format!("adlint/unknown{}", a % 3), json!({"x": b})),
        };
        send(&writer, msg.to_string().as_bytes()).await;
    }
    let shutdown = request("shutdown", Value::Null);
    send(&writer, shutdown.to_string().as_bytes()).await;
    send(&writer, notify("exit", Value::Null).to_string().as_bytes()).await;
    let ended = tokio::time::timeout(LSP_HANG, server).await;
    assert!(ended.is_ok(), "the server did not end after exit");
    ended.unwrap().expect("the server task does not panic");
    drop(writer);
    let logs = tokio::time::timeout(LSP_HANG, listener)
        .await
        .expect("the server's output ends")
        .expect("the listener does not panic");
    for l in &logs {
        assert!(!l.contains("panicked"), "a handler panicked: {l}");
    }
}
