#!/usr/bin/env bash
# Integration suite: builds profiles/minimal.nix as an unprivileged user from a cold cache,
# checks the image with the real tools, rebuilds for reproducibility, boots it in QEMU and
# logs in on the serial console, and checks the error paths.
# Usage: Tests/integration/run.sh BUILD_DIR   (the folder holding the built `kiln`)
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
builddir=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)

passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
timing() { echo "TIMING $1 $2"; echo "$1 $2" >> "$work/timings"; }

work=$(mktemp -d /tmp/kiln-it.XXXXXX)
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT

# Kiln as a user has it: installed by scripts/install.sh under a prefix of its own, one file
# that carries its modules and machine descriptions. Every kiln command below runs from an
# empty folder, on profiles under /tmp, and never names a file of the checkout.
# (A build folder from before kiln embedded its modules may still hold their bundle: delete
# it, so nothing could find them there.)
rm -rf "$builddir"/*.resources
"$repo/scripts/install.sh" "$work/prefix" >"$work/install.log" 2>&1; rc=$?
check "scripts/install.sh PREFIX installs kiln" test $rc -eq 0 -a -x "$work/prefix/bin/kiln"
check "the bash completion loads and completes kiln" \
  bash -c "source '$work/prefix/share/bash-completion/completions/kiln' && complete -p kiln"
check "zsh and fish completions are installed" \
  test -s "$work/prefix/share/zsh/site-functions/_kiln" -a -s "$work/prefix/share/fish/vendor_completions.d/kiln.fish"
mkdir -p "$work/bin" "$work/cwd"
cp "$work/prefix/bin/kiln" "$work/bin/kiln"
chmod -R a+rX "$work/bin" "$work/prefix"
chmod a+rwx "$work/cwd"
cd "$work/cwd"

# Every build runs as an ordinary user, with its own cold cache.
if [ "$(id -u)" -eq 0 ]; then
  id kiln-ci >/dev/null 2>&1 || useradd --create-home --shell /bin/bash kiln-ci
  runas() { runuser -u kiln-ci -- env HOME=/home/kiln-ci PATH="$PATH" CI="${CI:-}" "$@"; }
  chown kiln-ci: "$work"
else
  runas() { "$@"; }
fi
# A cold cache: this suite's own, or the (still empty) one scripts/test.sh shares.
export KILN_CACHE_DIR="${KILN_CACHE_DIR:-$work/cache}"
kiln() { runas env KILN_CACHE_DIR="$KILN_CACHE_DIR" "$work/bin/kiln" "$@"; }
runas mkdir -p "$work/p" "$work/out"
runas cp "$repo/profiles/minimal.nix" "$work/p/minimal.nix"
hw=""   # the default: the shipped qemu-x86_64 description

# ---- the other commands, on a profile in /tmp, with the shipped machine descriptions
out=$(kiln eval --json -A config.networking.hostName "$work/p/minimal.nix" 2>&1)
check "kiln eval -A config.networking.hostName (a profile in /tmp, from an empty folder)" test "$out" = '"minimal"'
out=$(kiln eval --json -A config.nixpkgs.hostPlatform --hardware qemu-aarch64 "$work/p/minimal.nix" 2>&1)
check "--hardware takes a shipped description's name" test "$out" = '"aarch64-linux"'
out=$(kiln config "$work/p/minimal.nix" 2>&1)
check "kiln config prints the plan" grep -q '"architecture" : "x86_64"' <<<"$out"
out=$(kiln options 2>&1)
check "kiln options lists the shipped options with their files" grep -q "declared in: <kiln/modules/system/boot/loader.nix>" <<<"$out"
out=$(kiln build "$work/p/minimal.nix" --hardware qemu-riscv --output "$work/out/x.raw" 2>&1); rc=$?
check "an unknown machine name is refused, naming the shipped ones" \
  test $rc -ne 0 -a -n "$(grep "qemu-aarch64, qemu-x86_64" <<<"$out")"
check "no message names a path of the build machine" test -z "$(grep -F "$repo" <<<"$out")"

# ---- errors: one clear message, non-zero exit, no output left behind
runas tee "$work/p/syntax.nix" >/dev/null <<'NIX'
{ pkgs, ... }:
{
  networking.hostName = "bad" ;;
}
NIX
out=$(kiln build "$work/p/syntax.nix" $hw --output "$work/out/syntax.raw" 2>&1); rc=$?
check "syntax error exits non-zero" test $rc -ne 0
check "syntax error names file:line:column" grep -q "syntax.nix:3:" <<<"$out"
check "syntax error shows the line" grep -q 'networking.hostName = "bad" ;;' <<<"$out"
check "syntax error leaves no output" test ! -e "$work/out/syntax.raw"
echo "$out" | head -12

out=$(kiln build "$work/p/minimal.nix" $hw --output "/proc/kiln/minimal.raw" 2>&1); rc=$?
check "output in a missing directory exits non-zero" test $rc -ne 0
check "output in a missing directory names the path" grep -q "/proc/kiln/minimal.raw" <<<"$out"
echo "$out"
runas mkdir -p "$work/readonly" && runas chmod 0555 "$work/readonly"
out=$(kiln build "$work/p/minimal.nix" $hw --output "$work/readonly/minimal.raw" 2>&1); rc=$?
check "unwritable output exits non-zero" test $rc -ne 0
check "unwritable output says it is not writable" grep -q "readonly.* is not writable" <<<"$out"
check "unwritable output leaves nothing behind" test -z "$(ls -A "$work/readonly")"
echo "$out"

# ---- cold build, unprivileged
t0=$(date +%s.%N)
kiln build "$work/p/minimal.nix" $hw --output "$work/out/a.raw"; rc=$?
t1=$(date +%s.%N)
check "cold build as $(runas id -un) succeeds" test $rc -eq 0
timing cold-build "$(echo "$t1 - $t0" | bc)"
check "a lock file is written beside the profile" test -s "$work/p/minimal.nix.lock"
check "no temporary files left beside the output" test "$(ls -A "$work/out")" = "a.raw"

img="$work/out/a.raw"
if [ -f "$img" ]; then
  check "sgdisk -v accepts the partition table" sh -c "sgdisk -v '$img' | grep -q 'No problems found'"
  part() { sgdisk -i "$1" "$img" | awk -v w="$2" '$0 ~ w {print $3}'; }
  start3=$(part 3 "First sector"); end3=$(part 3 "Last sector")
  dd if="$img" of="$work/root.ext4" bs=512 skip="$start3" count=$((end3 - start3 + 1)) conv=sparse status=none
  check "e2fsck -fn finds the root filesystem clean" e2fsck -fn "$work/root.ext4"
  utildir=$(debugfs -R "ls -p /nix/store" "$work/root.ext4" 2>/dev/null | awk -F/ '$6 ~ /-util-linux-[0-9]/ {print $6}' | head -1)
  su_stat=$(debugfs -R "stat /nix/store/$utildir/bin/su" "$work/root.ext4" 2>/dev/null)
  check "setuid su is mode 04755" grep -q "Mode:  04755" <<<"$su_stat"
  check "setuid su is owned 0:0" grep -Eq "User: +0 +Group: +0 " <<<"$su_stat"
  start2=$(part 2 "First sector"); end2=$(part 2 "Last sector")
  dd if="$img" of="$work/esp.vfat" bs=512 skip="$start2" count=$((end2 - start2 + 1)) status=none
  check "fsck.vfat -n finds the ESP clean" fsck.vfat -n "$work/esp.vfat"
  rm -f "$work/root.ext4" "$work/esp.vfat"
  echo "image size: apparent $(du -h --apparent-size "$img" | cut -f1), used $(du -h "$img" | cut -f1)"
  echo "image-apparent $(du -b --apparent-size "$img" | cut -f1)" >> "$work/timings"
  echo "image-used $(du -B1 "$img" | cut -f1)" >> "$work/timings"
fi

# ---- reproducible: the same lock file gives the same bytes (cached .debs this time)
t0=$(date +%s.%N)
kiln build "$work/p/minimal.nix" $hw --output "$work/out/b.raw"; rc=$?
t1=$(date +%s.%N)
timing cached-build "$(echo "$t1 - $t0" | bc)"
check "second build succeeds" test $rc -eq 0
a=$(sha256sum < "$work/out/a.raw"); b=$(sha256sum < "$work/out/b.raw")
check "two builds from one lock file are bit-identical" test "$a" = "$b"
rm -f "$work/out/b.raw"

# ---- --disk-size: the disk has that size, the root partition and filesystem take the rest
kiln build "$work/p/minimal.nix" $hw --disk-size 2G --output "$work/out/d.raw" >"$work/disk-size.log" 2>&1; rc=$?
check "kiln build --disk-size 2G writes a disk of exactly 2 GiB" test $rc -eq 0 -a "$(stat -c %s "$work/out/d.raw" 2>/dev/null)" = $((2 << 30))
if [ $rc -eq 0 ]; then
  check "--disk-size: sgdisk -v accepts the partition table" sh -c "sgdisk -v '$work/out/d.raw' | grep -q 'No problems found'"
  dfirst=$(sgdisk -i 3 "$work/out/d.raw" | awk '/First sector/ {print $3}'); dlast=$(sgdisk -i 3 "$work/out/d.raw" | awk '/Last sector/ {print $3}')
  dd if="$work/out/d.raw" of="$work/root-d.ext4" bs=512 skip="$dfirst" count=$((dlast - dfirst + 1)) conv=sparse status=none
  check "--disk-size: the root filesystem fills its partition, and e2fsck -fn finds it clean" \
    sh -c "e2fsck -fn '$work/root-d.ext4' >/dev/null 2>&1 && [ \$(dumpe2fs -h '$work/root-d.ext4' 2>/dev/null | awk '/^Block count/ {print \$3}') -eq $(( (dlast - dfirst + 1) / 8 )) ]"
  check "--disk-size: the image stays sparse (under 600 MiB allocated)" test "$(du -B1M "$work/out/d.raw" | cut -f1)" -lt 600
  rm -f "$work/root-d.ext4"
fi
rm -f "$work/out/d.raw"
out=$(kiln build "$work/p/minimal.nix" $hw --disk-size 300M --output "$work/out/small.raw" 2>&1); rc=$?
check "--disk-size too small for the system is refused and writes nothing" test $rc -ne 0 -a ! -e "$work/out/small.raw"
check "--disk-size too small says what the root filesystem needs" grep -q 'disk-size is too small: the root filesystem needs' <<<"$out"

# ---- kiln resize: a raw image grown offline, as the build user (libparted, resize2fs)
runas cp --sparse=always "$work/out/a.raw" "$work/out/r.raw"
rguid=$(sgdisk -i 3 "$work/out/r.raw" | awk '/unique GUID/ {print $4}'); dguid=$(sgdisk -p "$work/out/r.raw" | awk '/Disk identifier/ {print $4}')
out=$(kiln resize "$work/out/r.raw" 3G 2>&1); rc=$?
check "kiln resize IMAGE 3G grows the file to 3 GiB, still sparse" test $rc -eq 0 -a "$(stat -c %s "$work/out/r.raw")" = $((3 << 30)) -a "$(du -B1M "$work/out/r.raw" | cut -f1)" -lt 600
check "kiln resize: sgdisk -v accepts the table (backup GPT at the new end)" sh -c "sgdisk -v '$work/out/r.raw' | grep -q 'No problems found'"
check "kiln resize keeps the disk's and the root partition's GUIDs" \
  test "$(sgdisk -i 3 "$work/out/r.raw" | awk '/unique GUID/ {print $4}')" = "$rguid" -a "$(sgdisk -p "$work/out/r.raw" | awk '/Disk identifier/ {print $4}')" = "$dguid"
rfirst=$(sgdisk -i 3 "$work/out/r.raw" | awk '/First sector/ {print $3}'); rlast=$(sgdisk -i 3 "$work/out/r.raw" | awk '/Last sector/ {print $3}')
dd if="$work/out/r.raw" of="$work/root-r.ext4" bs=512 skip="$rfirst" count=$((rlast - rfirst + 1)) conv=sparse status=none
check "kiln resize: the root partition reaches the last MiB and ext4 fills it, e2fsck -fn clean" \
  sh -c "test $rlast -gt $(( (3 << 21) - 4096 )) && e2fsck -fn '$work/root-r.ext4' >/dev/null 2>&1 && [ \$(dumpe2fs -h '$work/root-r.ext4' 2>/dev/null | awk '/^Block count/ {print \$3}') -eq $(( (rlast - rfirst + 1) / 8 )) ]"
check "kiln verify passes on the resized image" kiln verify "$work/out/r.raw"
rm -f "$work/root-r.ext4"
out=$(kiln resize "$work/out/r.raw" 1G 2>&1); rc=$?
check "kiln resize refuses to shrink, and says so" sh -c "test $rc -ne 0 && test $(stat -c %s "$work/out/r.raw") = $((3 << 30))"
check "kiln resize's refusal says it only grows" grep -q 'only grows an image' <<<"$out"
rm -f "$work/out/r.raw"

# ---- rebuild after changing the host name
runas sed -i 's/hostName = "minimal"/hostName = "renamed"/' "$work/p/minimal.nix"
t0=$(date +%s.%N)
kiln build "$work/p/minimal.nix" $hw --output "$work/out/c.raw"; rc=$?
t1=$(date +%s.%N)
timing rebuild-hostname "$(echo "$t1 - $t0" | bc)"
check "rebuild after a host name change succeeds" test $rc -eq 0
c=$(sha256sum < "$work/out/c.raw" 2>/dev/null)
check "a changed profile changes the image" test "$a" != "$c"
rm -f "$work/out/c.raw"
runas sed -i 's/hostName = "renamed"/hostName = "minimal"/' "$work/p/minimal.nix"

# ---- unknown package: names the package and the option that asked for it
runas tee "$work/p/unknown.nix" >/dev/null <<'NIX'
{ pkgs, ... }:
{
  networking.hostName = "unknown";
  environment.systemPackages = [ pkgs.bash pkgs.no-such-package-kiln ];
}
NIX
out=$(kiln build "$work/p/unknown.nix" $hw --output "$work/out/unknown.raw" 2>&1); rc=$?
check "unknown package exits non-zero" test $rc -ne 0
check "unknown package names the package" grep -q "no-such-package-kiln" <<<"$out"
check "unknown package names the option and file" grep -q "environment.systemPackages in .*unknown.nix" <<<"$out"
check "unknown package leaves no output" test ! -e "$work/out/unknown.raw"
echo "$out"

# ---- a stale lock: a pinned .deb that is no longer in the archive (as after a Debian point
# release) fails the build with a hint; `kiln lock --if-stale` moves only then, once.
runas cp "$work/p/minimal.nix" "$work/p/stale.nix"
zeros=$(printf '0%.0s' $(seq 64))
sed -e "s/\"sha256\" : \"[0-9a-f]*\"/\"sha256\" : \"$zeros\"/" -e 's/"version" : "[^"]*"/"version" : "0.0-kiln-gone"/' \
  "$work/p/minimal.nix.lock" | runas tee "$work/p/stale.nix.lock" >/dev/null
out=$(kiln build "$work/p/stale.nix" $hw --output "$work/out/stale.raw" 2>&1); rc=$?
check "a lock pinning vanished versions fails the build" test $rc -ne 0
check "the failure says to run kiln lock --if-stale" grep -q "kiln lock --if-stale" <<<"$out"
check "the failed build leaves no output" test ! -e "$work/out/stale.raw"
echo "$out" | tail -3
out=$(kiln lock --if-stale "$work/p/stale.nix" 2>&1); rc=$?
check "kiln lock --if-stale succeeds on a stale lock" test $rc -eq 0
check "kiln lock --if-stale says which pins left the archive" grep -q "left the archive" <<<"$out"
check "the re-resolved lock equals a fresh one" cmp "$work/p/stale.nix.lock" "$work/p/minimal.nix.lock"
out=$(kiln lock --if-stale "$work/p/stale.nix" 2>&1)
check "kiln lock --if-stale leaves a current lock alone" test -z "$(grep 'resolving again' <<<"$out")"

# ---- qcow2
kiln build "$work/p/minimal.nix" $hw --format qcow2 --output "$work/out/a.qcow2"; rc=$?
check "qcow2 build succeeds" test $rc -eq 0
check "qemu-img check accepts the qcow2 image" qemu-img check -q "$work/out/a.qcow2"

# ---- reading the image back: kiln verify, inspect, diff (an ext4 root: Kiln's own reader)
t0=$(date +%s.%N)
out=$(kiln verify "$img" 2>&1); rc=$?
timing verify-ext4 "$(echo "$(date +%s.%N) - $t0" | bc)"
check "kiln verify: the image matches its registration" \
  sh -c "test $rc -eq 0 && grep -q 'store paths, [0-9]* files, .* match the image' <<'EOF2'
$out
EOF2"
check "kiln verify lists the setuid files (su, root's, 4755)" grep -q "^setuid/setgid: 4755 0:0 /nix/store/.*-util-linux-.*/bin/su$" <<<"$out"
out=$(kiln verify "$work/out/a.qcow2" 2>&1); rc=$?
check "kiln verify reads a qcow2 image too" test $rc -eq 0
rm -f "$work/out/a.qcow2"
out=$(kiln inspect "$img" 2>&1); rc=$?
check "kiln inspect: generation 1 is current" grep -q "^generation 1 (current): /nix/store/.*-kiln-system-minimal$" <<<"$out"
check "kiln inspect: the kernel" grep -q "kernel: linux-6\.[0-9.]*-[0-9]*-amd64" <<<"$out"
check "kiln inspect: packages with versions" grep -Eq "^    bash [0-9]" <<<"$out"
check "kiln inspect: enabled units" grep -q "systemd-networkd.service (multi-user.target)" <<<"$out"
out=$(kiln inspect --json "$img" 2>&1)
check "kiln inspect --json" sh -c "python3 -c 'import json,sys; d=json.load(sys.stdin); g=d[\"generations\"][0]; assert g[\"current\"] and any(p[\"name\"]==\"bash\" for p in g[\"packages\"])' <<'EOF2'
$out
EOF2"
# A damaged copy: one byte of bash's content flipped, ls made setuid (debugfs on the root
# filesystem, written back into the copy).
runas cp --sparse=always "$img" "$work/out/bad.raw"
start3=$(sgdisk -i 3 "$img" | awk '/First sector/ {print $3}'); end3=$(sgdisk -i 3 "$img" | awk '/Last sector/ {print $3}')
runas dd if="$img" of="$work/out/root.ext4" bs=512 skip="$start3" count=$((end3 - start3 + 1)) conv=sparse status=none
bashdir=$(debugfs -R "ls -p /nix/store" "$work/out/root.ext4" 2>/dev/null | awk -F/ '$6 ~ /-bash-[0-9]/ {print $6}' | head -1)
cudir=$(debugfs -R "ls -p /nix/store" "$work/out/root.ext4" 2>/dev/null | awk -F/ '$6 ~ /-coreutils-[0-9]/ {print $6}' | head -1)
runas debugfs -w -R "sif /nix/store/$cudir/bin/ls mode 0104755" "$work/out/root.ext4" >/dev/null 2>&1
block=$(debugfs -R "bmap /nix/store/$bashdir/bin/bash 10" "$work/out/root.ext4" 2>/dev/null)
runas dd if="$work/out/root.ext4" of="$work/out/bad.raw" bs=512 seek="$start3" conv=notrunc,sparse status=none
printf '\x5a' | runas dd of="$work/out/bad.raw" bs=1 seek=$((start3 * 512 + block * 4096 + 7)) conv=notrunc status=none
rm -f "$work/out/root.ext4"
out=$(kiln verify "$work/out/bad.raw" 2>&1); rc=$?
check "kiln verify: a damaged image fails (exit 1)" test $rc -eq 1
check "... naming the file whose content changed" grep -q "^MISMATCH /nix/store/$bashdir/bin/bash: its SHA-256 is" <<<"$out"
check "... and the file made setuid" grep -q "^MISMATCH /nix/store/$cudir/bin/ls has mode 4755, its manifest says 755" <<<"$out"
rm -f "$work/out/bad.raw"
# diff against a profile with one more package and another host name.
runas sed -e 's/networking.hostName = "minimal"/networking.hostName = "minimal-plus"/' \
  -e 's/environment.systemPackages = with pkgs; \[/environment.systemPackages = with pkgs; [ hello/' \
  "$work/p/minimal.nix" | runas tee "$work/p/plus.nix" >/dev/null
