#!/usr/bin/env bash
# README command 2: install what is missing, build Kiln, run every test:
#   unit tests (swift test), the Nix language corpus, the module system and option tests,
#   the integration suite (real packages, real filesystems, a real QEMU boot and login),
#   the store suite (damaged caches and locks, parallel builds, kill -9 at every stage),
#   the boot matrix (every loader x firmware x architecture x filesystem, booted as a user
#   boots an image and checked over SSH from the host, and every output format), the cloud
#   presets (booted with a NoCloud seed and an emulated EC2 metadata service), the installer
#   ISO (booted as a BIOS CD, a UEFI USB stick that installs to a disk, an arm64 CD) and the
#   VM tests of qemu-tests/ through `kiln test`.
# Every suite runs even if an earlier one failed; the last line sums them up.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh || exit 1
start=$(date +%s)
# One build for the tool and the tests (the test build compiles kiln too).
# -enable-testing: the unit tests use @testable imports, which `swift test` alone would
# get by building everything a second time.
swift build -c release --build-tests -Xswiftc -enable-testing || { echo "0 passed, 1 failed"; exit 1; }
bin=.build/release

total_passed=0; total_failed=0; failed_suites=()
log=$(mktemp -d "${TMPDIR:-/tmp}/kiln-test.XXXXXX")
chmod 0755 "$log"
# Builds and VM tests run as an ordinary user (kiln-ci when this runs as root). The suites
# after the unit tests share one package cache, empty at first: the integration suite's
# first build is the cold one, and later suites reuse its .debs and store objects instead
# of fetching the same packages three more times. Nothing outlives this run.
if [ "$(id -u)" -eq 0 ]; then
  id kiln-ci >/dev/null 2>&1 || useradd --create-home --shell /bin/bash kiln-ci
fi
export KILN_CACHE_DIR="$log/cache"
mkdir -p "$KILN_CACHE_DIR"
[ "$(id -u)" -eq 0 ] && chown kiln-ci: "$KILN_CACHE_DIR"
# suite NAME COMMAND...: runs it, shows its output, adds its closing "N passed, M failed".
suite() {
  local name=$1; shift
  local t0=$(date +%s) rc p f
  echo "== $name"
  "$@" 2>&1 | tee "$log/$name.log"
  rc=${PIPESTATUS[0]}
  read -r p f < <(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log/$name.log" | tail -1 | awk '{print $1, $3}')
  if [ -z "${p:-}" ]; then p=0; f=0; fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  total_passed=$((total_passed + p)); total_failed=$((total_failed + f))
  [ "$rc" -eq 0 ] || failed_suites+=("$name")
  echo "== $name: $p passed, $f failed in $(( $(date +%s) - t0 )) s"
}

# XCTest's summary, turned into the closing line the other suites print.
unit_tests() {
  swift test -c release --skip-build 2>&1 | tee "$log/xctest.log"
  local rc=${PIPESTATUS[0]} line n s k
  line=$(grep -A1 "Test Suite 'All tests'" "$log/xctest.log" | grep -E 'Executed [0-9]+ test' | tail -1)
  n=$(grep -oE 'Executed [0-9]+' <<<"$line" | grep -oE '[0-9]+')
  s=$(grep -oE '[0-9]+ tests? skipped' <<<"$line" | grep -oE '^[0-9]+')
  k=$(grep -oE '[0-9]+ failures?' <<<"$line" | grep -oE '^[0-9]+')
  if [ -z "$n" ]; then echo "0 passed, 1 failed"; return 1; fi
  # A test class missing from the run is a failure, not a smaller total: SwiftPM finds the
  # tests through the build's index, and a stale index has dropped a whole class silently.
  local missing=0 c
  for c in $(grep -ho 'class [A-Za-z0-9_]*: XCTestCase' Tests/*/*.swift | awk '{ sub(":", "", $2); print $2 }'); do
    if ! grep -qE "Test Suite '$c' (passed|failed)" "$log/xctest.log"; then
      echo "FAIL $c: its tests did not run (test discovery missed the class)"
      missing=$((missing + 1))
    fi
  done
  echo "$(( n - ${s:-0} - ${k:-0} )) passed, $(( ${k:-0} + missing )) failed, ${s:-0} skipped"
  [ "$missing" -eq 0 ] || return 1
  return "$rc"
}

suite unit unit_tests
suite nix-corpus Tests/nix-corpus.sh "$bin"
suite module-system Tests/module-system.sh "$bin"
suite options Tests/options.sh "$bin"
suite bad-input Tests/bad-input.sh "$bin"
suite integration Tests/integration/run.sh "$bin"
suite store Tests/integration/store.sh "$bin"
suite matrix Tests/integration/matrix.sh "$bin"
suite cloud Tests/integration/cloud.sh "$bin"
suite iso Tests/integration/iso.sh "$bin"
suite vm-tests Tests/integration/vm-tests.sh "$bin"

rm -rf "$log"
echo "whole suite: $(( $(date +%s) - start )) s${failed_suites[*]:+; failed: ${failed_suites[*]}}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ] && [ ${#failed_suites[@]} -eq 0 ]
