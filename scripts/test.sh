#!/usr/bin/env bash
# README command 2: install what is missing, build Kiln, run every test: the unit tests
# (swift test) and the integration suite (real packages, real filesystems, real QEMU boots).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
start=$(date +%s)
swift build -c release
echo "== unit tests"
swift test -c release
echo "== integration tests"
Tests/integration/run.sh .build/release
echo "whole suite: $(( $(date +%s) - start )) s"
