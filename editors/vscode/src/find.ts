// Where the `adlint` binary is: the `adlint.path` setting, or `adlint` on PATH (where
// `pipx install adlint`, `pip install` in an activated environment, and `cargo install` put
// it). Kept apart from the extension (no `vscode` import) so that it is tested under plain
// Node.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export type Found = { ok: true; command: string } | { ok: false; message: string };

export interface Where {
  /** The process environment (PATH, and PATHEXT on Windows). */
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** The first workspace folder, against which a relative `adlint.path` is resolved. */
  workspaceFolder?: string;
}

const INSTALL_HINT =
  "Install it (`pipx install adlint`, or `cargo install --path .` in a clone of adlint) " +
  "or set `adlint.path` to the binary.";

function isExecutableFile(file: string, platform: NodeJS.Platform): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    if (platform !== "win32") fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function candidates(base: string, where: Where): string[] {
  if (where.platform !== "win32" || path.extname(base) !== "") return [base];
  const exts = (where.env.PATHEXT || ".COM;.EXE;.BAT;.CMD").split(";").filter((e) => e);
  return [base, ...exts.map((e) => base + e.toLowerCase()), ...exts.map((e) => base + e)];
}

/** Searches PATH for `name`, as a shell would. */
export function onPath(name: string, where: Where): string | undefined {
  const pathVar = where.env.PATH ?? where.env.Path ?? "";
  const sep = where.platform === "win32" ? ";" : ":";
  for (const dir of pathVar.split(sep)) {
    if (!dir) continue;
    for (const file of candidates(path.join(dir, name), where)) {
      if (isExecutableFile(file, where.platform)) return file;
    }
  }
  return undefined;
}

/**
 * The command to start as `<command> lsp`, from the `adlint.path` setting: a bare name
 * (the default, `adlint`) is looked up on PATH; anything with a directory in it is a file,
 * `~` being the home directory and a relative path the workspace folder's.
 */
export function findAdlint(setting: string | undefined, where: Where): Found {
  const configured = (setting ?? "").trim() || "adlint";
  const bare = !configured.includes("/") && !(where.platform === "win32" && configured.includes("\\"));
  if (bare) {
    const found = onPath(configured, where);
    if (found) return { ok: true, command: found };
    return {
      ok: false,
      message:
        `adlint: \`${configured}\` was not found on PATH, so the language server cannot start. ` +
        INSTALL_HINT,
    };
  }
  let file = configured;
  if (file === "~" || file.startsWith("~/") || file.startsWith("~\\")) {
    file = path.join(os.homedir(), file.slice(1));
  }
  if (!path.isAbsolute(file)) {
    if (!where.workspaceFolder) {
      return {
        ok: false,
        message: `adlint: the setting \`adlint.path\` is the relative path "${configured}", and there is no workspace folder to resolve it against. Set it to an absolute path.`,
      };
    }
    file = path.resolve(where.workspaceFolder, file);
  }
  for (const f of candidates(file, where)) {
    if (isExecutableFile(f, where.platform)) return { ok: true, command: f };
  }
  let why: string;
  try {
    const st = fs.statSync(file);
    why = st.isFile() ? "is not executable" : "is not a file";
  } catch {
    why = "does not exist";
  }
  const shown = file === configured ? `"${configured}"` : `"${configured}" (${file})`;
  return {
    ok: false,
    message: `adlint: the setting \`adlint.path\` is ${shown}, which ${why}. ${INSTALL_HINT}`,
  };
}
