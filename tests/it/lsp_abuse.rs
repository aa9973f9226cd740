//! The language server under abuse: thousands of random edits with requests racing them,
//! cancellations, and clients that go away without `exit`.

use super::*;
use crate::common::{proc_status_kb, run_adlint};
use adlint::syntax::{self, ColumnUnit, LineIndex};
use std::collections::HashSet;

/// A small deterministic generator (SplitMix64), so a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const START: &str = "using Zygote\n\nmutable struct Model\n    const w\n    b\nend\n\nfunction step!(x, θ)\n    x[1] = θ * 2   # ünïcödé 😀\n    for i in 2:length(x)\n        x[i] += x[i-1]\n    end\n    return x\nend\n\nfunction safe(x)\n    try\n        y = x .* 2\n    catch e\n        y = x\n    end\n    return sum(y)\nend\n\nloss(x) = sum(step!(copy(x), 0.5)) + safe(x)\ngradient(loss, rand(3))\n";

/// Whole lines the edits insert: statements users type, half-finished blocks, quirks.
const LINES: &[&str] = &[
    "    x[1] = 0.0\n",
    "    y = x .* 2\n",
    "function g(x)\n",
    "end\n",
    "    push!(out, v)\n",
    "try\n",
    "catch e\n",
    "    θ = α * 2 # ünïcödé 😀\n",
    "gradient(loss, rand(3))\n",
    "    z .= y\n",
    "    const w\n",
    "mutable struct M\n",
    "    s = \"a\\\"b\"\n",
    "    tot += x[i]\n",
    "for i in 1:3\n",
    "    ccall(:rand, Cint, ())\n",
    "h = x -> x[1] = 2\n",
    "#= block\n",
    "=#\n",
    "    m.w = 1\n",
    "    y = x!=0\n",
    "    a, = f()\n",
    "\n",
];

/// Fragments typed anywhere.
const BITS: &[&str] = &[
    "a",
    "(",
    ")",
    "[",
    "]",
    " ",
    "\n",
    "=",
    "😀",
    "é",
    "θ",
    "end",
    ",",
    "\"",
    "#",
    ".",
    "!",
    "1",
    "const ",
    "function ",
    "x[i] = ",
];

/// Byte offset -> LSP position (UTF-16 columns) in `text`.
fn position(text: &str, off: usize) -> Value {
    let (line, character) = LineIndex::new(text).utf16_column(text, off);
    json!({"line": line, "character": character})
}

/// A random char boundary of `text`.
fn boundary(rng: &mut Rng, text: &str) -> usize {
    let n = text.chars().count();
    let k = rng.below(n + 1);
    text.char_indices().nth(k).map_or(text.len(), |(i, _)| i)
}

/// The end of the `count` chars after `from`.
fn chars_after(text: &str, from: usize, count: usize) -> usize {
    text[from..]
        .char_indices()
        .nth(count)
        .map_or(text.len(), |(i, _)| from + i)
}

/// A random line's byte range, with its newline.
fn some_line(rng: &mut Rng, text: &str) -> (usize, usize) {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len())
        .collect();
    if starts.is_empty() {
        return (0, 0);
    }
    let s = starts[rng.below(starts.len())];
    let e = text[s..].find('\n').map_or(text.len(), |i| s + i + 1);
    (s, e)
}

/// One random change against `text`: (start, end, replacement) in bytes.
fn random_change(rng: &mut Rng, text: &str) -> (usize, usize, String) {
    let op = if text.len() > 8_000 {
        1 + 2 * rng.below(2) // deletions only
    } else if text.len() < 300 {
        2 * rng.below(2) // insertions only
    } else {
        rng.below(20)
    };
    match op {
        0 | 4..=8 => {
            let (s, _) = some_line(rng, text);
            (s, s, rng.pick(LINES).to_string())
        }
        1 | 9..=11 => {
            let (s, e) = some_line(rng, text);
            (s, e, String::new())
        }
        2 | 12..=15 => {
            let at = boundary(rng, text);
            (at, at, rng.pick(BITS).to_string())
        }
        3 | 16..=18 => {
            let s = boundary(rng, text);
            let n = 1 + rng.below(8);
            (s, chars_after(text, s, n), String::new())
        }
        _ => {
            let s = boundary(rng, text);
            let n = 1 + rng.below(20);
            (s, chars_after(text, s, n), rng.pick(LINES).to_string())
        }
    }
}

