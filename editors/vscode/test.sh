#!/bin/sh
# Build and package the extension, and test it against the real server (no VS Code download).
#   ADLINT_LSP_CMD  the server command (default: `adlint lsp`)
set -eu
cd "$(dirname "$0")"
# The package carries this copy of the repository's license.
cmp -s LICENSE ../../LICENSE || { echo "editors/vscode/LICENSE differs from LICENSE" >&2; exit 1; }
npm ci --no-audit --no-fund
# `vsce package` compiles first (vscode:prepublish); a stale package must not pass the tests.
rm -f adlint.vsix
npm run package
test -s adlint.vsix || { echo "npm run package made no adlint.vsix" >&2; exit 1; }
# The language server over stdio, finding the binary (test/find.test.ts), and the package's
# contents (test/vsix.test.ts).
npm test
