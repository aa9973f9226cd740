// The adlint extension: starts `adlint lsp` for Julia files and restarts it on demand or
// when `adlint.path` changes. The binary is `adlint.path`, or `adlint` on PATH (src/find.ts).
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";
import { findAdlint } from "./find";

let client: LanguageClient | undefined;

async function start(context: vscode.ExtensionContext): Promise<void> {
  const setting = vscode.workspace.getConfiguration("adlint").get<string>("path");
  const found = findAdlint(setting, {
    env: process.env,
    platform: process.platform,
    workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
  });
  if (!found.ok) {
    const open = "Open Settings";
    void vscode.window.showErrorMessage(found.message, open).then((choice) => {
      if (choice === open) {
        void vscode.commands.executeCommand("workbench.action.openSettings", "adlint.path");
      }
    });
    return;
  }
  const serverOptions: ServerOptions = {
    command: found.command,
    args: ["lsp"],
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "julia" },
      { scheme: "untitled", language: "julia" },
    ],
    outputChannelName: "adlint",
  };
  client = new LanguageClient("adlint", "adlint", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (e) {
    void vscode.window.showErrorMessage(`adlint: cannot start \`${found.command} lsp\`: ${e}`);
  }
}

async function stop(): Promise<void> {
  if (client) {
    const c = client;
    client = undefined;
    await c.stop();
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("adlint.restartServer", async () => {
      await stop();
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("adlint.path")) {
        await stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

export function deactivate(): Promise<void> | undefined {
  return stop();
}
