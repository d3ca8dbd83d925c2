#!/usr/bin/env bash
# bench-eval.sh [--no-build] [BUILD_DIR] -- time the same Nix expressions under `kiln eval --strict`
# and `nix-instantiate --eval --strict` (Debian's nix-bin) and print a markdown table with the
# time of each (best of $RUNS runs, default 9, the two alternating; the corpus row best of 3)
# and the ratio kiln/nix (below 1 = Kiln faster).
#
# Builds kiln first (`swift build -c release --product kiln`) unless --no-build is given;
# BUILD_DIR defaults to .build/release. The corpus row runs every eval-okay test of
# ../shared/nix-lang-tests (Nix 2.8's tests/lang) once per evaluator.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=1
if [ "${1:-}" = "--no-build" ]; then build=0; shift; fi
bindir=$(cd "${1:-$root/.build/release}" && pwd)
if [ $build = 1 ]; then (cd "$root" && swift build -c release --product kiln -Xswiftc -enable-testing >&2); fi
kiln=$bindir/kiln
[ -x "$kiln" ] || { echo "no kiln at $kiln" >&2; exit 2; }
command -v nix-instantiate >/dev/null || { echo "nix-instantiate not found (apt install nix-bin)" >&2; exit 2; }
corpus=${NIX_CORPUS:-$root/../shared/nix-lang-tests}
[ -d "$corpus/lang" ] || corpus=/work/shared/nix-lang-tests
export NIX_REMOTE=dummy://
RUNS=${RUNS:-9}

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-eval.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat > "$work/fib.nix" <<'NIX'
let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib 25
NIX
cat > "$work/sort.nix" <<'NIX'
let
  xs = builtins.genList (i: (i * 7919 + 13) - (i * 7919 + 13) / 100003 * 100003) 100000;
  sorted = builtins.sort builtins.lessThan xs;
in builtins.foldl' (acc: x: acc + x) 0 sorted + builtins.head sorted
NIX
cat > "$work/string.nix" <<'NIX'
let
  chunk = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  go = n: if n == 0 then "" else let h = go (n / 2); in h + h + (if n - n / 2 * 2 == 1 then chunk else "");
  s = builtins.concatStringsSep "" (builtins.genList (i: go 64 + toString i) 256);
in builtins.stringLength s
NIX
cat > "$work/fixpoint.nix" <<'NIX'
let
  fix = f: let x = f x; in x;
  names = builtins.genList (i: "opt${toString i}") 5000;
  modules = builtins.genList (m: self: builtins.listToAttrs (map (n: { name = n; value = m; }) names)) 4;
  merged = fix (self:
    builtins.foldl' (acc: mod: acc // builtins.mapAttrs (n: v: (if acc ? ${n} then acc.${n} else 0) + v) (mod self))
      { } modules
    // { total = builtins.foldl' (a: n: a + self.${n}) 0 names; });
in merged.total
NIX

# Kiln's module system is plain Nix, so both evaluators can run it: every shipped module with
# profiles/minimal.nix, and with every shipped service enabled; the result is what Kiln's
# Swift side reads (/etc, users, groups, the package requests).
for p in minimal:profiles/minimal.nix all-services:Tests/nix-modules/all-services.nix; do
    cat > "$work/modules-${p%%:*}.nix" <<NIX
let r = import $root/Tests/nix-modules/options/eval.nix { profile = $root/${p#*:}; };
in { inherit (r.config.environment) etc; inherit (r.config.users) users groups; n = builtins.length r.packageRequests; }
NIX
done

elapsed() { # wall time of one run of the command, in seconds
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    echo "$s $e" | awk '{ print $2 - $1 }'
}

# best_pair RUNS -- KILN_CMD... -- NIX_CMD...: the best wall time of each over RUNS runs,
# alternating the two so that a slow moment of this (shared, virtual) machine hits both.
best_pair() {
    local runs=$1; shift; shift
    local a=() b=()
    while [ "$1" != "--" ]; do a+=("$1"); shift; done; shift
    b=("$@")
    local bk=999999 bn=999999 t
    for _ in $(seq "$runs"); do
        t=$(elapsed "${a[@]}"); bk=$(echo "$t $bk" | awk '{ print ($1 < $2 ? $1 : $2) }')
        t=$(elapsed "${b[@]}"); bn=$(echo "$t $bn" | awk '{ print ($1 < $2 ? $1 : $2) }')
    done
    echo "$bk $bn"
}

run_corpus() { # EVALUATOR... : evaluate every eval-okay test once
    (cd "$corpus" && for f in lang/eval-okay-*.nix; do
        b=${f%.nix}; [ -e "$b.exp" ] || continue
        flags=(); [ -e "$b.flags" ] && read -r -a flags < "$b.flags"
        NIX_PATH=lang/dir3:lang/dir4 TEST_VAR=foo "$@" "${flags[@]}" "$f" >/dev/null 2>&1 || true
    done)
}
export -f run_corpus
export corpus

echo "| benchmark | kiln eval (s) | nix-instantiate (s) | kiln/nix |"
echo "|---|---:|---:|---:|"
row() {
    local name=$1; shift
    local r
    r=$(best_pair "$RUNS" -- "$kiln" eval --strict "$@" -- nix-instantiate --eval --strict "$@")
    echo "$r" | awk -v name="$name" '{ printf "| %s | %.3f | %.3f | %.2f |\n", name, $1, $2, $1 / $2 }'
}
row "recursive fib(25)" "$work/fib.nix"
row "sort + fold, 100,000 ints" "$work/sort.nix"
row "build a 1 MB string" "$work/string.nix"
row "5,000-attribute fixpoint (module style)" "$work/fixpoint.nix"
row "module system: minimal profile, all shipped modules" "$work/modules-minimal.nix"
row "module system: every shipped service enabled" "$work/modules-all-services.nix"
r=$(best_pair 3 -- bash -c 'run_corpus "$0" eval --strict' "$kiln" -- bash -c 'run_corpus nix-instantiate --eval --strict')
echo "$r" | awk '{ printf "| whole corpus (eval-okay, one process per test) | %.3f | %.3f | %.2f |\n", $1, $2, $1 / $2 }'
