#!/usr/bin/env bash
# The store's guarantees, tried as a careful user would (issue 13), as an unprivileged user:
#   integrity   a flipped byte in a store file, a manifest edited to mode 04777, a cached .deb
#               replaced by another or truncated: each is found and repaired from a verified
#               .deb, and the image is bit-identical to a clean build; kiln store verify
#               finds and --repair fixes damage; no store folder is world-writable.
#   locks       a lock with an entry deleted, a hash pointing at another package's .deb, an
#               extra package, lockVersion 99: refused with the lock's path and the fix.
#   inputs      --output naming the profile or its lock; an unwritable cache; $HOME's cache;
#               a full TMPDIR (a small tmpfs, when this runs as root).
#   concurrency four builds and a `kiln lock` at once on one cold cache: all succeed, the
#               images are identical, nothing is left half-done.
#   gc          kiln gc keeps what the locks under --roots pin, deletes the rest, and waits for
#               a build that uses the cache; --max-size trims it to a size, least recently used
#               first, and the next build fetches and unpacks again what it needs.
#   crashes     kill -9 at every stage (index update, fetch, unpack, generation, ext4, disk,
#               qcow2 conversion): nothing in the output folder, no child left running, the
#               leftovers swept by the next run, whose image is bit-identical to a clean one.
# Usage: Tests/integration/store.sh BUILD_DIR
# Env: KILN_CACHE_DIR a warm cache to start from (the integrity and lock parts).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
builddir=$(cd "${1:?usage: store.sh BUILD_DIR}" && pwd)

passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }
t_start=$(now)

work=$(mktemp -d /tmp/kiln-store.XXXXXX)
chmod 0755 "$work"
mounted=
trap '[ -n "$mounted" ] && umount "$mounted"; pkill -9 -f "$work/bin/kiln" 2>/dev/null; rm -rf "$work"' EXIT
if [ "$(id -u)" -eq 0 ]; then
  id kiln-ci >/dev/null 2>&1 || useradd --create-home --shell /bin/bash kiln-ci
  runas() { runuser -u kiln-ci -- env HOME=/home/kiln-ci PATH="$PATH" CI=1 TMPDIR="$work/tmp" "$@"; }
  chown kiln-ci: "$work"
else
  runas() { env CI=1 TMPDIR="$work/tmp" "$@"; }
fi
mkdir -p "$work/bin" && cp "$builddir/kiln" "$work/bin/" && chmod -R a+rx "$work/bin"
runas mkdir -p "$work/tmp" "$work/p" "$work/out"
runas cp "$repo/profiles/minimal.nix" "$work/p/minimal.nix"
cache=${KILN_CACHE_DIR:-$work/cache}
kiln() { runas env KILN_CACHE_DIR="$cache" "$work/bin/kiln" "$@"; }
sha() { sha256sum "$1" | cut -c1-64; }
p="$work/p/minimal.nix"

