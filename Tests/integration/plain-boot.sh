#!/usr/bin/env bash
# Images that work as machines: a profile with SSH and a key, built as an unprivileged user
# with no test instrumentation, booted the way a user boots it (a plain QEMU command line,
# user-mode networking, SSH forwarded from the host), and checked from the host over SSH:
# the NIC's driver loaded by udev, DHCP address, gateway and DNS server in resolv.conf, one
# SSH server, D-Bus and the daemons behind hostnamectl/timedatectl/loginctl, the base tools,
# no failed unit, and a machine-id kept across a reboot. x86_64 (SeaBIOS, GRUB) and
# aarch64 (UEFI, GRUB) side by side.
# Usage: Tests/integration/plain-boot.sh BUILD_DIR
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
builddir=$(cd "${1:?usage: plain-boot.sh BUILD_DIR}" && pwd)

passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }

work=$(mktemp -d /tmp/kiln-plain.XXXXXX)
chmod 0755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

if [ "$(id -u)" -eq 0 ]; then
  id kiln-ci >/dev/null 2>&1 || useradd --create-home --shell /bin/bash kiln-ci
  runas() { runuser -u kiln-ci -- env HOME=/home/kiln-ci PATH="$PATH" CI="${CI:-}" "$@"; }
  chown kiln-ci: "$work"
else
  runas() { "$@"; }
fi
cp "$builddir/kiln" "$work/kiln" && chmod a+rx "$work/kiln"
kiln() { runas env KILN_CACHE_DIR="${KILN_CACHE_DIR:-$work/cache}" "$work/kiln" "$@"; }

ssh-keygen -q -t ed25519 -N '' -C kiln-test -f "$work/key"
key=$(cat "$work/key.pub")
runas tee "$work/machine.nix" >/dev/null <<NIX
# What a user writes: SSH with a key for root, nothing else.
{ ... }:
{
  networking.hostName = "plain";
  services.openssh.enable = true;
  users.users.root.openssh.authorizedKeys.keys = [ "$key" ];
}
NIX
# One profile per architecture, so each keeps its own lock file.
for arch in x86_64 aarch64; do runas tee "$work/$arch.nix" >/dev/null <<<'{ imports = [ ./machine.nix ]; }'; done

# ---- build both, as the unprivileged user
declare -A img
for arch in x86_64 aarch64; do
  t0=$(now)
  if kiln build "$work/$arch.nix" --hardware "qemu-$arch" --output "$work/$arch.raw" >"$work/$arch.build.log" 2>&1; then
    pass "$arch: the SSH profile builds"
    echo "TIMING build $arch $(since "$t0") s"
    printf 'SIZE %s %s MiB apparent, %s MiB allocated\n' "$arch" \
      "$(( $(stat -c %s "$work/$arch.raw") >> 20 ))" "$(( $(stat -c %b "$work/$arch.raw") * 512 >> 20 ))"
    img[$arch]="$work/$arch.raw"
  else
    fail "$arch: the SSH profile builds" "$(tail -5 "$work/$arch.build.log")"
  fi
done

# ---- boot: a plain QEMU command line, as a user types it (TCG: nested KVM does not work here)
declare -A port started
boot() {
  local arch=$1 p=$2
  local cmd=(-accel tcg -m 1024 -display none -serial "file:$work/$arch.console.log"
             -drive "file=${img[$arch]},format=raw,if=virtio"
             -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$p-:22")
  case $arch in
    x86_64) qemu-system-x86_64 "${cmd[@]}" & ;;
    aarch64) qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd "${cmd[@]}" & ;;
  esac
  pids+=($!)
}
ssh_to() {  # ARCH COMMAND...: runs the command as root on the machine
  local arch=$1; shift
  ssh -q -i "$work/key" -p "${port[$arch]}" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=5 root@127.0.0.1 "$@"
}
wait_ssh() {  # ARCH LIMIT: seconds until SSH answers
  local arch=$1 limit=$2 t0
  t0=$(now)
  while (( $(printf '%.0f' "$(echo "$(now) - $t0" | bc)") < limit )); do
    if ssh_to "$arch" true 2>/dev/null; then since "$t0"; return 0; fi
    sleep 2
  done
  return 1
}

p=2222
for arch in "${!img[@]}"; do
  while ss -ltn | grep -q ":$p "; do p=$((p + 1)); done
  port[$arch]=$p; p=$((p + 1))
  boot "$arch" "${port[$arch]}"
  started[$arch]=$(now)
done

