#!/usr/bin/env python3
"""Speed of adlint on real repositories, beside fatou, and of its language server.

Two measurements of issue 24 ("Call resolution without guessing"), on the performance
corpus of the shared `corpus/real/README.md` (each repository exported at its pinned commit
into one folder, CORPUS/<name>):

  python3 benches/real_repos.py check ADLINT CORPUS [--runs 3] [--fatou fatou]
      `adlint check` and `fatou lint` on each repository alone and on all of them copied
      into one folder, alternating the two tools run by run; prints the median wall time
      and the peak RSS of each, as a Markdown table.

  python3 benches/real_repos.py lsp ADLINT CORPUS [--edits 10]
      `adlint lsp` over stdio with each repository as the workspace: opens one file of
      it, times the first diagnostics for that file, then ten one-character edits, each
      until the diagnostics of the new version arrive (median and p95). With --log FILE
      the server's stderr goes to FILE; ADLINT_TIMINGS=1 adds each analysis's phases.

Nothing here is a test: the numbers depend on the machine. fatou is `pip install
fatou==0.24.0`; the peak RSS comes from `/usr/bin/time` (Debian's `time` package) or, if
that is missing, from the children's `ru_maxrss`.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPOS = [
    "Zygote.jl", "Flux.jl", "Lux.jl", "ChainRules.jl", "Distributions.jl",
    "OrdinaryDiffEq.jl", "Pkg.jl", "LinearAlgebra.jl", "SparseArrays.jl", "JuliaSyntax.jl",
]


def timed(cmd):
    """Run `cmd` (output discarded): (wall seconds, peak RSS in MB)."""
    gnu_time = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    if gnu_time:
        with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
            start = time.perf_counter()
            subprocess.run([gnu_time, "-f", "%M", "-o", out.name] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            kb = int(open(out.name).read().split()[-1])
            return wall, kb / 1024
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(after, before) / 1024


def check(args):
    fatou = shutil.which(args.fatou)
    if fatou is None:
        sys.exit(f"real_repos: `{args.fatou}` not found; install it with `pip install fatou==0.24.0`")
    repos = [r for r in REPOS if os.path.isdir(os.path.join(args.corpus, r))]
    missing = sorted(set(REPOS) - set(repos))
    if missing:
        print(f"real_repos: not in {args.corpus}, skipped: {', '.join(missing)}", file=sys.stderr)
    tools = {
        "adlint": lambda d: [args.adlint, "check", d, "--output-format", "json"],
        "fatou": lambda d: [fatou, "lint", d],
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "all")
        os.mkdir(folder)
        for r in repos:
            shutil.copytree(os.path.join(args.corpus, r), os.path.join(folder, r), symlinks=True)
        targets = [(r, os.path.join(args.corpus, r)) for r in repos] + [("all in one folder", folder)]
        for name, path in targets:
            runs = {t: [] for t in tools}
            for _ in range(args.runs):
                for t, cmd in tools.items():
                    runs[t].append(timed(cmd(path)))
            med = {t: (statistics.median(w for w, _ in v), max(m for _, m in v)) for t, v in runs.items()}
            rows.append((name, med))
            print(f"{name}: adlint {med['adlint'][0]:.2f} s, fatou {med['fatou'][0]:.2f} s", file=sys.stderr)
    print(f"| repository | adlint s | adlint MB | fatou s | fatou MB |")
    print("| --- | --- | --- | --- | --- |")
    for name, med in rows:
        a, f = med["adlint"], med["fatou"]
        print(f"| {name} | {a[0]:.2f} | {a[1]:.0f} | {f[0]:.2f} | {f[1]:.0f} |")
    alone = [med for name, med in rows if name != "all in one folder"]
    print(f"| each alone, summed | {sum(m['adlint'][0] for m in alone):.2f} | | "
          f"{sum(m['fatou'][0] for m in alone):.2f} | |")


class Lsp:
    """A minimal LSP client over the server's stdin/stdout."""

    def __init__(self, cmd, log=None):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=log or subprocess.DEVNULL)
        self.next_id = 0

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            msg = self.read()
            if msg.get("id") == self.next_id and "method" not in msg:
                return msg
            self.answer(msg)

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def read(self):
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("the server closed its output")
            line = line.strip()
            if not line:
                break
            key, _, value = line.decode().partition(":")
            if key.lower() == "content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def answer(self, msg):
        # Requests from the server (progress tokens, configuration): a null result.
        if "id" in msg and "method" in msg:
            self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})

    def diagnostics_for(self, uri, version=None):
        """Wait for the diagnostics of `uri` (of `version`, when the server says it)."""
        while True:
            msg = self.read()
            self.answer(msg)
            if msg.get("method") != "textDocument/publishDiagnostics":
                continue
            p = msg["params"]
            if p["uri"] != uri:
                continue
            if version is not None and p.get("version") not in (None, version):
                continue
            return p

    def close(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


def pick_file(repo):
    """A test or source file of the repository that has a differentiation call, else the
    first `.jl` file."""
    fallback = None
    for sub in ("test", "src", "."):
        base = os.path.join(repo, sub)
        for root, _, files in sorted(os.walk(base)):
            for f in sorted(files):
                if not f.endswith(".jl"):
                    continue
                path = os.path.join(root, f)
                fallback = fallback or path
                try:
                    text = open(path, encoding="utf-8", errors="replace").read()
                except OSError:
                    continue
                if "gradient(" in text or "pullback(" in text:
                    return path
    return fallback


def lsp(args):
    repos = [r for r in REPOS if os.path.isdir(os.path.join(args.corpus, r))]
    print("| repository | file | first diagnostics s | edit median ms | edit p95 ms |")
    print("| --- | --- | --- | --- | --- |")
    for r in repos:
        root = os.path.abspath(os.path.join(args.corpus, r))
        path = pick_file(root)
        if path is None:
            continue
        uri = "file://" + path
        text = open(path, encoding="utf-8", errors="replace").read()
        server = Lsp([args.adlint, "lsp"], log=args.log)
        try:
            server.request("initialize", {
                "processId": os.getpid(), "rootUri": "file://" + root,
                "workspaceFolders": [{"uri": "file://" + root, "name": r}],
                "capabilities": {"window": {"workDoneProgress": True}},
            })
            server.notify("initialized", {})
            start = time.perf_counter()
            server.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "julia", "version": 1, "text": text}})
            server.diagnostics_for(uri)
            first = time.perf_counter() - start
            edits = []
            lines = text.count("\n")
            for k in range(args.edits):
                version = k + 2
                start = time.perf_counter()
                # Type a `#` at the end of the file, then delete it: ten edits.
                end = {"line": lines, "character": 0 if k % 2 == 0 else 1}
                change = {"range": {"start": {"line": lines, "character": 0}, "end": end},
                          "text": "#" if k % 2 == 0 else ""}
                server.notify("textDocument/didChange", {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [change],
                })
                server.diagnostics_for(uri, version)
                edits.append((time.perf_counter() - start) * 1000)
            edits.sort()
            p95 = edits[min(len(edits) - 1, int(round(0.95 * (len(edits) - 1))))]
            rel = os.path.relpath(path, root)
            print(f"| {r} | {rel} | {first:.2f} | {statistics.median(edits):.0f} | {p95:.0f} |",
                  flush=True)
        finally:
            server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("check")
    c.add_argument("adlint")
    c.add_argument("corpus")
    c.add_argument("--runs", type=int, default=3)
    c.add_argument("--fatou", default="fatou")
    l = sub.add_parser("lsp")
    l.add_argument("adlint")
    l.add_argument("corpus")
    l.add_argument("--edits", type=int, default=10)
    l.add_argument("--log", type=argparse.FileType("a"),
                   help="append the server's stderr here (with ADLINT_TIMINGS=1: its phases)")
    args = ap.parse_args()
    args.adlint = os.path.abspath(args.adlint) if os.path.exists(args.adlint) else args.adlint
    {"check": check, "lsp": lsp}[args.mode](args)


if __name__ == "__main__":
    main()
