#!/usr/bin/env bash
# Runs every VM test in qemu-tests/ with `kiln test` and prints "N passed, M failed".
#   Tests/integration/vm-tests.sh BUILD_DIR [TEST.nix ...]
# Tests run side by side as long as their machines fit in KILN_VM_SLOTS (default 3) QEMU
# processes. Exit status 77 from kiln test is a skip (e.g. no aarch64 hardware file yet).
# Reports (console logs, screenshots, JUnit XML) go to $KILN_TEST_REPORTS (default a temp dir).
# As a user would run them: kiln is a copy alone in a folder of its own, the tests and the
# profiles they import are copies under /tmp, and kiln runs from yet another folder, so
# nothing can come from the checkout or the build folder.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:?usage: vm-tests.sh BUILD_DIR [TEST.nix ...]}" && pwd)
shift
[ -x "$build/kiln" ] || { echo "vm-tests: $build/kiln is not built" >&2; exit 2; }
# Three machines on two cores: most tests have a node that idles while another works (the
# server test's first node is done in 45 s, its second boots for 90), and TCG machines that
# idle cost little.
slots=${KILN_VM_SLOTS:-3}
reports=${KILN_TEST_REPORTS:-$(mktemp -d "${TMPDIR:-/tmp}/kiln-vm-tests.XXXXXX")}
mkdir -p "$reports"
away=$(mktemp -d "${TMPDIR:-/tmp}/kiln-away.XXXXXX")
trap 'rm -rf "$away"' EXIT
mkdir -p "$away/bin" "$away/project" "$away/cwd"
cp "$build/kiln" "$away/bin/kiln"
cp -r "$repo/qemu-tests" "$repo/profiles" "$away/project/"
# The corpus of configurations corpus.nix boots, at the same place relative to qemu-tests/.
mkdir -p "$away/project/Tests" && cp -r "$repo/Tests/nixos-configs" "$away/project/Tests/"
kiln="$away/bin/kiln"
if [ $# -gt 0 ]; then
  tests=(); for t in "$@"; do tests+=("$away/project/qemu-tests/$(basename "$t")"); done
else
  tests=("$away/project"/qemu-tests/*.nix)
fi
chmod -R a+rX "$away"
# As an ordinary user (kiln-ci when this runs as root): nothing here needs privilege.
if [ "$(id -u)" -eq 0 ]; then
  id kiln-ci >/dev/null 2>&1 || useradd --create-home --shell /bin/bash kiln-ci
  chown kiln-ci: "$reports" "$away/cwd"
  runas() { runuser -u kiln-ci -- env HOME=/home/kiln-ci PATH="$PATH" ${KILN_CACHE_DIR:+KILN_CACHE_DIR="$KILN_CACHE_DIR"} "$@"; }
else
  runas() { "$@"; }
fi
cd "$away/cwd"

# Machines a test boots: its distinct `nodes.NAME`, or the names one level inside a
# `nodes = { … };` block (at least 1).
nodes_of() {
  local n
  n=$( { grep -oE '^[[:space:]]*nodes\.[A-Za-z_][A-Za-z0-9_]*' "$1" | sed 's/.*nodes\.//'
         awk 'match($0, /^ *nodes = \{ *$/) { inside = 1; indent = RLENGTH - length("nodes = {"); next }
              inside && match($0, /^ *\};?/) && RLENGTH - 2 <= indent { inside = 0 }
              inside && match($0, /^ *[A-Za-z_][A-Za-z0-9_]* = /) {
                name = $0; sub(/^ */, "", name); sub(/ .*/, "", name)
                if (index($0, name) == indent + 3) print name
              }' "$1"; } | sort -u | wc -l)
  echo $(( n > 0 ? n : 1 ))
}

declare -A pid_test pid_nodes
used=0
passed=0; failed=0; skipped=0; failures=()
reap() {  # waits for one test to finish and counts it
  local pid rc
  wait -n -p pid; rc=$?
  local t=${pid_test[$pid]#"$away/project/"} name
  name=$(basename "$t" .nix)
  used=$(( used - pid_nodes[$pid] ))
  case $rc in
    0) passed=$((passed + 1)); echo "PASS $t ($(tail -1 "$reports/$name.out" | sed -n 's/.*passed in \([0-9.]* s\).*/\1/p'))" ;;
    77) skipped=$((skipped + 1)); echo "SKIP $t: $(grep -m1 SKIPPED "$reports/$name.out" | sed 's/^SKIPPED [^:]*: //')" ;;
    *) failed=$((failed + 1)); failures+=("$t"); echo "FAIL $t (exit $rc); output:"; tail -40 "$reports/$name.out" | sed 's/^/    /' ;;
  esac
  unset "pid_test[$pid]" "pid_nodes[$pid]"
}