# ---- the reference image
kiln build "$p" --output "$work/out/ref.raw" >"$work/ref.log" 2>&1
check "a clean build succeeds" test -s "$work/out/ref.raw"
ref=$(sha "$work/out/ref.raw")
lock="$p.lock"
store="$cache/store"
# A package's object, its manifest and its cached .deb.
pkg_sha() { python3 -c "import json,sys; print([x['sha256'] for x in json.load(open('$lock'))['packages'] if x['name']=='$1'][0])"; }
obj_of() { grep -l "^deb $1 " "$store"/*.manifest 2>/dev/null | xargs grep -l "$(pkg_sha "$1")" | head -1 | sed 's/\.manifest$//'; }

# ---- integrity: damage is found and repaired, the image does not change
o=$(obj_of coreutils)
runas cp "$o/bin/ls" "$work/ls.bak"
runas python3 -c "import sys; f=open('$o/bin/ls','r+b'); f.seek(1000); b=f.read(1); f.seek(1000); f.write(bytes([b[0]^0xff]))"
out=$(kiln build "$p" --output "$work/out/a.raw" 2>&1); rc=$?
check "a flipped byte in a store file: the build still succeeds" test $rc -eq 0
check "... and says which file did not match its manifest" grep -q "bin/ls does not match its manifest" <<<"$out"
check "... the image is bit-identical to a clean build" test "$(sha "$work/out/a.raw")" = "$ref"
check "... and the store file is repaired" cmp -s "$o/bin/ls" "$work/ls.bak"

runas sed -i 's|^\(f\) 0755 \(0 0 [0-9]* [0-9a-f]* bin/ls\)$|\1 4777 \2|' "$o.manifest"
check "(the manifest now says 4777)" grep -q "^f 4777 .* bin/ls$" "$o.manifest"
out=$(kiln build "$p" --output "$work/out/b.raw" 2>&1); rc=$?
check "a manifest edited to mode 04777 is refused and the object unpacked again" \
  sh -c "test $rc -eq 0 && grep -q 'manifest of .*coreutils.* is damaged' <<'EOF2'
$out
EOF2"
check "... the image is bit-identical to a clean build" test "$(sha "$work/out/b.raw")" = "$ref"

cu=$(pkg_sha coreutils); gr=$(pkg_sha grep)
runas cp "$cache/debs/$gr.deb" "$cache/debs/$cu.deb"
runas rm -rf "$o" "$o.manifest"
out=$(kiln build "$p" --output "$work/out/c.raw" 2>&1); rc=$?
check "a cached .deb replaced by another package's: the build succeeds" test $rc -eq 0
check "... the .deb is hashed before unpacking and fetched again" grep -q "coreutils .*has SHA-256 .*fetching it again" <<<"$out"
check "... the image is bit-identical to a clean build" test "$(sha "$work/out/c.raw")" = "$ref"
check "... and the cached .deb is the right one again" test "$(sha "$cache/debs/$cu.deb")" = "$cu"

o=$(obj_of grep)
runas truncate -s 1000 "$cache/debs/$gr.deb"
runas rm -rf "$o" "$o.manifest"
out=$(kiln build "$p" --output "$work/out/d.raw" 2>&1); rc=$?
check "a truncated cached .deb is fetched again, not reported as an archive error" \
  sh -c "test $rc -eq 0 && test \"\$(sha256sum '$work/out/d.raw' | cut -c1-64)\" = '$ref'"
rm -f "$work/out/"[abcd].raw

out=$(kiln store verify 2>&1); rc=$?
check "kiln store verify: a sound store passes" test $rc -eq 0
o=$(obj_of coreutils)
runas python3 -c "f=open('$o/bin/ls','r+b'); f.seek(2000); b=f.read(1); f.seek(2000); f.write(bytes([b[0]^0xff]))"
out=$(kiln store verify 2>&1); rc=$?
check "kiln store verify: a damaged file fails it, named" sh -c "test $rc -eq 1 && grep -q 'bin/ls: its SHA-256 is' <<'EOF2'
$out
EOF2"
out=$(kiln store verify --repair 2>&1); rc=$?
check "kiln store verify --repair unpacks it again" test $rc -eq 0 -a -n "$(grep 'unpacked again from its verified .deb' <<<"$out")"
check "... and then the store passes" kiln store verify
check "no store folder is writable by others (base-files' tmp folders among them)" \
  test -z "$(grep -h '^d [0-7]*[2367] ' "$store"/*.manifest)"

# ---- locks: a damaged lock is refused, naming the lock and the way out
cp "$lock" "$work/good.lock"
bad_lock() {  # NAME PYTHON-EDIT EXPECTED-TEXT
  python3 - "$work/good.lock" "$work/$1.lock" <<PY
import json, sys
l = json.load(open(sys.argv[1])); shas = {x['name']: x['sha256'] for x in l['packages']}
$2
json.dump(l, open(sys.argv[2], 'w'), indent=2)
PY
  runas cp "$work/$1.lock" "$lock"
  out=$(kiln build "$p" --output "$work/out/lock.raw" 2>&1); rc=$?
  check "lock: $1 is refused ($3)" sh -c "test $rc -ne 0 && grep -q \"$3\" <<'EOF2'
$out
EOF2"
  check "lock: $1 leaves no output" test ! -e "$work/out/lock.raw"
}
bad_lock no-libc6 "l['packages'] = [x for x in l['packages'] if x['name'] != 'libc6']" "lacks libc6"
bad_lock swapped-hash "[x.update(sha256=shas['grep']) for x in l['packages'] if x['name'] == 'bash']" "pins bash .* the lock was edited or damaged"
bad_lock extra "l['packages'].append(dict(l['packages'][0], name='kiln-extra-package'))" "the archive no longer has: kiln-extra-package"
bad_lock version-99 "l['lockVersion'] = 99" "has lockVersion 99, but this kiln reads version 1"
runas cp "$work/good.lock" "$lock"

# ---- inputs
out=$(kiln build "$p" --output "$p" 2>&1); rc=$?
check "--output naming the profile is refused and the profile kept" \
  sh -c "test $rc -ne 0 && grep -q 'is the build.s profile' <<'EOF2'
$out
EOF2
cmp -s '$p' '$repo/profiles/minimal.nix'"
out=$(kiln build "$p" --output "$lock" 2>&1); rc=$?
check "--output naming its lock is refused" test $rc -ne 0 -a -n "$(grep 'lock file' <<<"$out")"
runas mkdir -p "$work/ro" && runas chmod 0555 "$work/ro"
out=$(runas env KILN_CACHE_DIR="$work/ro/cache" "$work/bin/kiln" build "$p" --output "$work/out/ro.raw" 2>&1); rc=$?
check "an unwritable cache: a clear message, no NSError dump" \
  sh -c "test $rc -ne 0 && grep -q 'Permission denied' <<'EOF2'
$out
EOF2
! grep -q 'Error Domain' <<'EOF2'
$out
EOF2"
echo "$out" | head -3
runas mkdir -p "$work/home"
out=$(runuser -u kiln-ci -- env -u KILN_CACHE_DIR -u XDG_CACHE_HOME HOME="$work/home" PATH="$PATH" "$work/bin/kiln" store verify 2>&1 || true)
check "the default cache follows \$HOME" grep -q "$work/home/.cache/kiln/store" <<<"$out"
if [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$work/small" && mount -t tmpfs -o size=40m tmpfs "$work/small" && mounted="$work/small" && chmod 1777 "$work/small"
  out=$(runuser -u kiln-ci -- env HOME=/home/kiln-ci PATH="$PATH" CI=1 TMPDIR="$work/small" KILN_CACHE_DIR="$cache" \
        "$work/bin/kiln" build "$p" --output "$work/out/full.raw" 2>&1); rc=$?
  check "a full TMPDIR: a message saying so and where to make room" \
    sh -c "test $rc -ne 0 && grep -qi 'no space left' <<'EOF2'
$out
EOF2"
  echo "$out" | grep -i "space" | head -2
  check "... and no output" test ! -e "$work/out/full.raw"
  umount "$work/small"; mounted=
fi

# ---- concurrency: four builds and a lock at once on one cold cache
cold="$work/cold"
runas mkdir -p "$cold"
for i in 1 2 3 4; do runas mkdir -p "$work/c$i"; runas cp "$repo/profiles/minimal.nix" "$work/c$i/minimal.nix"; done
t0=$(now)
pids=()
for i in 1 2 3 4; do
  runas env KILN_CACHE_DIR="$cold" "$work/bin/kiln" build "$work/c$i/minimal.nix" --output "$work/out/par$i.raw" >"$work/par$i.log" 2>&1 &
  pids+=($!)
done
runas env KILN_CACHE_DIR="$cold" "$work/bin/kiln" lock --if-stale "$work/c1/minimal.nix" >"$work/par-lock.log" 2>&1 &
pids+=($!)
ok=0
for pid in "${pids[@]}"; do wait "$pid" && ok=$((ok + 1)); done
echo "TIMING four parallel cold builds $(since "$t0") s"
check "four builds and a lock at once on a cold cache all succeed" test $ok -eq 5
for i in 1 2 3 4; do [ $ok -eq 5 ] || tail -5 "$work/par$i.log"; done
check "... and their images are identical" test "$(cat "$work/out"/par*.raw 2>/dev/null | wc -c)" -gt 0 -a \
  "$(for i in 1 2 3 4; do sha "$work/out/par$i.raw"; done | sort -u | wc -l)" -eq 1
check "... and nothing is left half-done in the cache" \
  test -z "$(find "$cold" -maxdepth 2 \( -name '*.tmp-*' -o -name '.download-*' -o -name '*.old-*' \) | head -1)"
par_sha=$(sha "$work/out/par1.raw" 2>/dev/null)
rm -f "$work/out"/par*.raw

# ---- reading a btrfs image back: Kiln has no btrfs reader of its own, so kiln verify and
# inspect start libguestfs' appliance (with a kernel from Kiln's store: the host may have none)
runas tee "$work/p/btrfs.nix" >/dev/null <<'NIX'
{ ... }: { imports = [ ./minimal.nix ]; fileSystems."/".fsType = "btrfs"; }
NIX
kiln build "$work/p/btrfs.nix" --output "$work/out/btrfs.raw" >"$work/btrfs.log" 2>&1
check "a btrfs image builds" test -s "$work/out/btrfs.raw"
t0=$(now)
out=$(kiln verify "$work/out/btrfs.raw" 2>&1); rc=$?
echo "TIMING kiln verify (btrfs, libguestfs) $(since "$t0") s"
check "kiln verify of a btrfs image, through libguestfs: every store file matches" \
  sh -c "test $rc -eq 0 && grep -q 'match the image.s registration (btrfs, read through libguestfs)' <<'EOF2'
$out
EOF2"
[ $rc -eq 0 ] || echo "$out" | tail -5
t0=$(now)
out=$(kiln inspect "$work/out/btrfs.raw" 2>&1); rc=$?
echo "TIMING kiln inspect (btrfs, libguestfs) $(since "$t0") s"
check "kiln inspect of a btrfs image: its current generation" grep -q '^generation 1 (current)' <<<"$out"
check "... its kernel" grep -q 'kernel: linux-6' <<<"$out"
check "... its enabled units" grep -q 'systemd-networkd.service (multi-user.target)' <<<"$out"
out=$(kiln diff "$work/out/ref.raw" "$work/out/btrfs.raw" 2>"$work/diff.err"); rc=$?
check "kiln diff of the ext4 and btrfs images succeeds" test $rc -eq 0
check "... and lists no package the btrfs root does not explain" \
  test -z "$(grep -v '^btrfs-progs:\|^lib[a-z0-9.-]*:\|^[0-9]* added' <<<"$out")"
echo "$out" | tail -3
rm -f "$work/out/btrfs.raw"

# ---- gc of a cache (the concurrency part's, now warm): the locks under --roots are the
# roots, and a build running meanwhile keeps what it uses
objects() { ls "$cold/store" | grep -c '\.manifest$'; }
gkiln() { runas env KILN_CACHE_DIR="$cold" "$work/bin/kiln" "$@"; }
n0=$(objects)
out=$(gkiln gc --roots "$work/c1" 2>&1)
check "kiln gc keeps every object and .deb the lock under --roots pins" grep -q "deleted 0 store objects and 0 .debs" <<<"$out"
# --max-size: the least recently used go until the store, .debs and appliance fit (as du counts)
managed() { du -scB1 $(for d in store debs appliance; do [ -e "$cold/$d" ] && echo "$cold/$d"; done) | tail -1 | cut -f1; }
s0=$(managed); max=$((s0 / 2))
out=$(gkiln gc --max-size "$max" 2>&1); rc=$?
echo "$out" | tail -1
s1=$(managed)
check "kiln gc --max-size (half the cache) leaves the store, .debs and appliance at most that size" \
  test $rc -eq 0 -a "$s1" -le "$max" -a "$s1" -gt 0
check "... says how much it freed, least recently used first" grep -q "least recently used first, freed [0-9.]* MiB" <<<"$out"
check "... deleting store objects before the .debs the same build used" \
  test "$(objects)" -lt "$n0" -a "$(ls "$cold/debs" | grep -c '\.deb$')" -gt 0
runas touch "$work/before-rebuild"
gkiln build "$work/c1/minimal.nix" --output "$work/out/gc.raw" >"$work/gc-rebuild.log" 2>&1; rc=$?
check "a build after kiln gc --max-size succeeds, fetching and unpacking again what went" \
  sh -c "test $rc -eq 0 && grep -q '^unpacking' '$work/gc-rebuild.log'"
check "... and its image is bit-identical to the one built before" test "$(sha "$work/out/gc.raw" 2>/dev/null)" = "$par_sha"
check "... and it marked every object and .deb it used, reused or not, as used now" \
  test "$(objects)" -eq "$n0" -a -z "$(find "$cold/store" "$cold/debs" -maxdepth 1 \( -name '*.manifest' -o -name '*.deb' \) ! -newer "$work/before-rebuild" | head -1)"
rm -f "$work/out/gc.raw"
n0=$(objects)
runas mkdir -p "$work/noroots"
out=$(gkiln gc --roots "$work/noroots" --dry-run 2>&1)
check "kiln gc --dry-run with no lock under --roots says it would delete them all, and deletes nothing" \
  sh -c "grep -q 'would delete $n0 store objects' <<'EOF2'
$out
EOF2
test $n0 -gt 0 -a \"\$(ls '$cold/store' | grep -c '\\.manifest\$')\" = $n0"
gkiln build "$work/c1/minimal.nix" --output "$work/out/gc.raw" >"$work/gc-build.log" 2>&1 &
bpid=$!
for i in $(seq 100); do grep -q evaluating "$work/gc-build.log" 2>/dev/null && break; sleep 0.2; done
gkiln gc --roots "$work/noroots" >"$work/gc.log" 2>&1
wait "$bpid"; rc=$?
check "a build running while kiln gc empties its cache succeeds: gc waits for it" \
  sh -c "test $rc -eq 0 && test -s '$work/out/gc.raw' && grep -q 'waiting for the builds' '$work/gc.log'"
check "... and then deletes every object and .deb no lock pins" test "$(objects)" -eq 0 -a -z "$(ls "$cold/debs" | grep '\.deb$')"
rm -f "$work/out/gc.raw"

# ---- crashes: kill -9 at every stage
crash="$work/crash"
runas mkdir -p "$crash/p" "$crash/out" "$work/crash-cache"
runas cp "$repo/profiles/minimal.nix" "$crash/p/minimal.nix"
runas cp "$work/good.lock" "$crash/p/minimal.nix.lock"
ckiln() { runas env KILN_CACHE_DIR="$work/crash-cache" "$work/bin/kiln" "$@"; }
# Processes matching a pattern that still run (a killed child whose parent is gone stays a
# zombie until init reaps it, and here init does not: zombies are not running).
running() {
  local pid
  for pid in $(pgrep -f "$1" 2>/dev/null); do
    [ "$pid" = $$ ] && continue
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] || echo "$pid"
  done
}
kill_at() {  # STAGE-TEXT [build args...]: starts a build, kills it with SIGKILL when the stage begins
  local stage=$1; shift
  local log="$work/crash.log" pid deadline
  : >"$log"
  ckiln build "$crash/p/minimal.nix" --output "$crash/out/x.${FORMAT:-raw}" "$@" >"$log" 2>&1 &
  deadline=$(( $(date +%s) + 300 ))
  while ! grep -q "^$stage" "$log" && [ "$(date +%s)" -lt "$deadline" ] && kill -0 $! 2>/dev/null; do sleep 0.05; done
  pid=$(pgrep -f "^$work/bin/kiln build $crash" | head -1)
  if [ -z "$pid" ] || ! grep -q "^$stage" "$log"; then fail "kill -9 while $stage" "the stage never began: $(tail -3 "$log")"; wait; return; fi
  kill -9 "$pid"; wait 2>/dev/null
  sleep 0.5
  check "kill -9 while $stage: nothing in the output folder" test -z "$(ls -A "$crash/out")"
  check "kill -9 while $stage: no child process left" \
    test -z "$(running "$work/crash-cache|apt-get.*crash-cache|qemu-img.*$work")"
}
kill_at "updating package indexes"
kill_at "fetching"
kill_at "unpacking"
kill_at "building the system generation"
kill_at "writing ext4"
kill_at "assembling disk"
FORMAT=qcow2 kill_at "converting to qcow2" --format qcow2
check "the killed runs left temporary folders and files behind (to be swept)" \
  test -n "$(ls -A "$work/tmp" 2>/dev/null)$(find "$work/crash-cache" -maxdepth 2 -name '*.tmp-*' | head -1)"
ckiln build "$crash/p/minimal.nix" --output "$crash/out/x.raw" >"$work/crash-final.log" 2>&1
check "the next build succeeds and its image is bit-identical to a clean one" test "$(sha "$crash/out/x.raw" 2>/dev/null)" = "$ref"
check "... and it swept what the killed runs left" \
  test -z "$(ls -A "$work/tmp")$(find "$work/crash-cache" -maxdepth 2 \( -name '*.tmp-*' -o -name '.download-*' -o -name '*.old-*' \) | head -1)"
kiln build "$p" --output "$work/out/ref.qcow2" >/dev/null 2>&1
ckiln build "$crash/p/minimal.nix" --output "$crash/out/x.qcow2" >/dev/null 2>&1
check "... and so is the qcow2 after a kill during its conversion" test "$(sha "$crash/out/x.qcow2")" = "$(sha "$work/out/ref.qcow2")"

echo "store: $(since "$t_start") s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
