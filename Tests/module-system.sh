#!/usr/bin/env bash
# Runs the module-system test cases in Tests/nix-modules/core under Kiln's evaluator and,
# when it is installed, under nix-instantiate (the reference), and compares.
#
#   Tests/module-system.sh BUILD_DIR       # uses BUILD_DIR/kiln
#   KILN=/path/to/kiln Tests/module-system.sh
#   NO_NIX=1 ...                           # skip nix-instantiate
#
# Cases: NAME.nix evaluates to a value, NAME.exp.json is the expected JSON.
#        fail-NAME.nix must fail; every non-empty line of fail-NAME.err must appear in its
#        stderr, as a fixed substring or else as an extended regex.
# Files in subfolders are helpers (imported modules), not cases.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cases="$here/nix-modules/core"

if [ -n "${KILN:-}" ]; then
  kiln=$KILN
elif [ $# -ge 1 ]; then
  if [ -d "$1" ]; then kiln="$1/kiln"; else kiln=$1; fi
else
  echo "usage: $0 BUILD_DIR   (or KILN=/path/to/kiln $0)" >&2
  exit 2
fi
[ -x "$kiln" ] || { echo "$kiln is not an executable" >&2; exit 2; }

evaluators=(kiln)
if [ -z "${NO_NIX:-}" ] && command -v nix-instantiate >/dev/null 2>&1; then evaluators+=(nix); fi

run() { # evaluator file -> stdout/stderr/exit of the evaluation
  case $1 in
    kiln) "$kiln" eval --strict --json "$2" ;;
    nix) nix-instantiate --store dummy:// --eval --strict --json "$2" ;;
  esac
}

normalize() { python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True, indent=1))'; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
for f in "$cases"/*.nix; do
  name=$(basename "$f" .nix)
  for ev in "${evaluators[@]}"; do
    run "$ev" "$f" >"$tmp/out" 2>"$tmp/err"; rc=$?
    why=""
    if [[ $name == fail-* ]]; then
      if [ $rc -eq 0 ]; then
        why="expected a failure, got: $(head -c 300 "$tmp/out")"
      elif [ ! -f "$cases/$name.err" ]; then
        why="missing $name.err"
      else
        while IFS= read -r line || [ -n "$line" ]; do
          [ -z "$line" ] && continue
          if ! grep -qF -- "$line" "$tmp/err" && ! grep -qE -- "$line" "$tmp/err" 2>/dev/null; then
            why="stderr lacks: $line"; break
          fi
        done <"$cases/$name.err"
      fi
    else
      if [ $rc -ne 0 ]; then
        why="failed: $(head -c 1500 "$tmp/err")"
      elif [ ! -f "$cases/$name.exp.json" ]; then
        why="missing $name.exp.json; got $(head -c 300 "$tmp/out")"
      elif ! normalize <"$tmp/out" >"$tmp/got" 2>/dev/null; then
        why="output is not JSON: $(head -c 300 "$tmp/out")"
      else
        normalize <"$cases/$name.exp.json" >"$tmp/exp"
        if ! cmp -s "$tmp/got" "$tmp/exp"; then
          why="unexpected result:
$(diff "$tmp/exp" "$tmp/got" | head -40)"
        fi
      fi
    fi
    if [ -z "$why" ]; then
      echo "PASS $name ($ev)"; pass=$((pass + 1))
    else
      echo "FAIL $name ($ev): $why"
      [ $name != "${name#fail-}" ] && [ -s "$tmp/err" ] && { echo "--- stderr:"; head -c 2000 "$tmp/err"; echo; }
      fail=$((fail + 1))
    fi
  done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
