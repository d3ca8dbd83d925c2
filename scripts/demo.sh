#!/usr/bin/env bash
# README command 1: install what is missing, build Kiln, build profiles/minimal.nix and boot it.
# On a terminal the boot is interactive (log in as root / kiln; Ctrl-A X quits QEMU);
# without one it logs in by itself, runs a command and powers off.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
# The same flags as scripts/test.sh, so the two commands share one build.
swift build -c release --product kiln -Xswiftc -enable-testing
kiln=.build/release/kiln
mkdir -p out
# Debian's archive keeps only the newest version of each package: move the committed pins
# only if one has left it (a no-op otherwise), then build from the lock.
"$kiln" lock --if-stale profiles/minimal.nix
"$kiln" build profiles/minimal.nix --output out/minimal.raw
if [ -t 0 ] && [ -t 1 ]; then
  exec "$kiln" run out/minimal.raw
else
  "$kiln" run out/minimal.raw --login root:kiln --command 'systemctl is-active multi-user.target; hostname; uname -r'
fi