/// What the abuse test has seen from the server besides the answers it waits for.
#[derive(Default)]
struct Watch {
    /// Racing requests not answered yet.
    pending: HashSet<i64>,
    answered: usize,
    cancelled: usize,
    /// The newest publishDiagnostics seen: (uri, version, params).
    published: Option<(String, i64, Value)>,
}

impl Watch {
    /// Check one message from the server: no panic logged, no internal error, every answer
    /// to a racing request either a result or a cancellation.
    fn see(&mut self, v: &Value) {
        if v["method"] == "textDocument/publishDiagnostics" {
            let p = &v["params"];
            if let (Some(uri), Some(version)) = (p["uri"].as_str(), p["version"].as_i64()) {
                self.published = Some((uri.to_string(), version, p.clone()));
            }
        }
        if v["method"] == "window/logMessage" {
            let msg = v["params"]["message"].as_str().unwrap_or("");
            assert!(
                !msg.contains("panicked"),
                "the server logged a panic: {msg}"
            );
        }
        if v.get("method").is_none() {
            if let Some(id) = v["id"].as_i64() {
                if self.pending.remove(&id) {
                    self.answered += 1;
                    if let Some(e) = v.get("error") {
                        // RequestCancelled or ContentModified; never an internal error.
                        assert!(
                            e["code"] == -32800 || e["code"] == -32801,
                            "racing request {id} failed: {v}"
                        );
                        self.cancelled += 1;
                    }
                }
            }
        }
    }
}

/// `adlint/debugDocument`'s answer.
struct ServerDocument {
    version: i64,
    text: String,
    outline: String,
    /// An incremental parse that met syntax errors, not settled yet.
    provisional: bool,
}

impl Watch {
    fn has_published(&self, uri: &str, version: i64) -> bool {
        self.published
            .as_ref()
            .is_some_and(|(u, v, _)| u == uri && *v == version)
    }
}

impl TestClient {
    /// Wait for the diagnostics of `version` of `uri`, which may have come already.
    async fn published(&mut self, watch: &mut Watch, uri: &str, version: i64) -> Value {
        while !watch.has_published(uri, version) {
            let v = self.read().await;
            watch.see(&v);
        }
        watch.published.as_ref().unwrap().2.clone()
    }

    /// Send a request without waiting for its answer.
    async fn fire(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        id
    }

    /// Read until `stop` says so, showing every message to `watch`.
    async fn read_until(&mut self, watch: &mut Watch, stop: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self.read().await;
            watch.see(&v);
            if stop(&v) {
                return v;
            }
        }
    }

    /// The open document as the server holds it.
    async fn server_document(&mut self, watch: &mut Watch, uri: &str) -> ServerDocument {
        let id = self
            .fire("adlint/debugDocument", json!({ "uri": uri }))
            .await;
        let r = self
            .read_until(watch, |v| v.get("method").is_none() && v["id"] == id)
            .await;
        let d = &r["result"];
        ServerDocument {
            version: d["version"].as_i64().expect("the document is open"),
            text: d["text"].as_str().unwrap().to_string(),
            outline: d["outline"].as_str().unwrap().to_string(),
            provisional: d["provisional"].as_bool().unwrap(),
        }
    }
}

