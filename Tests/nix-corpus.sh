#!/usr/bin/env bash
# nix-corpus.sh BUILD_DIR -- run the Nix 2.8 language corpus (../shared/nix-lang-tests)
# against BUILD_DIR/kiln: `kiln eval --parse` for the parse tests, `kiln eval --strict`
# for the eval tests. Prints the runner's closing line ("N passed, M failed") and
# exits non-zero if any test fails (FAIL lines are printed too).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
kiln=$(cd "$1" 2>/dev/null && pwd)/kiln
[ -x "$kiln" ] || { echo "nix-corpus: no kiln executable at $1/kiln" >&2; exit 2; }
runner=${NIX_CORPUS_RUNNER:-$here/../../shared/nix-lang-tests/run-corpus.sh}
[ -x "$runner" ] || runner=/work/shared/nix-lang-tests/run-corpus.sh
[ -e "$runner" ] || { echo "nix-corpus: corpus runner not found (set NIX_CORPUS_RUNNER)" >&2; exit 2; }
out=$(bash "$runner" -q -p "$kiln eval --parse" "$kiln" eval --strict 2>&1)
rc=$?
printf '%s\n' "$out" | grep '^FAIL' || true
last=$(printf '%s\n' "$out" | tail -n 1)
echo "$last"
[ $rc -eq 0 ] && [[ $last =~ ^[0-9]+\ passed,\ 0\ failed$ ]]