start=$(date +%s)
# Longest first (the biggest file, as a guess), then whichever test fits the free slots.
mapfile -t pending < <(for t in "${tests[@]}"; do echo "$(stat -c %s "$t") $t"; done | sort -rn | cut -d' ' -f2-)
while (( ${#pending[@]} > 0 )); do
  pick=-1
  for i in "${!pending[@]}"; do
    n=$(nodes_of "${pending[$i]}"); (( n > slots )) && n=$slots
    if (( used + n <= slots )); then pick=$i; break; fi
  done
  if (( pick < 0 )); then reap; continue; fi
  t=${pending[$pick]}; unset "pending[$pick]"; pending=("${pending[@]}")
  name=$(basename "$t" .nix)
  runas "$kiln" test "$t" --out "$reports/$name" --junit "$reports/$name.junit.xml" >"$reports/$name.out" 2>&1 &
  pid_test[$!]=$t; pid_nodes[$!]=$n; used=$((used + n))
  echo "started ${t#"$away/project/"} ($n machine$([ "$n" -gt 1 ] && echo s))"
done
while (( ${#pid_test[@]} > 0 )); do reap; done

# Reruns, once every test ran (alone, so nothing else slows the machine): snapshot.nix again
# resumes its machine from the boot the first run saved; with --no-snapshot it boots, here
# at the interactive prompt, driven from stdin; kiln gc --vm-snapshots deletes the saved boots.
check() {  # check NAME COMMAND...: runs it, counts it
  if "${@:2}"; then passed=$((passed + 1)); echo "PASS $1"; else failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1"; fi
}
if [ $# -eq 0 ]; then
  snap="$away/project/qemu-tests/snapshot.nix"
  rerun() {
    runas "$kiln" test "$snap" "$@" --out "$reports/snapshot-rerun$*" >"$reports/snapshot-rerun$*.out" 2>&1 || return 1
    local first how=booted
    first=$(sed -n 's/.*first successful command \([0-9.]*\) s after start.*/\1/p' "$reports/snapshot-rerun$*.out")
    grep -q "from its saved boot" "$reports/snapshot-rerun$*.out" && how=saved
    echo "$how ${first:-?}"
  }
  # Measured against the first run's cold boot on this same machine, not a fixed number of
  # seconds: a resumed machine answered in 1.5-3.3 s and a cold one in 9-28 s across runs, so
  # a fixed 3 s line failed a CI run (3.3 s) that had resumed as it should.
  resumed() {
    local how first cold
    cold=$(sed -n 's/.*first successful command \([0-9.]*\) s after start$/\1/p' "$reports/snapshot.out" | head -1)
    read -r how first < <(rerun) || return 1
    echo "  rerun of snapshot.nix: $how, first command ${first:-?} s after start (cold boot: ${cold:-?} s)"
    [ "$how" = saved ] && awk -v t="${first:-99}" -v c="${cold:-12}" 'BEGIN { exit !(t <= c / 2) }'
  }
  check "a rerun resumes its saved boot: first command in under half the cold boot's time" resumed
  # One boot for two checks: --no-snapshot must boot, and --interactive runs what it reads.
  interactive() {
    printf 'machine.start()\nprint(machine.succeed("echo interactive-$((6 * 7))"))\n' |
      runas "$kiln" test --interactive --no-snapshot "$snap" --out "$reports/interactive" >"$reports/interactive.out" 2>&1 &&
      grep -q "interactive-42" "$reports/interactive.out" &&
      grep -q "first successful command" "$reports/interactive.out" && ! grep -q "from its saved boot" "$reports/interactive.out"
  }
  check "kiln test --interactive --no-snapshot boots and runs what it reads" interactive
  gc_snapshots() {
    runas "$kiln" gc --vm-snapshots | grep -q "deleted the VM tests' saved boots" &&
      [ ! -e "${KILN_CACHE_DIR:-/nonexistent}/vm-snapshots" ]
  }
  [ -n "${KILN_CACHE_DIR:-}" ] && check "kiln gc --vm-snapshots deletes them" gc_snapshots
fi

echo "vm tests: $skipped skipped in $(( $(date +%s) - start )) s; reports in $reports"
echo "$passed passed, $failed failed"
(( failed == 0 ))
