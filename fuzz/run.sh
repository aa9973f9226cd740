#!/usr/bin/env bash
# Fuzz each target for a given time: `fuzz/run.sh [SECONDS] [TARGET ...]` (default 60 s,
# every target). Needs the nightly toolchain; installs cargo-fuzz when it is missing.
# New interesting inputs are added to fuzz/corpus/<target>/, crashes are written to
# fuzz/artifacts/<target>/: copy each crash into fuzz/regressions/<target>/ once it is
# fixed, so that `cargo test` replays it for good (tests/it/fuzz_corpus.rs).
set -euo pipefail
secs="${1:-60}"
shift || true
targets="${*:-check fix lsp interpret}"
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
for t in $targets; do
  mkdir -p "corpus/$t"
  echo "== fuzzing $t for ${secs}s"
  cargo +nightly fuzz run "$t" "corpus/$t" -- \
    -max_total_time="$secs" -max_len=65536 -timeout=60 -rss_limit_mb=4096 -print_final_stats=1
done
