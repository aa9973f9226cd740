#!/bin/sh
# Build the extension and test it against the real server (no VS Code download).
#   ADLINT_LSP_CMD  the server command (default: `adlint lsp`)
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run compile
npm test
