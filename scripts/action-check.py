#!/usr/bin/env python3
"""Checks action.yml, the composite GitHub Action, without GitHub.

    python3 scripts/action-check.py WHEEL      (needs PyYAML; scripts/wheel-check.sh runs it)

First its structure: a composite action whose `run` steps have a shell and read inputs only
through `env` (an input pasted into a script is a shell injection), whose `uses` steps are
pinned to a major version, and whose expressions name only declared inputs and existing
steps. Then its behaviour: the steps run here as a runner runs them (bash with `-eo
pipefail`, GITHUB_OUTPUT, GITHUB_PATH, a step skipped after a failed one, `if:`
expressions), with adlint installed from WHEEL by the action's own install step,
`actions/setup-python` standing in as the Python running this script, and
`upload-sarif` as a check of the SARIF log it would upload. Each scenario states the
outcome it expects: which step fails, the exit code, the number of results uploaded.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACTION = os.path.join(REPO, "action.yml")
ALLOWED_USES = {"actions/setup-python", "github/codeql-action/upload-sarif"}

problems = []


def problem(msg):
    problems.append(msg)
    print(f"action-check: {msg}", file=sys.stderr)


# ---- expressions: the subset action.yml uses ------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<name>[A-Za-z_][\w.-]*))"
)


def evaluate(expr, ctx):
    """Evaluates a GitHub expression of literals, context names, ==, !=, &&, || and !."""
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot evaluate `{expr}` at `{expr[pos:]}`")
        pos = m.end()
        if m.group("str") is not None:
            out.append(repr(m.group("str")[1:-1].replace("''", "'")))
        elif m.group("op") is not None:
            out.append({"&&": " and ", "||": " or ", "!": " not "}.get(m.group("op"), m.group("op")))
        else:
            out.append(repr(lookup(m.group("name"), ctx)))
    return eval("".join(out), {"__builtins__": {}})  # noqa: S307 (built from tokens above)


def lookup(name, ctx):
    parts = name.split(".")
    if name in ("true", "false"):
        return name == "true"
    if parts[0] == "inputs" and len(parts) == 2:
        if parts[1] not in ctx["inputs"]:
            raise KeyError(f"undeclared input `{parts[1]}`")
        return ctx["inputs"][parts[1]]
    if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
        if parts[1] not in ctx["step_ids"]:
            raise KeyError(f"no step with id `{parts[1]}`")
        return ctx["steps"].get(parts[1], {}).get(parts[3], "")
    if name == "github.action_path":
        return ctx["action_path"]
    if name == "runner.temp":
        return ctx["runner_temp"]
    raise KeyError(f"unknown context `{name}`")


def substitute(text, ctx):
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(evaluate(m.group(1), ctx)), str(text))


# ---- structure -------------------------------------------------------------------------


def check_structure(action):
    runs = action.get("runs", {})
    if runs.get("using") != "composite":
        problem(f"runs.using is {runs.get('using')!r}, expected 'composite'")
    steps = runs.get("steps") or []
    if not steps:
        problem("no steps")
    inputs = action.get("inputs") or {}
    for name, spec in inputs.items():
        if "description" not in (spec or {}):
            problem(f"input `{name}` has no description")
    ids = [s["id"] for s in steps if "id" in s]
    if len(ids) != len(set(ids)):
        problem(f"duplicate step ids: {ids}")
    for i, step in enumerate(steps):
        where = f"step {i + 1} ({step.get('name', '?')})"
        if ("run" in step) == ("uses" in step):
            problem(f"{where} needs exactly one of `run` and `uses`")
        if "run" in step:
            if step.get("shell") != "bash":
                problem(f"{where} runs a script without `shell: bash`")
            if "${{" in step["run"]:
                problem(f"{where} pastes an expression into its script; pass it through `env`")
        if "uses" in step:
            action_name, _, ref = step["uses"].partition("@")
            if action_name not in ALLOWED_USES or not re.fullmatch(r"v\d+", ref):
                problem(f"{where} uses {step['uses']!r}: expected one of {sorted(ALLOWED_USES)} at @vN")
    text = open(ACTION, encoding="utf-8").read()
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    for name in sorted(used - set(inputs)):
        problem(f"`inputs.{name}` is used but not declared")
    for name in sorted(set(inputs) - used):
        problem(f"input `{name}` is declared but never used")
    for name, spec in (action.get("outputs") or {}).items():
        m = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}", str(spec.get("value", "")))
        if not m or m.group(1) not in ids:
            problem(f"output `{name}` is not the output of a step: {spec.get('value')!r}")
    return steps, inputs


# ---- behaviour -------------------------------------------------------------------------


def run_action(steps, declared, given, workdir):
    """Runs the steps; returns (failed step name or None, step outputs, uploads)."""
    inputs = {k: str((v or {}).get("default", "")) for k, v in declared.items()}
    for k in given:
        if k not in inputs:
            raise KeyError(f"scenario sets undeclared input `{k}`")
    inputs.update(given)
    runner_temp = tempfile.mkdtemp(prefix="runner-", dir=SCRATCH)
    ctx = {
        "inputs": inputs,
        "steps": {},
        "step_ids": {s["id"] for s in steps if "id" in s},
        "action_path": REPO,
        "runner_temp": runner_temp,
    }
    path_file = os.path.join(runner_temp, "github_path")
    open(path_file, "w").close()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "VIRTUAL_ENV"))}
    # What actions/setup-python provides: `python` on PATH.
    py_dir = os.path.join(runner_temp, "setup-python")
    os.mkdir(py_dir)
    os.symlink(sys.executable, os.path.join(py_dir, "python"))
    # A PATH without adlint, so that only what the action installs can be found.
    system_path = [d for d in base_env.get("PATH", "").split(os.pathsep)
                   if d and not os.path.exists(os.path.join(d, "adlint"))]
    extra_path, uploads, failed = [], [], None
    for i, step in enumerate(steps):
        name = step.get("name", f"step {i + 1}")
        if failed is not None:
            continue  # the implicit `if: success()`
        if "if" in step and not evaluate(step["if"], ctx):
            continue
        if "uses" in step:
            with_ = {k: substitute(v, ctx) for k, v in (step.get("with") or {}).items()}
            if step["uses"].startswith("actions/setup-python@"):
                extra_path.insert(0, py_dir)
            elif step["uses"].startswith("github/codeql-action/upload-sarif@"):
                sarif = os.path.join(workdir, with_["sarif_file"])
                log = json.load(open(sarif, encoding="utf-8"))
                if log.get("version") != "2.1.0" or not log.get("runs"):
                    failed = name
                uploads.append({"category": with_.get("category"), "log": log})
            continue
        env = dict(base_env)
        env.update({k: substitute(v, ctx) for k, v in (step.get("env") or {}).items()})
        output_file = os.path.join(runner_temp, f"output-{i}")
        open(output_file, "w").close()
        env.update(
            GITHUB_OUTPUT=output_file,
            GITHUB_PATH=path_file,
            GITHUB_ACTION_PATH=REPO,
            RUNNER_TEMP=runner_temp,
            PATH=os.pathsep.join(extra_path + system_path),
        )
        script = os.path.join(runner_temp, f"step-{i}.sh")
        with open(script, "w", encoding="utf-8") as f:
            f.write(step["run"])
        print(f"  -- {name}", flush=True)
        code = subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", script], cwd=workdir, env=env)
        outputs = dict(
            line.rstrip("\n").split("=", 1) for line in open(output_file, encoding="utf-8") if "=" in line
        )
        if "id" in step:
            ctx["steps"][step["id"]] = outputs
        extra_path = [line.strip() for line in reversed(open(path_file).readlines()) if line.strip()] + (
            [py_dir] if py_dir in extra_path else []
        )
        if code != 0:
            failed = name
    return failed, ctx["steps"], uploads


def expect(scenario, got, want):
    if got != want:
        problem(f"{scenario}: expected {want!r}, got {got!r}")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: action-check.py WHEEL")
    wheel = os.path.abspath(sys.argv[1])
    action = yaml.safe_load(open(ACTION, encoding="utf-8"))
    steps, declared = check_structure(action)
    if problems:
        sys.exit(1)

    clean = tempfile.mkdtemp(prefix="clean-", dir=SCRATCH)
    with open(os.path.join(clean, "clean.jl"), "w") as f:
        f.write("using Zygote\n\nloss(x) = sum(abs2, x)\n\ngradient(loss, [1.0, 2.0])\n")

    def scenario(title, inputs, failed, exit_code, results, workdir=REPO):
        print(f"== action: {title}", flush=True)
        if workdir == REPO:
            # Not into the repository; the scenario in a scratch folder keeps the default.
            inputs = {"sarif-file": tempfile.mktemp(suffix=".sarif", dir=SCRATCH), **inputs}
        got_failed, outputs, uploads = run_action(steps, declared, inputs, workdir)
        expect(title, got_failed, failed)
        expect(title + ": exit-code", outputs.get("check", {}).get("exit-code"), exit_code)
        if results is None:
            expect(title + ": uploads", len(uploads), 0)
        else:
            expect(title + ": uploads", len(uploads), 1)
            for u in uploads:
                expect(title + ": category", u["category"], inputs.get("category", "adlint"))
                found = [r for run in u["log"]["runs"] for r in run.get("results", [])]
                expect(title + ": uploaded results", len(found), results)

    from_wheel = {"install-from": "wheel", "wheel": wheel}
    scenario("findings fail the job after the upload", {**from_wheel, "paths": "examples/"},
             "Fail on findings", "1", 3)
    scenario("fail-on-findings: false", {**from_wheel, "paths": "examples/", "fail-on-findings": "false",
                                         "category": "julia"}, None, "1", 3)
    scenario("args reach adlint check (--select try-catch: none in the examples)",
             {**from_wheel, "paths": "examples/src examples/Project.toml", "args": "--select try-catch"},
             None, "0", 0)
    scenario("clean code, no upload", {**from_wheel, "upload": "false"}, None, "0", None, workdir=clean)
    scenario("an adlint error fails the check step", {**from_wheel, "args": "--no-such-flag"},
             "adlint check", "2", None)
    scenario("a missing wheel fails the install", {"install-from": "wheel", "wheel": "/nonexistent.whl"},
             "Install adlint", None, None)
    scenario("install-from: none without adlint on PATH", {"install-from": "none"},
             "Install adlint", None, None)
    scenario("an unknown install-from", {"install-from": "conda"}, "Install adlint", None, None)
    if problems:
        sys.exit(1)
    print("== action: ok")


if __name__ == "__main__":
    SCRATCH = tempfile.mkdtemp(prefix="adlint-action-")
    try:
        main()
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)