out=$(kiln diff "$img" "$work/p/plus.nix" 2>&1); rc=$?
check "kiln diff IMAGE PROFILE: the package the profile adds, with its version and size" \
  grep -Eq "^hello: ∅ → [0-9][^,]*, \+[0-9.]+ KiB$" <<<"$out"
check "... and nothing else changed" grep -q "^1 added, 0 removed, 0 changed" <<<"$out"
out=$(kiln diff "$img@1" "$img" 2>&1); rc=$?
check "kiln diff IMAGE@1 IMAGE: no change" grep -q "^0 added, 0 removed, 0 changed" <<<"$out"

# ---- boot: systemd reaches multi-user.target; root logs in with the password on the console
t0=$(date +%s.%N)
out=$(runas env KILN_CACHE_DIR="$KILN_CACHE_DIR" KILN_CONSOLE_LOG="$work/out/console.log" \
      "$work/bin/kiln" run "$img" --login root:kiln --timeout 300 \
      --command 'systemctl is-active multi-user.target; hostname; echo $((6 * 7))' 2>&1); rc=$?
t1=$(date +%s.%N)
echo "$out"
check "boot and console login succeed" test $rc -eq 0
check "multi-user.target is active" grep -qx $'active\r\\?' <<<"$out"
check "the host name is the profile's" grep -q "^minimal" <<<"$out"
check "a command runs after login" grep -q "^42" <<<"$out"
check "systemd reached multi-user.target on the console" grep -q "Reached target.*Multi-User System" "$work/out/console.log"
check "the login prompt names the host" grep -q "minimal login:" "$work/out/console.log"
grep -o "login prompt after [0-9.]* s" <<<"$out" | awk '{print "TIMING boot-to-login", $4}'
timing boot-and-login-total "$(echo "$t1 - $t0" | bc)"

