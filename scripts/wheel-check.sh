#!/usr/bin/env bash
# Builds the Python wheel that carries the adlint binary (pyproject.toml: maturin with
# `bindings = "bin"`), installs the built file into a fresh virtual environment, and runs
# `adlint --version` and `adlint check examples/` from there, as a user who ran
# `pip install adlint-*.whl` (or `pipx install`) would. Then runs the GitHub Action
# (action.yml) with that wheel through scripts/action-check.py.
#
#   scripts/wheel-check.sh [OUT_DIR]
#
# OUT_DIR, if given, receives the checked wheel (e.g. `scripts/wheel-check.sh dist` and then
# `pipx install dist/adlint-*.whl`). Everything else lives in a temporary directory that is
# removed at exit. Needs python3 with the venv module and a Rust toolchain; maturin is
# installed from PyPI into a throwaway environment, at the version pinned below.
#   MATURIN_VERSION   maturin to build with (default: the pinned one)
#   CARGO_TARGET_DIR  honoured as by cargo: the release build is kept there between runs
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

maturin_version=${MATURIN_VERSION:-1.16.0}
pyyaml_version=6.0.3 # for scripts/action-check.py
out_dir=${1:-}

say() { printf '== wheel: %s\n' "$*"; }
fail() {
  printf 'wheel-check: %s\n' "$*" >&2
  exit 1
}

command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 ||
  fail "python3 has no venv module (on Debian or Ubuntu: apt-get install python3-venv)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/adlint-wheel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# The version the wheel must carry is Cargo.toml's (pyproject.toml takes it from there).
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || fail "cannot read the package version from Cargo.toml"

say "maturin $maturin_version (and PyYAML for the action check) in a build environment"
python3 -m venv "$tmp/build"
"$tmp/build/bin/python" -m pip install --quiet "maturin==$maturin_version" "PyYAML==$pyyaml_version"

say "maturin build --release (adlint $version)"
start=$(date +%s)
"$tmp/build/bin/maturin" build --release --locked --out "$tmp/wheels"
say "built in $(($(date +%s) - start)) s"

shopt -s nullglob
wheels=("$tmp"/wheels/adlint-*.whl)
shopt -u nullglob
[ "${#wheels[@]}" -eq 1 ] || fail "expected one wheel in $tmp/wheels, found ${#wheels[@]}"
wheel=${wheels[0]}
say "$(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"

# The wheel holds the binary as a script (pip puts it in the environment's bin/), the
# license, and metadata naming Cargo.toml's version; nothing else.
"$tmp/build/bin/python" - "$wheel" "$version" <<'PY'
import sys, zipfile
wheel, version = sys.argv[1], sys.argv[2]
names = zipfile.ZipFile(wheel).namelist()
script = f"adlint-{version}.data/scripts/adlint"
exe = script + ".exe"
problems = []
if script not in names and exe not in names:
    problems.append(f"no {script} in the wheel")
metadata = f"adlint-{version}.dist-info/METADATA"
if metadata not in names:
    problems.append(f"no {metadata} in the wheel (is the version {version}?)")
if not any(n.startswith(f"adlint-{version}.dist-info/") and n.endswith("LICENSE") for n in names):
    problems.append("no LICENSE in the wheel's dist-info")
stray = [n for n in names if not n.startswith((f"adlint-{version}.data/", f"adlint-{version}.dist-info/"))]
if stray:
    problems.append(f"files outside .data and .dist-info: {stray}")
if problems:
    print("wheel-check: " + "; ".join(problems), file=sys.stderr)
    print("wheel contents:\n  " + "\n  ".join(names), file=sys.stderr)
    sys.exit(1)
PY

say "pip install of the built file into a fresh virtual environment"
python3 -m venv "$tmp/user"
# --no-index: the wheel must install on its own, with nothing fetched beside it.
"$tmp/user/bin/python" -m pip install --quiet --no-index "$wheel"

# As a user would: activate the environment and call `adlint` by name.
# shellcheck disable=SC1091
. "$tmp/user/bin/activate"
hash -r
found=$(command -v adlint || true)
[ "$found" = "$tmp/user/bin/adlint" ] ||
  fail "\`adlint\` on PATH is '${found:-nothing}', not the virtual environment's $tmp/user/bin/adlint"

say "adlint --version"
got=$(adlint --version)
echo "$got"
[ "$got" = "adlint $version" ] || fail "adlint --version printed '$got', expected 'adlint $version'"

say "adlint check examples/ (the examples hold 3 errors: exit code 1)"
set +e
adlint check examples/ >"$tmp/check.out" 2>"$tmp/check.err"
code=$?
set -e
cat "$tmp/check.out" "$tmp/check.err"
[ "$code" -eq 1 ] || fail "adlint check examples/ exited $code, expected 1 (findings)"
grep -Eq '(^|[^0-9])3 errors' "$tmp/check.out" "$tmp/check.err" ||
  fail "adlint check examples/ did not report 3 errors"

# The same count from the machine-readable output, so a change of wording cannot hide a
# change of findings.
set +e
adlint check examples/ --output-format json >"$tmp/check.json"
code=$?
set -e
[ "$code" -eq 1 ] || fail "adlint check examples/ --output-format json exited $code, expected 1"
python3 - "$tmp/check.json" <<'PY'
import json, sys
diagnostics = json.load(open(sys.argv[1]))["diagnostics"]
errors = [d for d in diagnostics if d["severity"] == "error"]
if len(errors) != 3:
    print(f"wheel-check: the JSON output has {len(errors)} errors, expected 3", file=sys.stderr)
    sys.exit(1)
PY
deactivate

# The GitHub Action (action.yml) installs this wheel with its own steps and runs the check.
say "action.yml: scripts/action-check.py with this wheel"
"$tmp/build/bin/python" scripts/action-check.py "$wheel"

if [ -n "$out_dir" ]; then
  mkdir -p "$out_dir"
  cp "$wheel" "$out_dir/"
  say "kept $out_dir/$(basename "$wheel")"
fi
say "ok: the wheel installs into a fresh virtual environment and checks the examples, and so does action.yml"
