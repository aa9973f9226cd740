// Drives the real `adlint lsp` over stdio with the JSON-RPC library the extension uses
// (vscode-languageserver-protocol / vscode-jsonrpc), without downloading VS Code.
//   ADLINT_LSP_CMD  the server command (default: `adlint lsp`)
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as cp from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  InitializeRequest,
  InitializedNotification,
  PublishDiagnosticsNotification,
  PublishDiagnosticsParams,
  DidOpenTextDocumentNotification,
  CodeActionRequest,
  HoverRequest,
  ShutdownRequest,
  ExitNotification,
  RegistrationRequest,
  WorkDoneProgressCreateRequest,
  CodeAction,
  MarkupContent,
} from "vscode-languageserver-protocol/node";

const repo = path.resolve(__dirname, "..", "..", "..", "..");

test("adlint lsp publishes diagnostics, hover and code actions", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "adlint-vscode-"));
  const project = path.join(tmp, "project");
  fs.cpSync(path.join(repo, "tests", "lsp", "crossfile"), project, { recursive: true });
  const root = fs.realpathSync(project);
  const helperPath = path.join(root, "src", "helper.jl");
  const helper = pathToFileURL(helperPath).toString();

  const [cmd, ...args] = (process.env.ADLINT_LSP_CMD || "adlint lsp").split(/\s+/).filter((s) => s);
  const server = cp.spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
  const connection = createProtocolConnection(
    new StreamMessageReader(server.stdout!),
    new StreamMessageWriter(server.stdin!),
  );
  connection.onRequest(RegistrationRequest.type, () => null);
  connection.onRequest(WorkDoneProgressCreateRequest.type, () => null);
  const published = new Map<string, PublishDiagnosticsParams>();
  const waiters: Array<() => void> = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    published.set(p.uri, p);
    waiters.splice(0).forEach((w) => w());
  });
  connection.listen();
  const diagnosticsFor = async (uri: string, ok: (p: PublishDiagnosticsParams) => boolean) => {
    const deadline = Date.now() + 60000;
    for (;;) {
      const p = published.get(uri);
      if (p && ok(p)) return p;
      assert.ok(Date.now() < deadline, `no diagnostics for ${uri}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 500);
      });
    }
  };

  try {
    const init = await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(root).toString(),
      workspaceFolders: [{ uri: pathToFileURL(root).toString(), name: "project" }],
      capabilities: {
        window: { workDoneProgress: true },
        workspace: { didChangeWatchedFiles: { dynamicRegistration: true } },
        textDocument: { publishDiagnostics: { relatedInformation: true, versionSupport: true } },
      },
    });
    assert.equal(init.capabilities.positionEncoding, "utf-16");
    assert.equal(init.serverInfo?.name, "adlint");
    await connection.sendNotification(InitializedNotification.type, {});

    const text = fs.readFileSync(helperPath, "utf8");
    await connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: helper, languageId: "julia", version: 1, text },
    });
    const p = await diagnosticsFor(helper, (p) => p.version === 1);
    assert.equal(p.diagnostics.length, 1);
    const d = p.diagnostics[0];
    assert.equal(d.code, "index-assignment");
    assert.equal(d.source, "adlint");
    assert.deepEqual(d.range, { start: { line: 1, character: 4 }, end: { line: 1, character: 14 } });
    assert.equal(d.relatedInformation?.[0].message, "entry: Zygote.gradient differentiates loss");

    const hover = await connection.sendRequest(HoverRequest.type, {
      textDocument: { uri: helper },
      position: { line: 1, character: 5 },
    });
    assert.match((hover?.contents as MarkupContent).value, /index-assignment/);

    const actions = (await connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: helper },
      range: d.range,
      context: { diagnostics: [d] },
    })) as CodeAction[];
    const titles = actions.map((a) => a.title);
    // The finding's fix first (the rrule skeleton; no ForwardDiff wrap, since nothing says
    // that `x` holds real numbers), then the suppressions.
    assert.deepEqual(titles, [
      "Define a `ChainRulesCore.rrule` for `helper!` (skeleton)",
      "Suppress index-assignment on this line",
      "Suppress index-assignment in this function",
    ]);
    const suppress = actions.find((a) => a.title === "Suppress index-assignment on this line")!;
    const edit = suppress.edit!.changes![helper][0];
    assert.equal(edit.newText, "    # adlint: ignore[index-assignment]\n");
    assert.deepEqual(edit.range.start, { line: 1, character: 0 });

    await connection.sendRequest(ShutdownRequest.type);
    await connection.sendNotification(ExitNotification.type);
    assert.equal(await exited, 0);
  } finally {
    connection.dispose();
    server.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
