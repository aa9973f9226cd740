// How the extension finds the server binary (src/find.ts): on PATH by default, or the file
// `adlint.path` names, with an error message naming the setting when it cannot be used.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findAdlint } from "../src/find";

const posix = process.platform !== "win32";

function fixture(): { dir: string; bin: string; exe: string; plain: string } {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "adlint-find-")));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const exe = path.join(bin, "adlint");
  fs.writeFileSync(exe, "#!/bin/sh\n");
  fs.chmodSync(exe, 0o755);
  const plain = path.join(dir, "not-executable");
  fs.writeFileSync(plain, "");
  fs.chmodSync(plain, 0o644);
  return { dir, bin, exe, plain };
}

test("the default setting finds adlint on PATH", { skip: !posix }, () => {
  const f = fixture();
  const empty = path.join(f.dir, "empty");
  fs.mkdirSync(empty);
  const where = { env: { PATH: [empty, f.plain, f.bin].join(":") }, platform: process.platform };
  assert.deepEqual(findAdlint(undefined, where), { ok: true, command: f.exe });
  assert.deepEqual(findAdlint("", where), { ok: true, command: f.exe });
  assert.deepEqual(findAdlint("adlint", where), { ok: true, command: f.exe });
});

test("a PATH without adlint is an error that names PATH and the setting", { skip: !posix }, () => {
  const f = fixture();
  // A file called adlint that is not executable does not count.
  const other = path.join(f.dir, "other");
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, "adlint"), "");
  fs.chmodSync(path.join(other, "adlint"), 0o644);
  const found = findAdlint("adlint", { env: { PATH: other }, platform: process.platform });
  assert.equal(found.ok, false);
  if (!found.ok) {
    assert.match(found.message, /`adlint` was not found on PATH/);
    assert.match(found.message, /`adlint\.path`/);
    assert.match(found.message, /pipx install adlint/);
  }
});

test("a configured path that exists and is executable is used as is", { skip: !posix }, () => {
  const f = fixture();
  const where = { env: { PATH: "" }, platform: process.platform };
  assert.deepEqual(findAdlint(f.exe, where), { ok: true, command: f.exe });
  assert.deepEqual(findAdlint(`  ${f.exe} `, where), { ok: true, command: f.exe });
});

test("a relative configured path is the workspace folder's", { skip: !posix }, () => {
  const f = fixture();
  const where = { env: { PATH: "" }, platform: process.platform, workspaceFolder: f.dir };
  assert.deepEqual(findAdlint("bin/adlint", where), { ok: true, command: f.exe });
  assert.deepEqual(findAdlint("./bin/adlint", where), { ok: true, command: f.exe });
  const nowhere = findAdlint("bin/adlint", { env: { PATH: "" }, platform: process.platform });
  assert.equal(nowhere.ok, false);
  if (!nowhere.ok) assert.match(nowhere.message, /`adlint\.path`.*no workspace folder/);
});

test("a configured path that cannot be used is an error naming the setting and why", { skip: !posix }, () => {
  const f = fixture();
  // Even with adlint on PATH: the setting wins, and a wrong one is reported, not ignored.
  const where = { env: { PATH: f.bin }, platform: process.platform, workspaceFolder: f.dir };
  const cases: Array<[string, RegExp]> = [
    [path.join(f.dir, "missing", "adlint"), /which does not exist/],
    [f.plain, /which is not executable/],
    [f.bin, /which is not a file/],
    ["missing/adlint", new RegExp(`"missing/adlint" \\(${path.join(f.dir, "missing", "adlint")}\\), which does not exist`)],
  ];
  for (const [setting, why] of cases) {
    const found = findAdlint(setting, where);
    assert.equal(found.ok, false, setting);
    if (!found.ok) {
      assert.match(found.message, /the setting `adlint\.path` is/, setting);
      assert.match(found.message, why, setting);
    }
  }
});

test("~ in a configured path is the home directory", { skip: !posix }, () => {
  const found = findAdlint("~/surely-not-here/adlint", { env: { PATH: "" }, platform: process.platform });
  assert.equal(found.ok, false);
  if (!found.ok) assert.ok(found.message.includes(path.join(os.homedir(), "surely-not-here", "adlint")));
});