# The checks of one machine, in a subshell of its own: its PASS/FAIL lines go to a file.
machine_checks() {
  local arch=$1 t id1 id2 hk1 hk2
  passed=0; failed=0
  if t=$(wait_ssh "$arch" 420); then
    pass "$arch: SSH from the host answers with the key"
    echo "TIMING boot-to-ssh $arch $(since "${started[$arch]}") s (qemu start to the first SSH login)"
  else
    fail "$arch: SSH from the host answers with the key" "$(tail -30 "$work/$arch.console.log")"
    return
  fi
  # The boot is over when systemd says so (SSH may answer before the last units start).
  ssh_to "$arch" 'for i in $(seq 180); do s=$(systemctl is-system-running); case $s in starting|initializing) sleep 1;; *) break;; esac; done; echo $s' \
    >"$work/$arch.state" 2>&1
  check "$arch: systemctl is-system-running says running" grep -qx running "$work/$arch.state"
  check "$arch: no unit failed" test -z "$(ssh_to "$arch" 'systemctl list-units --failed --no-legend --plain')"
  check "$arch: udev loaded the NIC's driver by its modalias" ssh_to "$arch" 'grep -q "^virtio_net " /proc/modules'
  check "$arch: the kernel's module indexes are there" ssh_to "$arch" 'test -s /lib/modules/$(uname -r)/modules.alias.bin'
  check "$arch: DHCP gave the address" ssh_to "$arch" 'ip -4 addr | grep -q "inet 10.0.2.15/"'
  check "$arch: DHCP gave the default route" ssh_to "$arch" 'ip route | grep -q "^default via 10.0.2.2"'
  check "$arch: resolv.conf names the DHCP DNS server" ssh_to "$arch" 'grep -q "^nameserver 10.0.2.3" /etc/resolv.conf'
  check "$arch: one SSH server, Kiln's, on port 22" ssh_to "$arch" \
    'systemctl is-active -q sshd.service && ! systemctl is-active -q ssh.service ssh.socket && ! systemctl is-enabled -q ssh.service 2>/dev/null && ss -Hltnp "sport = :22" | grep -q sshd'
  check "$arch: D-Bus answers" ssh_to "$arch" 'busctl list --no-pager | grep -q org.freedesktop.DBus'
  check "$arch: hostnamectl (hostnamed)" ssh_to "$arch" 'hostnamectl hostname | grep -qx plain'
  check "$arch: timedatectl (timedated)" ssh_to "$arch" 'timedatectl show -p Timezone --value'
  check "$arch: localectl (localed)" ssh_to "$arch" 'localectl status'
  check "$arch: loginctl sees this SSH session (logind)" ssh_to "$arch" 'loginctl list-sessions --no-legend | grep -q root'
  check "$arch: the base tools are there (grep, ip, ps, less, curl, perl)" ssh_to "$arch" \
    'command -v grep && command -v ip && command -v ps && command -v less && command -v curl && command -v perl >/dev/null'
  check "$arch: /etc/machine-id was made on the first boot" ssh_to "$arch" 'test -s /etc/machine-id'
  if [ "$arch" = x86_64 ]; then
    id1=$(ssh_to "$arch" 'cat /etc/machine-id'); hk1=$(ssh_to "$arch" 'cat /etc/ssh/ssh_host_ed25519_key.pub')
    ssh_to "$arch" 'systemctl reboot' 2>/dev/null
    sleep 5
    if t=$(wait_ssh "$arch" 420); then
      pass "$arch: SSH answers again after a reboot"
      id2=$(ssh_to "$arch" 'cat /etc/machine-id'); hk2=$(ssh_to "$arch" 'cat /etc/ssh/ssh_host_ed25519_key.pub')
      check "$arch: the machine-id is kept across the reboot" test -n "$id1" -a "$id1" = "$id2"
      check "$arch: the SSH host key is kept across the reboot" test -n "$hk1" -a "$hk1" = "$hk2"
    else
      fail "$arch: SSH answers again after a reboot" "$(tail -30 "$work/$arch.console.log")"
    fi
  fi
  ssh_to "$arch" 'systemctl poweroff' 2>/dev/null
  echo "$passed passed, $failed failed"
}

checkers=()
for arch in "${!img[@]}"; do machine_checks "$arch" >"$work/$arch.results" 2>&1 & checkers+=($!); done
wait "${checkers[@]}"
for arch in "${!img[@]}"; do
  cat "$work/$arch.results"
  read -r p f < <(tail -1 "$work/$arch.results" | awk '/passed,/ {print $1, $3}')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
  echo "---- $arch console (tail)"; tail -5 "$work/$arch.console.log" 2>/dev/null; echo
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