# ---- nixpkgs names: every Debian package nixpkgs-names.nix maps a nixpkgs name to is in the
# host's APT indexes (the archive the builds resolve from), and a profile written with
# nixpkgs names asks for those Debian packages.
names=$(kiln eval --strict --json -E 'builtins.attrValues (import /__kiln__/modules/nixpkgs-names.nix)' | tr -d '[]"' | tr ',' '\n' | sort -u)
# One apt-cache call for all of them (one per name took a minute): the names it has no record for.
missing=$(comm -13 <(apt-cache show --no-all-versions $names 2>/dev/null | sed -n 's/^Package: //p' | sort -u) <(printf '%s\n' $names | sort -u) | tr '\n' ' ')
check "every Debian package nixpkgs-names.nix names is in the APT indexes ($(wc -w <<<"$names") names${missing:+; missing: $missing})" test -z "$missing"
cat >"$work/p/nixpkgs-names.nix" <<'EOF2'
{ pkgs, ... }: { environment.systemPackages = with pkgs; [ gnumake fd dig python3Packages.requests perlPackages.JSON nodePackages.ws phpExtensions.pdo_mysql phpExtensions.intl ]; }
EOF2
# The plan's package list (as JSON a package is its outPath, /run/current-system/sw).
out=$(kiln config "$work/p/nixpkgs-names.nix" 2>&1)
check "nixpkgs names mean Debian's packages (gnumake: make, fd: fd-find, dig: bind9-dnsutils, python3Packages.requests: python3-requests, perlPackages.JSON: libjson-perl, nodePackages.ws: node-ws, phpExtensions.pdo_mysql: php-mysql, phpExtensions.intl: php-intl)" \
  python3 -c 'import json, sys; sys.exit(not {"make", "fd-find", "bind9-dnsutils", "python3-requests", "libjson-perl", "node-ws", "php-mysql", "php-intl"} <= {p["name"] for p in json.loads(sys.argv[1])["packages"]})' "$out"

echo "---- timings"
cat "$work/timings"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
