// The package that `npm run package` makes (adlint.vsix, run it first; test.sh does): a zip
// with the manifest, the compiled extension and every module it loads at run time, and
// without sources or tests. Installed with `code --install-extension adlint.vsix`.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { isBuiltin } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";

const root = path.resolve(__dirname, "..", "..");
const vsix = path.join(root, "adlint.vsix");

/** The entries of a zip file (stored or deflated, as vsce writes them). */
function unzip(file: string): Map<string, Buffer> {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, `${file} is not a zip file (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50, "central directory entry");
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString("utf8", at + 46, at + 46 + nameLen);
    assert.equal(buf.readUInt32LE(local), 0x04034b50, `local header of ${name}`);
    const data = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(data, data + size);
    assert.ok(method === 0 || method === 8, `${name}: compression method ${method}`);
    entries.set(name, method === 0 ? Buffer.from(raw) : zlib.inflateRawSync(raw));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

test("adlint.vsix holds the extension, its license and its run-time modules", () => {
  assert.ok(fs.existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
  const entries = unzip(vsix);
  const source = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

  const manifest = entries.get("extension/package.json");
  assert.ok(manifest, "extension/package.json is in the package");
  const packaged = JSON.parse(manifest.toString("utf8"));
  for (const key of ["name", "publisher", "version", "main"]) {
    assert.equal(packaged[key], source[key], `package.json's ${key}`);
  }
  assert.deepEqual(packaged.contributes, source.contributes);
  const main = path.posix.join("extension", packaged.main.replace(/^\.\//, ""));
  assert.ok(entries.has(main), `${main} (the extension's main) is in the package`);
  assert.ok(entries.has("extension.vsixmanifest"), "extension.vsixmanifest is in the package");
  assert.ok(
    [...entries.keys()].some((n) => /^extension\/LICENSE(\.txt|\.md)?$/.test(n)),
    "the license is in the package",
  );
  const stray = [...entries.keys()].filter(
    (n) =>
      n.startsWith("extension/src/") ||
      n.startsWith("extension/test/") ||
      n.startsWith("extension/out/test/") ||
      n.endsWith(".vsix") ||
      (n.endsWith(".ts") && !n.startsWith("extension/node_modules/")),
  );
  assert.deepEqual(stray, [], "sources, tests and packages are left out");
  const devOnly = [...entries.keys()].filter((n) =>
    /^extension\/node_modules\/(typescript|@vscode\/vsce|@types)\//.test(n),
  );
  assert.deepEqual(devOnly, [], "development dependencies are left out");

  // Unpacked as VS Code would, every module the compiled extension requires resolves inside
  // the package, except `vscode` (which VS Code provides) and Node's own.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "adlint-vsix-"));
  for (const [name, data] of entries) {
    if (name.endsWith("/")) continue;
    const file = path.join(dir, ...name.split("/"));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
  }
  const ext = path.join(dir, "extension");
  const outSrc = path.join(ext, "out", "src");
  const files = fs.readdirSync(outSrc).filter((f) => f.endsWith(".js"));
  assert.ok(files.length > 0, "compiled sources are in the package");
  const required = new Set<string>();
  for (const f of files) {
    const js = fs.readFileSync(path.join(outSrc, f), "utf8");
    for (const m of js.matchAll(/require\("([^"]+)"\)/g)) {
      const spec = m[1];
      if (spec === "vscode" || isBuiltin(spec)) continue;
      required.add(spec);
      const resolved = require.resolve(spec, { paths: [outSrc] });
      assert.ok(resolved.startsWith(ext + path.sep), `${spec} resolves inside the package, not ${resolved}`);
    }
  }
  assert.ok(required.has("vscode-languageclient/node"), "the language client is required and resolved");
  fs.rmSync(dir, { recursive: true, force: true });
});
