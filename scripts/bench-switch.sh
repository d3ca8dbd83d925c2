#!/usr/bin/env bash
# Benchmark: a change to a running machine by `kiln switch` (only the new store paths over
# SSH, then activation) against what an image builder without generations does (rebuild the
# whole image, write it to the disk, boot it), side by side in one run on one x86_64 GRUB
# machine under QEMU (TCG, as the matrix boots: nested KVM hangs on the CI machines). The
# change: minimal + SSH (the boot matrix's x86_64-grub-ext4 profile) → + nginx, hello, a
# changed unit, a new service and a specialisation.
# Prints a table; the README records its result.
# Usage: scripts/bench-switch.sh   (env KILN=/path/to/kiln to measure that binary)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
if [ -z "${KILN:-}" ]; then swift build -c release --product kiln >/dev/null; fi
kiln_bin=${KILN:-$PWD/.build/release/kiln}
work=$(mktemp -d /tmp/kiln-bench-switch.XXXXXX)
chmod 0755 "$work"
qemu_pid=
trap '[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null; rm -rf "$work"' EXIT
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }

# The matrix profiles, laid out as in the repository (they import ../../../profiles/minimal.nix).
m="$work/src/Tests/integration/matrix"
mkdir -p "$m" "$work/src/profiles" "$work/bin"
cp profiles/minimal.nix "$work/src/profiles/"
cp Tests/integration/matrix/{x86_64-grub-ext4,ssh,lifecycle-gen2}.nix "$m/"
cp "$kiln_bin" "$work/bin/kiln"
ssh-keygen -q -t ed25519 -N '' -C kiln-bench -f "$work/key"
cp "$work/key.pub" "$m/key.pub"
cat >"$m/plus-nginx.nix" <<'EOF'
{ ... }:
{
  imports = [ ./x86_64-grub-ext4.nix ./lifecycle-gen2.nix ];
  services.nginx.enable = true;
}
EOF
chmod -R a+rwX "$work"; chmod 0600 "$work/key"
# Builds run as an ordinary user (kiln-ci when this runs as root), as users build.
if [ "$(id -u)" -eq 0 ]; then
  id kiln-ci >/dev/null 2>&1 || useradd --create-home --shell /bin/bash kiln-ci
  chown kiln-ci "$work/key"
  runas() { runuser -u kiln-ci -- env HOME=/home/kiln-ci PATH="$PATH" "$@"; }
else
  runas() { "$@"; }
fi
export CI=1
cache=${KILN_CACHE_DIR:-$work/cache}
kiln() { runas env KILN_CACHE_DIR="$cache" KILN_SSH_OPTS="-i $work/key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR" "$work/bin/kiln" "$@"; }
port=2299; while ss -ltn | grep -q ":$port "; do port=$((port + 1)); done
ssh_to() { runas ssh -q -i "$work/key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 root@127.0.0.1 "$@"; }
wait_ssh() { local t0; t0=$(now); until ssh_to true 2>/dev/null; do sleep 1; [ "$(since "$t0" | cut -d. -f1)" -lt 600 ] || return 1; done; }
boot() {  # IMAGE: boots it (the disk itself, as a flashed machine), waits for SSH
  qemu-system-x86_64 -accel tcg -m 1024 -display none -serial null \
    -drive "file=$1,format=raw,if=virtio" -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:22" &
  qemu_pid=$!
  wait_ssh
}
stop() { ssh_to systemctl poweroff 2>/dev/null || true; sleep 3; kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true; qemu_pid=; }
mib() { echo "$(( $1 >> 20 ))"; }

echo "== generation 1: building and booting minimal + SSH (not timed)"
kiln build "$m/x86_64-grub-ext4.nix" --hardware qemu-x86_64 --output "$work/gen1.raw" >"$work/gen1.log" 2>&1
# The rebuild below must use the same packages: lock the new profile now (kiln build locks on
# first use), and warm the cache with its packages, so neither side counts fetching.
kiln build "$m/plus-nginx.nix" --hardware qemu-x86_64 --output "$work/warm.raw" >"$work/warm.log" 2>&1
rm -f "$work/warm.raw"
cp "$m/x86_64-grub-ext4.nix.lock" "$work/gen1.lock"
boot "$work/gen1.raw"

echo "== kiln switch to + nginx"
t0=$(now)
kiln switch "$m/plus-nginx.nix" --hardware qemu-x86_64 --target-host "root@127.0.0.1:$port" >"$work/switch.log" 2>&1
switch_total=$(since "$t0")
copy_line=$(grep -o 'copying [0-9]* of [0-9]* store paths ([0-9.]* MiB)' "$work/switch.log" | head -1)
copy_secs=$(grep -oE '[0-9]+ paths, [0-9.]+ MiB, [0-9.]+ s' "$work/switch.log" | head -1 | grep -oE '[0-9.]+ s$')
restarted=$(grep -E '^(stopping|starting|restarting|reloading) the following units' "$work/switch.log" | tr '\n' ';')
ssh_to systemctl is-active -q nginx.service || { echo "nginx is not running after the switch" >&2; cat "$work/switch.log" >&2; exit 1; }
stop

echo "== rebuild the whole image, then boot it (the way without generations)"
t0=$(now)
kiln build "$m/plus-nginx.nix" --hardware qemu-x86_64 --output "$work/gen2.raw" >"$work/rebuild.log" 2>&1
rebuild=$(since "$t0")
apparent=$(stat -c %s "$work/gen2.raw"); allocated=$(( $(stat -c %b "$work/gen2.raw") * 512 ))
# Writing it to a disk: a sparse-aware copy to a file stands for dd to the device.
t0=$(now); cp --sparse=always "$work/gen2.raw" "$work/disk.raw"; write=$(since "$t0")
t0=$(now); boot "$work/disk.raw"; reboot=$(since "$t0")
ssh_to systemctl is-active -q nginx.service || { echo "nginx is not running in the rebuilt image" >&2; exit 1; }
stop

printf '\n| minimal + SSH → + nginx, hello and a service | kiln switch | rebuild, write, boot the image |\n|---|---:|---:|\n'
printf '| bytes to the machine | %s | %s MiB image (%s MiB allocated) |\n' "${copy_line#copying }" "$(mib "$apparent")" "$(mib "$allocated")"
printf '| sending and checking on the machine | %s | writing the disk: %s s |\n' "${copy_secs:-?}" "$write"
printf '| build on the host | (in the total) | %s s |\n' "$rebuild"
printf '| to the machine running it | %s s in all, no reboot | %s s to SSH after the write |\n' "$switch_total" "$reboot"
printf '| total | %s s | %s s |\n' "$switch_total" "$(echo "$rebuild + $write + $reboot" | bc)"
echo "units: $restarted"
