#!/bin/sh
# Headless Neovim against the adlint language server.
#   ADLINT_LSP_CMD  the server command (default: `adlint lsp`)
#   NVIM            the Neovim binary (default: nvim; Debian's 0.7.2 works)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
nvim=${NVIM:-nvim}
command -v "$nvim" >/dev/null || { echo "run.sh: $nvim not found (apt-get install -y neovim)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A copy of the fixture project, so that nothing in the repository changes.
cp -R "$root/tests/lsp/crossfile" "$tmp/project"

export ADLINT_NVIM_ROOT="$root" ADLINT_NVIM_PROJECT="$tmp/project"
export ADLINT_LSP_CMD="${ADLINT_LSP_CMD:-adlint lsp}"
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_STATE_HOME="$tmp/state" XDG_CACHE_HOME="$tmp/cache"

if timeout 180 "$nvim" --headless -n -i NONE -u NONE -c "luafile $here/test.lua" </dev/null 2>"$tmp/stderr" >"$tmp/stdout"; then
  cat "$tmp/stdout" "$tmp/stderr"
  echo; echo "nvim test: ok"
else
  status=$?
  cat "$tmp/stdout" "$tmp/stderr" >&2
  echo "nvim test: FAILED ($status)" >&2
  exit 1
fi
