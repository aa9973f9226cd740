#!/usr/bin/env bash
# Fuzz each target for a given time: `fuzz/run.sh [SECONDS] [TARGET ...]` (default 60 s,
# every target). Needs the nightly toolchain; installs cargo-fuzz when it is missing.
# Without nightly, use the stable driver (no coverage feedback, no instrumented build):
# `cargo run --release --example fuzz -- --seconds 600 [--target check ...] [--seed S]`
# (fuzz/stable/main.rs); it writes crashes straight to fuzz/regressions/<target>/ and
# replays one with `--target T --one FILE`. CI runs it for 60 s.
# New interesting inputs are added to fuzz/corpus/<target>/, crashes are written to
# fuzz/artifacts/<target>/: copy each crash into fuzz/regressions/<target>/ once it is
# fixed, so that `cargo test` replays it for good (tests/it/fuzz_corpus.rs).
# FUZZ_PREBUILT=1 runs the binaries `cargo fuzz build` left in target/ as they are (the
# instrumented build takes long on small machines; sources may move on meanwhile).
# FUZZ_FLAGS adds libFuzzer flags (e.g. `-detect_leaks=0`).
set -euo pipefail
secs="${1:-60}"
shift || true
targets="${*:-check fix lsp interpret}"
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
# Seeds: the project's own fixtures, read but never written (tests/it/fuzz_corpus.rs
# replays the same directories).
seeds() {
  case "$1" in
    check) echo ../tests/corpus/dev ../examples/src ;;
    fix) echo ../tests/fix/crlf ../tests/fix/fill_loops ../tests/fix/guidance \
      ../tests/fix/limitations ../tests/fix/map_do ../tests/fix/safe_copy ;;
    interpret) echo ../tests/corpus/dev ;;
  esac
}
for t in $targets; do
  mkdir -p "corpus/$t" "regressions/$t"
  echo "== fuzzing $t for ${secs}s"
  mkdir -p "artifacts/$t"
  flags=(-max_total_time="$secs" -max_len=65536 -timeout=60 -rss_limit_mb=4096
    -print_final_stats=1 -artifact_prefix="artifacts/$t/")
  # Extra libFuzzer flags, e.g. FUZZ_FLAGS=-detect_leaks=0.
  read -r -a extra <<<"${FUZZ_FLAGS:-}"
  flags+=("${extra[@]}")
  if [ -n "${FUZZ_PREBUILT:-}" ]; then
    # shellcheck disable=SC2046
    "target/x86_64-unknown-linux-gnu/release/$t" "${flags[@]}" \
      "corpus/$t" "regressions/$t" $(seeds "$t")
  else
    # shellcheck disable=SC2046
    cargo +nightly fuzz run "$t" "corpus/$t" "regressions/$t" $(seeds "$t") -- "${flags[@]}"
  fi
done