/// (rule, start byte, end byte) of LSP diagnostics (UTF-16 columns) in `text`.
fn lsp_findings(text: &str, ds: &[Value]) -> Vec<(String, usize, usize, String)> {
    let index = LineIndex::new(text);
    let off = |p: &Value| {
        index.offset(
            text,
            p["line"].as_u64().unwrap() as u32,
            p["character"].as_u64().unwrap() as u32,
            ColumnUnit::Utf16,
        )
    };
    let mut out: Vec<_> = ds
        .iter()
        .map(|d| {
            let msg = d["message"].as_str().unwrap();
            (
                d["code"].as_str().unwrap().to_string(),
                off(&d["range"]["start"]),
                off(&d["range"]["end"]),
                msg.split("\nhelp: ").next().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The same from `adlint check --output-format json` (1-based lines, columns in chars).
fn cli_findings(text: &str) -> Vec<(String, usize, usize, String)> {
    let dir = tempfile::tempdir().unwrap();
    // The same name as the document, so that messages naming the file agree.
    std::fs::write(dir.path().join("abuse.jl"), text).unwrap();
    let (_, stdout, stderr) = run_adlint(
        &["check", "--output-format", "json", "abuse.jl"],
        dir.path(),
    );
    let json: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let index = LineIndex::new(text);
    let off = |p: &Value| {
        index.offset(
            text,
            p["line"].as_u64().unwrap() as u32 - 1,
            p["column"].as_u64().unwrap() as u32 - 1,
            ColumnUnit::Chars,
        )
    };
    let mut out: Vec<_> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                off(&d["start"]),
                off(&d["end"]),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// 10,000 random edits (line and character level, non-ASCII, several changes per
/// notification) with hovers, code actions and pulls racing them and some cancelled. At
/// every hundredth edit the server's text must equal the client's; its incrementally edited
/// tree must equal a fresh parse where that parse met no syntax error, and always once the
/// analysis of that version is out (see `lsp::document` on error recovery); at the end its
/// diagnostics must equal a fresh CLI run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_random_edits_keep_tree_and_diagnostics_exact() {
    let seed = std::env::var("ADLINT_ABUSE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_ad11);
    let mut rng = Rng(seed);
    let mut c = TestClient::start();
    c.initialize(None, push_caps()).await;
    let uri = scratch_uri("abuse.jl");
    let mut text = START.to_string();
    c.open(&uri, &text, 1).await;
    let mut watch = Watch::default();
    let edits = 10_000;
    let mut version = 1;
    let mut to_cancel = Vec::new();
    let mut checked = 0;
    // `ADLINT_ABUSE_EVERY=1` checks after every edit, to find the first one that differs.
    let every: usize = std::env::var("ADLINT_ABUSE_EVERY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    for step in 1..=edits {
        let n = if rng.below(7) == 0 {
            2 + rng.below(2)
        } else {
            1
        };
        let mut changes = Vec::new();
        let before = text.clone();
        for _ in 0..n {
            let (s, e, new) = random_change(&mut rng, &text);
            changes.push(json!({"range": {"start": position(&text, s), "end": position(&text, e)}, "text": new}));
            text.replace_range(s..e, &new);
        }
        version += 1;
        c.change(&uri, version, json!(changes)).await;
        for id in to_cancel.drain(..) {
            c.notify("$/cancelRequest", json!({ "id": id })).await;
        }
        if step % 10 == 0 {
            let at = position(&text, boundary(&mut rng, &text));
            let id = match rng.below(3) {
                0 => {
                    c.fire(
                        "textDocument/hover",
                        json!({"textDocument": {"uri": uri}, "position": at}),
                    )
                    .await
                }
                1 => {
                    c.fire(
                        "textDocument/codeAction",
                        json!({"textDocument": {"uri": uri}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}}),
                    )
                    .await
                }
                _ => {
                    c.fire(
                        "textDocument/diagnostic",
                        json!({"textDocument": {"uri": uri}}),
                    )
                    .await
                }
            };
            watch.pending.insert(id);
            if rng.below(4) == 0 {
                to_cancel.push(id);
            }
        }
        if step % every == 0 {
            // Right after the edit: the same text; and where the incremental parse met no
            // syntax error, exactly the tree a fresh parse builds.
            let d = c.server_document(&mut watch, &uri).await;
            assert_eq!(d.version, version);
            assert_eq!(d.text, text, "the texts differ after edit {step}");
            let fresh = syntax::outline(&syntax::parse(&text).tree);
            let dump = |why: &str| {
                let dir = std::env::temp_dir().join(format!("adlint-abuse-{seed:x}-{step}"));
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join("before.jl"), &before).unwrap();
                std::fs::write(dir.join("after.jl"), &text).unwrap();
                std::fs::write(dir.join("changes.json"), json!(changes).to_string()).unwrap();
                panic!(
                    "after edit {step} {why}; the text before, the changes and the text after \
                     are in {}",
                    dir.display()
                );
            };
            if !d.provisional && d.outline != fresh {
                dump("the incrementally edited tree differs from a fresh parse");
            }
            // Once the analysis of this version is out, provisional trees are settled.
            c.published(&mut watch, &uri, version).await;
            let d = c.server_document(&mut watch, &uri).await;
            if d.provisional || d.outline != fresh {
                dump("the settled tree differs from a fresh parse");
            }
            checked += 1;
        }
    }
    // A last edit puts a known finding in front of whatever the random edits left.
    let head = "using Zygote\nfunction adlint_final!(x)\n    x[1] = 0.0\n    return sum(x)\nend\ngradient(adlint_final!, rand(3))\n";
    version += 1;
    c.change(
        &uri,
        version,
        json!([{"range": {"start": position(&text, 0), "end": position(&text, 0)}, "text": head}]),
    )
    .await;
    text.insert_str(0, head);
    let published = c.published(&mut watch, &uri, version).await;
    while !watch.pending.is_empty() {
        c.read_until(&mut watch, |v| v.get("method").is_none())
            .await;
    }
    let d = c.server_document(&mut watch, &uri).await;
    assert_eq!(d.text, text);
    assert!(!d.provisional);
    assert_eq!(d.outline, syntax::outline(&syntax::parse(&text).tree));
    let lsp = lsp_findings(&text, published["diagnostics"].as_array().unwrap());
    let cli = cli_findings(&text);
    assert_eq!(lsp, cli, "final text:\n{text}");
    assert!(
        lsp.iter()
            .any(|f| f.0 == "index-assignment" && text[f.1..f.2] == *"x[1] = 0.0"),
        "{lsp:?}"
    );
    eprintln!(
        "{edits} edits, {checked} tree checks, {} racing requests answered ({} cancelled), {} findings at the end",
        watch.answered,
        watch.cancelled,
        lsp.len()
    );
    c.shutdown().await;
}

/// Open documents, edits in flight, a request waiting on the analysis: then the client
/// goes away without `shutdown` or `exit`. The server must stop, in both ways a client
/// can vanish: its output closed (end of input), or the whole connection dropped.
#[tokio::test]
async fn client_that_disconnects_without_exit_stops_the_server() {
    for drop_everything in [false, true] {
        let mut c = TestClient::start();
        c.initialize(None, push_caps()).await;
        for i in 0..5 {
            let uri = scratch_uri(&format!("gone{i}.jl"));
            c.open(&uri, MUTATE, 1).await;
            c.change(
                &uri,
                2,
                json!([{"range": {"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 5}}, "text": "x"}]),
            )
            .await;
            c.fire(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 4}}),
            )
            .await;
        }
        let server = if drop_everything {
            let TestClient {
                server,
                writer,
                reader,
                ..
            } = c;
            drop((writer, reader));
            server
        } else {
            c.writer.shutdown().await.unwrap();
            c.server
        };
        tokio::time::timeout(HANG, server)
            .await
            .unwrap_or_else(|_| panic!("the server kept running after its client went away (drop_everything: {drop_everything})"))
            .unwrap();
    }
}

/// A request still being worked on (a pull that waits for a long analysis, here a
/// request that sleeps ten minutes) does not keep the server alive once its input ends.
#[tokio::test]
async fn end_of_input_does_not_wait_for_requests_in_flight() {
    let mut c = TestClient::start();
    c.initialize(None, push_caps()).await;
    c.fire("adlint/debugSleep", json!({ "ms": 600_000 })).await;
    c.writer.shutdown().await.unwrap();
    tokio::time::timeout(HANG, c.server)
        .await
        .expect("the server waited for a request in flight after its input ended")
        .unwrap();
}

/// The same through the real binary: closing its stdin ends the process with success.
#[tokio::test]
async fn binary_exits_when_its_client_closes_stdin() {
    let mut c = TestClient::spawn(&format!("{} lsp", env!("CARGO_BIN_EXE_adlint")));
    c.initialize(None, push_caps()).await;
    c.open(&scratch_uri("stdin.jl"), MUTATE, 1).await;
    c.writer.shutdown().await.unwrap();
    tokio::time::timeout(HANG, c.server)
        .await
        .expect("the binary kept running after stdin closed")
        .unwrap();
}

/// Memory over an hour-long editing session, compressed: one simulated second is one
/// keystroke (typed, then taken back, so the text keeps its size); every 5 s a hover,
/// every 15 s a code action, every 10 s a pause in which the diagnostics arrive, every
/// minute a new function pasted in (and removed the next minute), every 10 minutes a second
/// file closed and reopened. The server is a child process (`ADLINT_LSP_CMD`, default this
/// build's `adlint lsp`) indexing a 20-file workspace; its resident memory is printed every
/// 5 simulated minutes. Asserts nothing about memory. Run with
/// `ADLINT_LSP_CMD="target/release/adlint lsp" cargo test --test it -- --ignored --nocapture lsp::abuse::bench_memory`
/// (`ADLINT_BENCH_MINUTES` shortens the session).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_memory_over_an_hour_of_editing() {
    let minutes: u64 = std::env::var("ADLINT_BENCH_MINUTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("Project.toml"), "name = \"Bench\"\n").unwrap();
    let mut main = String::from("module Bench\nusing Zygote\n");
    for f in 0..20 {
        let mut text = String::new();
        for k in 0..25 {
            text.push_str(&format!(
                "function helper_{f}_{k}(x)\n    y = x .* {k}\n    return sum(y) + helper_{f}_{}(x)\nend\n\n",
                (k + 1) % 25
            ));
        }
        std::fs::write(root.join(format!("src/part{f}.jl")), text).unwrap();
        main.push_str(&format!("include(\"part{f}.jl\")\n"));
    }
    main.push_str("include(\"model.jl\")\nend\n");
    std::fs::write(root.join("src/Bench.jl"), main).unwrap();
    let mut model = String::new();
    for k in 0..60 {
        model.push_str(&format!(
            "function layer{k}!(out, x)\n    out[1] = helper_{}_{}(x)\n    for i in 2:length(out)\n        out[i] = out[i-1] * 0.5\n    end\n    return out\nend\n\n",
            k % 20,
            k % 25
        ));
    }
    model.push_str("loss(x) = sum(layer0!(similar(x), x))\ngradient(loss, rand(3))\n");
    std::fs::write(root.join("src/model.jl"), &model).unwrap();
    let other = std::fs::read_to_string(root.join("src/part3.jl")).unwrap();

    let cmd = std::env::var("ADLINT_LSP_CMD")
        .unwrap_or_else(|_| format!("{} lsp", env!("CARGO_BIN_EXE_adlint")));
    eprintln!("server: `{cmd}`; {minutes} simulated minutes");
    let mut c = TestClient::spawn(&cmd);
    let pid = c.pid.expect("a child process");
    c.initialize(Some(root), push_caps()).await;
    let uri = uri_of(&root.join("src/model.jl"));
    let other_uri = uri_of(&root.join("src/part3.jl"));
    let mut watch = Watch::default();
    let mut text = model.clone();
    let mut version = 1;
    c.open(&uri, &text, version).await;
    c.open(&other_uri, &other, 1).await;
    c.published(&mut watch, &uri, version).await;
    let rss0 = proc_status_kb(pid, "VmRSS").unwrap_or(0);
    eprintln!("| simulated minute | RSS MiB | peak MiB | edits | wall s |");
    eprintln!("|---|---|---|---|---|");
    eprintln!("| 0 | {:.1} | — | 0 | 0 |", rss0 as f64 / 1024.0);
    let mut rng = Rng(7);
    let mut samples = Vec::new();
    let mut pasted: Option<(usize, usize)> = None;
    let mut edits = 0u64;
    let t0 = std::time::Instant::now();
    for second in 1..=minutes * 60 {
        // A keystroke at a random place, taken back on the next second.
        let (s, e, new) = if second % 2 == 1 {
            let at = boundary(&mut rng, &text);
            (at, at, "1".to_string())
        } else {
            let at = text.find("1)").map_or(0, |i| i);
            (at, (at + 1).min(text.len()), String::new())
        };
        let mut changes = vec![(s, e, new)];
        if second % 60 == 0 {
            match pasted.take() {
                None => {
                    let block =
                        format!("function pasted{second}(x)\n    x[2] = 1.0\n    return x\nend\n");
                    pasted = Some((0, block.len()));
                    changes.push((0, 0, block));
                }
                Some((a, b)) => changes.push((a, b, String::new())),
            }
        }
        let mut json_changes = Vec::new();
        for (s, e, new) in changes {
            json_changes.push(json!({"range": {"start": position(&text, s), "end": position(&text, e)}, "text": new}));
            text.replace_range(s..e, &new);
        }
        version += 1;
        edits += 1;
        c.change(&uri, version, json!(json_changes)).await;
        if second % 5 == 0 {
            let at = position(&text, boundary(&mut rng, &text));
            let id = c
                .fire(
                    "textDocument/hover",
                    json!({"textDocument": {"uri": uri}, "position": at}),
                )
                .await;
            watch.pending.insert(id);
        }
        if second % 15 == 0 {
            let at = position(&text, boundary(&mut rng, &text));
            let id = c
                .fire(
                    "textDocument/codeAction",
                    json!({"textDocument": {"uri": uri}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}}),
                )
                .await;
            watch.pending.insert(id);
        }
        if second % 10 == 0 {
            c.published(&mut watch, &uri, version).await;
        }
        if second % 600 == 0 {
            c.notify(
                "textDocument/didClose",
                json!({"textDocument": {"uri": other_uri}}),
            )
            .await;
            c.open(&other_uri, &other, 1).await;
        }
        if second % 300 == 0 {
            let rss = proc_status_kb(pid, "VmRSS").unwrap_or(0);
            let hwm = proc_status_kb(pid, "VmHWM").unwrap_or(0);
            samples.push(rss);
            eprintln!(
                "| {} | {:.1} | {:.1} | {edits} | {:.0} |",
                second / 60,
                rss as f64 / 1024.0,
                hwm as f64 / 1024.0,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    while !watch.pending.is_empty() {
        c.read_until(&mut watch, |v| v.get("method").is_none())
            .await;
    }
    if samples.len() >= 3 {
        let first = samples[1] as f64 / 1024.0;
        let last = *samples.last().unwrap() as f64 / 1024.0;
        eprintln!(
            "RSS from minute 10 to minute {minutes}: {first:.1} -> {last:.1} MiB ({:+.1} MiB); {} requests answered",
            last - first,
            watch.answered
        );
    }
    c.shutdown().await;
}

#[test]
fn exit_without_shutdown_exits_1_and_after_it_0() {
    // The protocol: "The server should exit with success code 0 if the shutdown request
    // has been received before; otherwise with error code 1."
    use std::io::Write;
    let frame = |m: &str| format!("Content-Length: {}\r\n\r\n{m}", m.len());
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}"#;
    let initialized = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
    let shutdown = r#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#;
    let exit = r#"{"jsonrpc":"2.0","method":"exit"}"#;
    // Padded past the few hundred bytes the exit code's check once read.
    let padded_shutdown = format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"shutdown"{}}}"#,
        " ".repeat(600)
    );
    let padded_exit = format!(
        r#"{{"jsonrpc":"2.0","method":"exit","x":"{}"}}"#,
        "y".repeat(600)
    );
    let shutdown_note = r#"{"jsonrpc":"2.0","method":"shutdown"}"#;
    // A key given twice: the server's decoder refused it and ended the session; it is an
    // invalid request now, and the session goes on.
    let twice = r#"{"jsonrpc":"2.0","id":4,"method":"shutdown","method":"foo"}"#;
    for (messages, code) in [
        (vec![initialize, initialized, shutdown, exit], 0),
        (vec![initialize, initialized, exit], 1),
        (vec![initialize, initialized, &padded_shutdown, exit], 0),
        (vec![initialize, initialized, &padded_exit], 1),
        (vec![initialize, initialized, shutdown_note, exit], 1),
        // Refused by the server (not initialized): no shutdown.
        (vec![shutdown, initialize, initialized, exit], 1),
        (vec![initialize, initialized, twice, exit], 1),
        (vec![initialize, initialized, twice, shutdown, exit], 0),
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_adlint"))
            .arg("lsp")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let input: String = messages.iter().map(|m| frame(m)).collect();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{messages:?}");
    }
}
