// The adlint extension: starts `adlint lsp` for Julia files and restarts it on demand or
// when `adlint.path` changes.
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

function serverOptions(): ServerOptions {
  const path = vscode.workspace.getConfiguration("adlint").get<string>("path") || "adlint";
  return { command: path, args: ["lsp"], transport: TransportKind.stdio };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "julia" },
      { scheme: "untitled", language: "julia" },
    ],
    outputChannelName: "adlint",
  };
  client = new LanguageClient("adlint", "adlint", serverOptions(), clientOptions);
  try {
    await client.start();
  } catch (e) {
    void vscode.window.showErrorMessage(
      `adlint: cannot start \`${vscode.workspace.getConfiguration("adlint").get("path")} lsp\`: ${e}`,
    );
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
