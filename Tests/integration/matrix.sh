#!/usr/bin/env bash
# The boot matrix: every boot loader x firmware x architecture x root filesystem Kiln
# supports is built as an unprivileged user from the profiles in Tests/integration/matrix/
# (minimal.nix plus SSH with a key made here; each locked on its first build: Debian's
# archive keeps only the newest version of a package, so committed locks would go stale),
# checked with the real tools (sgdisk -v, e2fsck -fn / btrfs check, fsck.vfat -n), rebuilt
# to check reproducibility, and booted the way a user boots an image: a plain QEMU command
# line (TCG), user-mode networking, SSH forwarded from the host, two machines at a time. Each
# machine is then checked from the host over SSH as a machine, not a test node (no test
# instrumentation): systemd running with no failed unit, the NIC's driver loaded by udev,
# the DHCP address, route and DNS server in resolv.conf, one SSH server, D-Bus and the
# daemons behind hostnamectl/timedatectl/localectl/loginctl, the base tools, a machine-id
# (kept across reboots, with the SSH host key). Three machines (x86_64 GRUB BIOS, aarch64
# systemd-boot, x86_64 systemd-boot) then live on as lifecycle.sh says: kiln switch, reboots
# into each generation, rollback, trial boots that fall back (GRUB and systemd-boot), gc, a
# copy killed half-way, a user who is not root. One image is also written
# in every output format and checked with qemu-img (and bsdtar, i.e. libarchive, for the
# GCE tarball).
# Usage: Tests/integration/matrix.sh BUILD_DIR   (the folder holding the built `kiln`)
# Env: KILN_CACHE_DIR to share a warm cache (default: a cold one under the work folder);
#      MATRIX_ONLY=regex to run only matching combinations.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
builddir=$(cd "${1:?usage: matrix.sh BUILD_DIR}" && pwd)

passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name"; fi; }
timing() { printf 'TIMING %-34s %s\n' "$1" "$2"; }
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }

start=$(now)
work=$(mktemp -d /tmp/kiln-matrix.XXXXXX)
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT

# Kiln (one file: it carries the machine descriptions), the profiles and their locks, laid
# out as in the repository (the matrix profiles import ../../../profiles/minimal.nix),
# readable by the build user.
mkdir -p "$work/bin" "$work/src/profiles" "$work/src/Tests/integration/matrix" "$work/out"
cp "$builddir/kiln" "$work/bin/"
cp "$repo"/profiles/minimal.nix "$work/src/profiles/"
cp "$repo"/Tests/integration/matrix/*.nix "$work/src/Tests/integration/matrix/"
ssh-keygen -q -t ed25519 -N '' -C kiln-matrix -f "$work/key"
cp "$work/key.pub" "$work/src/Tests/integration/matrix/key.pub"
chmod -R a+rwX "$work"
chmod 0600 "$work/key"
# The same key for kiln switch, which runs as the build user.
cp "$work/key" "$work/key.ci"

if [ "$(id -u)" -eq 0 ]; then
  id kiln-ci >/dev/null 2>&1 || useradd --create-home --shell /bin/bash kiln-ci
  chown kiln-ci "$work/key.ci"
  runas() { runuser -u kiln-ci -- env HOME=/home/kiln-ci PATH="$PATH" "$@"; }
else
  runas() { "$@"; }
fi
cache=${KILN_CACHE_DIR:-$work/cache}
kiln() { runas env KILN_CACHE_DIR="$cache" "$work/bin/kiln" "$@"; }

# name | profile | hardware | firmware for the boot
# (built and booted in this order: the two machines that live on through lifecycle.sh first)
combos=(
  "x86_64-grub-bios|x86_64-grub-ext4|x86_64|bios"
  "x86_64-grub-uefi|x86_64-grub-ext4|x86_64|uefi"
  "aarch64-systemd-boot-ext4|aarch64-systemd-boot-ext4|aarch64|uefi"
  "x86_64-systemd-boot-ext4|x86_64-systemd-boot-ext4|x86_64|uefi"
  "x86_64-grub-btrfs-bios|x86_64-grub-btrfs|x86_64|bios"
  "aarch64-grub-ext4|aarch64-grub-ext4|aarch64|uefi"
  "aarch64-systemd-boot-btrfs|aarch64-systemd-boot-btrfs|aarch64|uefi"
)
# Rebuilt from the same lock and compared with the first build: one of each architecture,
# boot loader and root filesystem (the other three repeat those: the same writers, the
# same code paths), which saves the suite about half a minute.
reproduce=" x86_64-grub-ext4 aarch64-systemd-boot-ext4 x86_64-grub-btrfs "
if [ -n "${MATRIX_ONLY:-}" ]; then
  mapfile -t combos < <(printf '%s\n' "${combos[@]}" | grep -E "$MATRIX_ONLY")
fi

# Partition N of IMAGE, copied out to FILE (sparse).
extract() {
  local img=$1 n=$2 file=$3 first last
  first=$(sgdisk -i "$n" "$img" | awk '/First sector/ {print $3}')
  last=$(sgdisk -i "$n" "$img" | awk '/Last sector/ {print $3}')
  dd if="$img" of="$file" bs=512 skip="$first" count=$((last - first + 1)) conv=sparse status=none
}

# What a btrfs root holds, without the parts mkfs.btrfs cannot make reproducible: every
# file's content hash and size (btrfs restore, unprivileged), and the sorted
# mode/uid/gid/size of every inode (dump-tree).
btrfs_listing() {
  local fs=$1 dir
  dir=$(mktemp -d "$work/restore.XXXXXX")
  btrfs restore -S -x "$fs" "$dir" >/dev/null 2>&1
  (cd "$dir" && find . -printf '%y %p %s %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  btrfs inspect-internal dump-tree -t fs "$fs" 2>/dev/null \
    | awk '/INODE_ITEM/ {getline a; getline b; print a, b}' \
    | grep -oE 'size [0-9]+|mode [0-7]+ links [0-9]+ uid [0-9]+ gid [0-9]+' | paste - - | sort | uniq -c
  rm -rf "$dir"
}

source "$repo/Tests/integration/matrix/lifecycle.sh"

# ---- booting: a plain QEMU command line, as a user types it
source "$repo/Tests/integration/machine.sh"
# The checks, run on the machine in one SSH session: "ok NAME" or "no NAME" per line.
remote_checks="$remote_t"'
for i in $(seq 180); do s=$(systemctl is-system-running); case $s in starting|initializing) sleep 1;; *) break;; esac; done
t "systemd is running (is-system-running: $s)" "test $s = running"
t "no unit failed" "test -z \"\$(systemctl list-units --failed --no-legend --plain)\""
echo "arch $(uname -m)"; test -d /sys/firmware/efi && echo "firmware uefi" || echo "firmware bios"; echo "rootfs $(findmnt -no FSTYPE /)"
t "udev loaded the NIC driver by its modalias" "grep -q \"^virtio_net \" /proc/modules"
t "the kernel module indexes are there" "test -s /lib/modules/\$(uname -r)/modules.alias.bin"
t "DHCP gave the address" "ip -4 addr | grep -q \"inet 10.0.2.15/\""
t "DHCP gave the default route" "ip route | grep -q \"^default via 10.0.2.2\""
t "resolv.conf names the DHCP DNS server" "for i in \$(seq 30); do grep -q \"^nameserver 10.0.2.3\" /etc/resolv.conf && break; sleep 1; done; grep -q \"^nameserver 10.0.2.3\" /etc/resolv.conf"
t "one SSH server, Kiln sshd, on port 22" "systemctl is-active -q sshd.service && ! systemctl is-active -q ssh.service ssh.socket && ! systemctl is-enabled -q ssh.service && ss -Hltnp \"sport = :22\" | grep -q sshd"
t "D-Bus answers" "busctl list --no-pager | grep -q org.freedesktop.DBus"
t "hostnamectl (hostnamed)" "hostnamectl hostname | grep -qx minimal"
t "timedatectl (timedated)" "timedatectl show -p Timezone --value"
t "localectl (localed)" "localectl status"
t "loginctl sees this SSH session (logind)" "loginctl list-sessions --no-legend | grep -q root"
t "the base tools (grep ip ps less curl perl)" "command -v grep && command -v ip && command -v ps && command -v less && command -v curl && command -v perl"
t "/etc/machine-id was made on the first boot" "test -s /etc/machine-id"
'
# On a machine booted from a disk 2 GiB bigger than its image: the root partition reaches
# the disk's end, the filesystem fills it, and a second boot changes nothing.
grown_checks() {  # PORT ROOT_PARTITION_BYTES NAME
  local port=$1 before=$2 size table
  local rd=$remote_t
  size=$(ssh_to "$port" df -B1 --output=size / | tail -n 1 | tr -d ' ')
  ssh_to "$port" "$rd; t 'boot.growPartition: the root partition grew to the disk end (systemd-repart)' 'test \$(( \$(cat /sys/block/vda/size) - \$(cat /sys/block/vda/vda3/start) - \$(cat /sys/block/vda/vda3/size) )) -lt 4096'"
  if [ -n "$size" ] && [ "$size" -gt $(( before + (3 << 29) )) ]; then echo "ok autoResize: the root filesystem grew by more than 1.5 GiB ($(( before >> 20 )) MiB partition in the image, $(( size >> 20 )) MiB filesystem now)"
  else echo "no autoResize: the root filesystem grew by more than 1.5 GiB (image partition $before bytes, filesystem now ${size:-?})"; fi
  if [ "$3" = x86_64-grub-uefi ]; then
    table=$(ssh_to "$port" sfdisk -d /dev/vda)
    local why="" i
    # The second boot is a cold one, a new QEMU on the same disk, as a cloud VM is stopped
    # and started. A warm reset is what hung: twice in CI, OVMF under TCG showed nothing
    # after this machine's reboot, even after QEMU's system_reset (edk2 issue 12441 reports
    # OVMF hanging on warm resets only). Reboots are still checked by lifecycle.sh.
    ssh_to "$port" systemctl poweroff --no-block
    for i in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    mv "$console" "$console.first"
    launch
    if ! wait_ssh "$port" 420; then why="no SSH from the second boot within 420 s"
    else
      [ "$(ssh_to "$port" sfdisk -d /dev/vda)" = "$table" ] || why="the partition table changed; "
      local size2; size2=$(ssh_to "$port" df -B1 --output=size / | tail -n 1 | tr -d ' ')
      [ "$size2" = "$size" ] || why+="the filesystem is $size2 bytes, not $size; "
      # A unit may still be starting right after SSH answers: wait for the boot to end.
      ssh_to "$port" "timeout 120 systemctl is-system-running --wait" >/dev/null 2>&1 || true
      local failed; failed=$(ssh_to "$port" systemctl list-units --failed --no-legend --plain)
      [ -z "$failed" ] || why+="failed units: $failed"
    fi
    if [ -z "$why" ]; then
      echo "ok a second boot of the grown disk changes nothing (same partition table, same filesystem size, no failed unit)"
    else
      echo "no a second boot of the grown disk changes nothing (same partition table, same filesystem size, no failed unit): $why"
    fi
  fi
}
# Starts QEMU for the machine boot() describes (its locals arch, firmware, qemu) and sets its pid.
launch() {
  case $arch-$firmware in
    x86_64-bios) qemu-system-x86_64 "${qemu[@]}" & ;;
    x86_64-uefi) qemu-system-x86_64 -bios /usr/share/ovmf/OVMF.fd "${qemu[@]}" & ;;
    aarch64-uefi) qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd "${qemu[@]}" & ;;
  esac
  pid=$!
}
boot() {
  local name=$1 profile=$2 arch=$3 firmware=$4 port=$5 t0 qemu pid out
  local img="$work/out/$profile.raw" log="$work/boot-$name.log" console="$work/boot-$name.console"
  local drive="file=$img,format=raw,if=virtio,snapshot=on" grown= rootbytes=0
  case $name in
    # These boot a copy of the image on a disk 2 GiB bigger (a qcow2 over it, as a cloud VM's
    # disk is bigger than the image): the root partition and filesystem must grow to fill it.
    x86_64-grub-uefi|x86_64-grub-btrfs-bios)
      grown="$work/grown-$name.qcow2"
      qemu-img create -q -f qcow2 -b "$img" -F raw "$grown" && qemu-img resize -q "$grown" +2G
      rootbytes=$(( ($(sgdisk -i 3 "$img" | awk '/Last sector/ {print $3}') - $(sgdisk -i 3 "$img" | awk '/First sector/ {print $3}') + 1) * 512 ))
      drive="file=$grown,format=qcow2,if=virtio" ;;
  esac
  # A monitor for reboot_and_wait (machine.sh), should the firmware stall after a reset.
  ln -sf "$console" "$work/console-$port"
  qemu=(-accel tcg -m 1024 -display none -serial "file:$console" -drive "$drive"
        -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:22"
        -monitor "unix:$work/monitor-$port,server,nowait")
  t0=$(now)
  launch
  {
    if wait_ssh "$port" 420; then
      echo "TIMING boot $name $(since "$t0") s (QEMU start to the first SSH login)"
      ssh_to "$port" "$remote_checks"
      [ -z "$grown" ] || grown_checks "$port" "$rootbytes" "$name"
      # Three machines live on: generations, rollback, trial boots, gc (lifecycle.sh).
      case $name in
        x86_64-grub-bios|aarch64-systemd-boot-ext4|x86_64-systemd-boot-ext4) lifecycle "$name" "$port" "$profile" "$arch" ;;
      esac
      ssh_to "$port" systemctl poweroff
    else
      echo "no SSH from the host answers with the key"
    fi
  } >"$log" 2>&1
  sleep 3; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  [ -z "$grown" ] || rm -f "$grown"
}
# A queue of boots ("name|profile|hw|firmware"), started by pump as cores free up.
queue=(); boot_pids=(); port=2222
alive() { local pid; for pid in "${boot_pids[@]}"; do kill -0 "$pid" 2>/dev/null && echo "$pid"; done; }
pump() {  # LIMIT: starts queued boots while fewer than LIMIT run
  local limit=$1 name profile hw firmware
  mapfile -t boot_pids < <(alive)
  while [ ${#queue[@]} -gt 0 ] && [ ${#boot_pids[@]} -lt "$limit" ]; do
    IFS='|' read -r name profile hw firmware <<<"${queue[0]}"
    queue=("${queue[@]:1}")
    while ss -ltn | grep -q ":$port "; do port=$((port + 1)); done
    boot "$name" "$profile" "$hw" "$firmware" "$port" &
    boot_pids+=($!)
    port=$((port + 1))
  done
}

# ---- build, check, rebuild
declare -A built
for c in "${combos[@]}"; do
  IFS='|' read -r name profile hw firmware <<<"$c"
  img="$work/out/$profile.raw"
  [ -n "${built[$profile]:-}" ] && continue
  built[$profile]=1
  p="$work/src/Tests/integration/matrix/$profile.nix"
  t0=$(now)
  if ! kiln build "$p" --hardware "qemu-$hw" --output "$img" >"$work/$profile.build.log" 2>&1; then
    fail "$profile builds" "$(tail -5 "$work/$profile.build.log")"; continue
  fi
  pass "$profile builds"
  timing "build $profile" "$(since "$t0") s"
  check "$profile: the first build writes a lock file" test -s "$p.lock"
  cp "$p.lock" "$work/$profile.lock.first"
  check "$profile: sgdisk -v" sh -c "sgdisk -v '$img' | grep -q 'No problems found'"
  extract "$img" 2 "$work/esp.img"
  check "$profile: fsck.vfat -n on the ESP" fsck.vfat -n "$work/esp.img"
  extract "$img" 3 "$work/root.img"
  case $profile in
    *btrfs) check "$profile: btrfs check" btrfs check "$work/root.img"
            btrfs_listing "$work/root.img" >"$work/listing1" ;;
    *) check "$profile: e2fsck -fn" e2fsck -fn "$work/root.img"
       # Kiln's own reader (seconds); btrfs goes through libguestfs, checked in store.sh.
       check "$profile: kiln verify (every store file against the image's registration)" kiln verify "$img" ;;
  esac
  printf 'SIZE %-34s %s MiB apparent, %s MiB allocated\n' "$profile" \
    "$(( $(stat -c %s "$img") >> 20 ))" "$(( $(stat -c %b "$img") * 512 >> 20 ))"

  t0=$(now)
  if [[ $reproduce == *" $profile "* ]]; then
    kiln build "$p" --hardware "qemu-$hw" --output "$work/out/again.raw" >/dev/null 2>&1
    timing "rebuild $profile" "$(since "$t0") s"
    check "$profile: the rebuild reuses the lock file unchanged" cmp "$p.lock" "$work/$profile.lock.first"
    case $profile in
      *btrfs)
        # Bit-identical outside the root partition; the root holds the same files and metadata.
        extract "$work/out/again.raw" 3 "$work/root2.img"
        first=$(sgdisk -i 3 "$img" | awk '/First sector/ {print $3}')
        check "$profile: rebuild identical before the root partition" cmp -n $((first * 512)) "$img" "$work/out/again.raw"
        btrfs_listing "$work/root2.img" >"$work/listing2"
        check "$profile: rebuild has the same files, contents, owners, modes (btrfs is not bit-reproducible)" \
          cmp "$work/listing1" "$work/listing2"
        rm -f "$work/root2.img" ;;
      *) check "$profile: rebuild is bit-identical" cmp "$img" "$work/out/again.raw" ;;
    esac
  fi
  rm -f "$work/out/again.raw" "$work/root.img" "$work/esp.img"
  for c2 in "${combos[@]}"; do [ "$(cut -d'|' -f2 <<<"$c2")" = "$profile" ] && queue+=("$c2"); done
  pump 1
done

# ---- output formats, from the hybrid x86_64 image's profile
if [ -z "${MATRIX_ONLY:-}" ]; then
  p="$work/src/Tests/integration/matrix/x86_64-grub-ext4.nix"
  for f in qcow2 vhd vmdk gce; do
    pump 1
    ext=$f; [ $f = gce ] && ext=tar.gz
    out="$work/out/disk.$ext"
    t0=$(now)
    if ! kiln build "$p" --hardware qemu-x86_64 --format $f --output "$out" >"$work/$f.log" 2>&1; then
      fail "format $f builds" "$(tail -5 "$work/$f.log")"; continue
    fi
    timing "build --format $f" "$(since "$t0") s"
    printf 'SIZE %-34s %s MiB\n' "format $f" "$(echo "scale=1; $(stat -c %s "$out") / 1048576" | bc)"
    runas mkdir -p "$work/out/again"
    kiln build "$p" --hardware qemu-x86_64 --format $f --output "$work/out/again/disk.$ext" >/dev/null 2>&1
    check "format $f: rebuild is bit-identical" cmp "$out" "$work/out/again/disk.$ext"
    rm -rf "$work/out/again"
    case $f in
      qcow2) check "format qcow2: qemu-img check" qemu-img check -f qcow2 "$out" ;;
      vmdk)  check "format vmdk: qemu-img check" qemu-img check -f vmdk "$out"
             check "format vmdk: streamOptimized" sh -c "qemu-img info -f vmdk '$out' | grep -q 'create type: streamOptimized'" ;;
      vhd)   vsize=$(qemu-img info -f vpc --output=json "$out" | grep -o '"virtual-size": [0-9]*' | grep -o '[0-9]*$')
             check "format vhd: virtual size a whole number of MiB" test $((vsize % 1048576)) -eq 0
             check "format vhd: fixed (file = virtual size + 512-byte footer)" test "$(stat -c %s "$out")" -eq $((vsize + 512))
             check "format vhd: footer cookie" sh -c "tail -c 512 '$out' | head -c 8 | grep -q conectix" ;;
      gce)   check "format gce: libarchive lists exactly disk.raw" test "$(bsdtar -tf "$out")" = "disk.raw"
             mkdir -p "$work/out/gce"
             bsdtar -xSf "$out" -C "$work/out/gce"
             check "format gce: disk.raw is the raw image" cmp "$work/out/gce/disk.raw" "$work/out/x86_64-grub-ext4.raw"
             rm -rf "$work/out/gce" ;;
    esac
    check "format $f: kiln verify reads it back" kiln verify "$out"
    if [ $f != gce ]; then
      fmt=$f; [ $f = vhd ] && fmt=vpc
      check "format $f: same disk as raw (qemu-img compare)" qemu-img compare -f "$fmt" -F raw "$out" "$work/out/x86_64-grub-ext4.raw"
    fi
    rm -f "$out"
  done
fi

# ---- the boots run while the next images build: one at a time during the builds (a build
# takes the other core), two at a time after them
while [ ${#queue[@]} -gt 0 ] || [ -n "$(alive)" ]; do pump 2; sleep 1; done
wait
for c in "${combos[@]}"; do
  IFS='|' read -r name profile hw firmware <<<"$c"
  log="$work/boot-$name.log"
  [ -f "$log" ] || continue
  fs=${profile##*-}
  if grep -q "^arch $hw" "$log" && grep -q "^firmware $firmware" "$log" && grep -q "^rootfs $fs" "$log"; then
    pass "$name boots ($hw, $firmware, $fs) and answers SSH from the host"
    grep -E '^(TIMING|NOTE)' "$log"
  else
    fail "$name boots ($hw, $firmware, $fs) and answers SSH from the host" "$(cat "$log"; tail -20 "$work/boot-$name.console")"
    continue
  fi
  while read -r verdict what; do
    case $verdict in
      ok) pass "$name: $what" ;;
      no) fail "$name: $what" "$(tail -20 "$work/boot-$name.console")" ;;
    esac
  done < <(grep -E '^(ok|no) ' "$log")
done

echo "matrix: $(since "$start") s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
