#!/usr/bin/env bash
# ISO images: the installer ISO built as an unprivileged user from Tests/integration/iso/
# (profiles/installer.nix carrying target.nix as the system to install), checked with the
# real tools and booted the ways a user boots one, under TCG:
#  - build: x86_64 twice (the two ISOs must be bit-identical) and arm64 once (the live system
#    alone, no system to install);
#  - xorriso: El Torito has a BIOS entry and a UEFI entry (arm64: UEFI only), the volume is
#    KILN_LIVE, the MBR and GPT of a hybrid image (sgdisk -v); /kiln/root.squashfs is zstd
#    and holds /nix/store with the kernel and a setuid su owned by root; /boot has the
#    kernel, the initrd and a GRUB menu with the copy-to-RAM and serial-console entries;
#  - x86_64 BIOS, the ISO as a CD: root is logged in on the serial console by itself, / is
#    an overlay over the squashfs, /nix/store is writable, the boot ends (running or
#    degraded), and kiln-install refuses a 64 MiB disk and the mounted live medium;
#  - x86_64 UEFI, the ISO as a USB stick beside a blank 4 GiB disk: kiln-install writes the
#    system to the disk; then the disk alone boots under UEFI, root logs in with target.nix's
#    password, the root filesystem fills the disk, and the disk passes sgdisk -v and
#    e2fsck -fn on the host;
#  - arm64 UEFI, the ISO as a CD: root shell, aarch64, overlay root.
# The serial consoles are driven by iso/console.py (the live system has no SSH). At most two
# QEMUs run at once: one while images still build, two after. TIMING and SIZE lines are the
# README's numbers.
# Usage: Tests/integration/iso.sh BUILD_DIR   (the folder holding the built `kiln`)
# Env: KILN_CACHE_DIR to share a warm cache (default: a cold one under the work folder).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
builddir=$(cd "${1:?usage: iso.sh BUILD_DIR}" && pwd)

passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name"; fi; }
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }

start=$(now)
work=$(mktemp -d /tmp/kiln-iso.XXXXXX)
chmod 0755 "$work"
# QEMUs run in the boots' subshells; each leaves its pid in $work/NAME/qemu.pid until it ends.
trap 'for p in "$work"/*/qemu.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$work"' EXIT

# Kiln, the profiles laid out as in the repository (the suite's profiles import
# ../../../profiles/installer.nix), readable and writable (lock files) by the build user.
src="$work/src/Tests/integration/iso"
mkdir -p "$work/bin" "$work/src/profiles" "$src" "$work/out"
cp "$builddir/kiln" "$work/bin/"
cp "$repo"/profiles/*.nix "$work/src/profiles/"
cp "$repo"/Tests/integration/iso/*.nix "$src/"
chmod -R a+rwX "$work"
if [ "$(id -u)" -eq 0 ]; then
  id kiln-ci >/dev/null 2>&1 || useradd --create-home --shell /bin/bash kiln-ci
  runas() { runuser -u kiln-ci -- env HOME=/home/kiln-ci PATH="$PATH" "$@"; }
else
  runas() { "$@"; }
fi
cache=${KILN_CACHE_DIR:-$work/cache}
kiln() { runas env KILN_CACHE_DIR="$cache" "$work/bin/kiln" "$@"; }
console_py="$repo/Tests/integration/iso/console.py"

# ---- the checks of a built ISO, with xorriso, sgdisk and the squashfs tools
# el_torito ISO: xorriso's El Torito report ("El Torito boot img :   1  BIOS  y ...").
el_torito() { xorriso -indev "$1" -report_el_torito plain 2>&1; }
lacks() { ! grep -Eq "$1" <<<"$2"; }
# iso_files ISO DIR: the regular files under DIR on the ISO, one path a line.
iso_files() { xorriso -indev "$1" -find "$2" -type f 2>/dev/null | sed -n "s/^'\(.*\)'$/\1/p"; }
# iso_diff A B: where two ISOs differ: how many bytes, and the files (or the system area, or
# the UEFI image appended after the ISO 9660 filesystem) whose 2048-byte blocks hold them.
iso_diff() {
  local blocks
  blocks=$(cmp -l "$1" "$2" 2>/dev/null | awk '{print int(($1 - 1) / 2048)}' | uniq)
  echo "$(cmp -l "$1" "$2" 2>/dev/null | wc -l) bytes differ, in $(wc -l <<<"$blocks") blocks; where:"
  xorriso -indev "$1" -find / -type f -exec report_lba -- 2>/dev/null \
    | awk -F, '/^File data lba/ {print $2 + 0, $2 + $3 - 1, $5}' >"$work/extents"
  while read -r b; do
    awk -v b="$b" '$1 <= b && b <= $2 {sub(/^[^ ]+ [^ ]+ /, ""); print; f = 1} END {if (!f) print (b < 16 ? "(system area: MBR, GPT)" : "(no file: descriptors, directories, El Torito or the appended UEFI image)")}' "$work/extents"
  done <<<"$blocks" | sort | uniq -c | sort -rn | head -8
}
iso_checks() {  # NAME ISO ARCH PROFILE
  local name=$1 iso=$2 arch=$3 report label sq listing boot cfgs
  report=$(el_torito "$iso")
  if [ "$arch" = x86_64 ]; then
    check "$name: El Torito has a BIOS entry (xorriso -report_el_torito)" grep -Eq '^El Torito boot img : +[0-9]+ +BIOS ' <<<"$report"
  else
    check "$name: El Torito has no BIOS entry (UEFI only)" lacks '^El Torito boot img : +[0-9]+ +BIOS ' "$report"
  fi
  check "$name: El Torito has a UEFI entry (platform 0xef)" grep -Eq '^El Torito boot img : +[0-9]+ +UEFI ' <<<"$report"
  label=$(kiln eval --json -A config.isoImage.volumeID "$4" 2>/dev/null | tr -d '"')
  check "$name: the volume id is isoImage.volumeID, KILN_LIVE by default (${label:-?})" \
    sh -c "test '$label' = KILN_LIVE && xorriso -indev '$iso' -pvd_info 2>/dev/null | grep -Eq '^Volume Id +: KILN_LIVE\$'"
  # Hybrid: a valid GPT (not one sgdisk makes up from the MBR) with an EFI system partition,
  # and on x86_64 boot code in the MBR for BIOS.
  check "$name: sgdisk -v finds a valid GPT and no problem" \
    sh -c "sgdisk -v '$iso' >'$work/sgdisk.out' 2>&1; grep -q 'No problems found' '$work/sgdisk.out' && ! grep -qiE 'invalid GPT|creating new GPT|converting MBR' '$work/sgdisk.out'"
  check "$name: the GPT has an EFI system partition (sgdisk -p: EF00)" sh -c "sgdisk -p '$iso' | grep -Eq '^ +[0-9]+ .* EF00 '"
  if [ "$arch" = x86_64 ]; then
    check "$name: the MBR has boot code (a raw-disk BIOS boot)" \
      sh -c "test \$(head -c 440 '$iso' | tr -d '\\000' | wc -c) -gt 100 && test \"\$(dd if='$iso' bs=1 skip=510 count=2 status=none | xxd -p)\" = 55aa"
  fi
  # The live root.
  sq="$work/$name.root.sqfs"
  rm -f "$sq"
  osirrox -indev "$iso" -extract /kiln/root.squashfs "$sq" >/dev/null 2>&1
  check "$name: /kiln/root.squashfs is on the ISO" test -s "$sq"
  if [ -s "$sq" ]; then
    check "$name: root.squashfs is zstd (unsquashfs -s)" sh -c "unsquashfs -s '$sq' | grep -q '^Compression zstd'"
    printf 'SIZE %-34s %s MiB\n' "$name root.squashfs" "$(( $(stat -c %s "$sq") >> 20 ))"
    listing=$(unsquashfs -lln "$sq" 2>/dev/null)
    check "$name: root.squashfs holds /nix/store" grep -q ' squashfs-root/nix/store/[^/]*$' <<<"$listing"
    check "$name: root.squashfs holds the kernel (/nix/store/*-linux-*/vmlinuz)" grep -Eq ' squashfs-root/nix/store/[^/]+-linux-[^/]+/vmlinuz' <<<"$listing"
    check "$name: setuid su in root.squashfs is 4755 root:root although kiln-ci built it" \
      grep -Eq '^-rwsr-xr-x 0/0 .* squashfs-root/nix/store/[^/]+-util-linux-[^/]+/bin/su$' <<<"$listing"
    check "$name: rdsquashfs (squashfs-tools-ng) reads root.squashfs too" rdsquashfs -l /nix/store "$sq"
  fi
  rm -f "$sq"
  boot=$(iso_files "$iso" /boot)
  check "$name: /boot on the ISO has a kernel and an initrd" \
    bash -c 'grep -qiE "vmlinuz|bzImage|/linux[^/]*$|kernel" <<<"$0" && grep -qi initrd <<<"$0"' "$boot"
  # The UEFI boot image: a FAT filesystem with the removable-media loader.
  local efi=BOOTX64.EFI; [ "$arch" = aarch64 ] && efi=BOOTAA64.EFI
  rm -rf "$work/bootimg" && mkdir "$work/bootimg"
  xorriso -osirrox on -indev "$iso" -extract_boot_images "$work/bootimg/" >/dev/null 2>&1
  local uefi; uefi=$(ls "$work"/bootimg/eltorito_img*_uefi.img 2>/dev/null | head -1)
  check "$name: the UEFI El Torito image is a FAT filesystem fsck.vfat -n finds clean" fsck.vfat -n "${uefi:-/nonexistent}"
  check "$name: ... holding /EFI/BOOT/$efi" sh -c "mdir -/ -b -i '${uefi:-/nonexistent}' :: | grep -qix '::/EFI/BOOT/$efi'"
  # The GRUB menu: a default entry, one that copies the live system to RAM, one for the serial
  # console; every entry finds the medium by its label. It is in a .cfg file on the ISO or
  # in the UEFI image.
  cfgs=""
  for f in $(iso_files "$iso" / | grep -v '^/kiln/' | grep '\.cfg$'); do
    osirrox -indev "$iso" -extract "$f" "$work/menu.cfg" >/dev/null 2>&1 && cfgs+=$(cat "$work/menu.cfg")$'\n'
    rm -f "$work/menu.cfg"
  done
  if [ -n "$uefi" ]; then
    for f in $(mdir -/ -b -i "$uefi" :: 2>/dev/null | grep -i '\.cfg$'); do
      cfgs+=$(mtype -i "$uefi" "$f" 2>/dev/null)$'\n'
    done
  fi
  rm -rf "$work/bootimg"
  check "$name: a GRUB menu (a .cfg file on the ISO or in the UEFI image)" test -n "$cfgs"
  check "$name: the menu has at least three entries" test "$(grep -c '^ *menuentry ' <<<"$cfgs")" -ge 3
  check "$name: an entry copies the live system to RAM (copytoram)" grep -q 'copytoram' <<<"$cfgs"
  check "$name: the kernel command lines name the medium (kiln.live=KILN_LIVE)" grep -q 'kiln.live=KILN_LIVE' <<<"$cfgs"
  local con=ttyS0; [ "$arch" = aarch64 ] && con=ttyAMA0
  check "$name: the serial console is $con" grep -q "console=$con" <<<"$cfgs"
  if [ "$arch" = x86_64 ]; then
    check "$name: /kiln/install holds the system to install (installer.system)" test -n "$(iso_files "$iso" /kiln/install)"
  fi
}

# ---- booting: QEMU's serial port on a Unix socket, driven by console.py
# qemu_console NAME QEMU ARGS... < SCRIPT: boots (TCG), runs the console script; the step
# outputs land in $work/NAME/ (STEP.out, STEP.rc, marks), the console in $work/NAME.console.
# Returns console.py's status; QEMU is stopped if the script did not see it exit.
qemu_console() {
  local name=$1; shift
  local dir="$work/$name" t0 qpid rc i
  mkdir -p "$dir"
  t0=$(now)
  "$@" -accel tcg -m 1536 -display none \
    -chardev "socket,id=s0,path=$dir/sock,server=on,wait=on" -serial chardev:s0 2>"$dir/qemu.log" &
  qpid=$!
  echo "$qpid" >"$dir/qemu.pid"
  python3 "$console_py" "$dir/sock" "$work/$name.console" "$dir" --t0 "$t0" 2>"$dir/console.err"
  rc=$?
  for i in 1 2 3 4 5; do kill -0 "$qpid" 2>/dev/null || break; sleep 1; done
  kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null
  rm -f "$dir/qemu.pid"
  return $rc
}
# In a boot's log: "ok NAME" / "no NAME: why" lines, TIMING and NOTE lines.
say() { if eval "$2" >/dev/null 2>&1; then echo "ok $1"; else echo "no $1${3:+: $3}"; fi; }
step_out() { cat "$work/$1/$2.out" 2>/dev/null; }
step_rc() { cat "$work/$1/$2.rc" 2>/dev/null | tr -d ' \n'; }
mark() { awk -v m="$2" '$1 == m {print $2}' "$work/$1/marks" 2>/dev/null; }
# reached DIR LABEL WHAT: "ok" when the console script got to its mark "shell"; otherwise a
# "no" with console.py's reason (the checks after it would only repeat that failure).
reached() {
  if [ -n "$(mark "$1" shell)" ]; then echo "ok $2: $3"; return 0; fi
  echo "no $2: $3: $(cat "$work/$1/console.err" 2>/dev/null)"; return 1
}
# A console script that stopped after the shell: which step, and why.
console_failed() { [ -s "$work/$1/console.err" ] && echo "no $2: the console script runs to its end: $(cat "$work/$1/console.err")"; }
# The end of the boot: running, or degraded with the failed units named; "starting" after
# three minutes fails.
boot_state() {  # DIR NAME
  local s; s=$(step_out "$1" state | tr -d ' ' | grep -E '^[a-z]+$' | tail -1)
  case $s in
    running) echo "ok $2: the boot ends, systemctl is-system-running: running" ;;
    degraded) echo "ok $2: the boot ends, systemctl is-system-running: degraded"
              echo "NOTE $2 degraded, failed units: $(step_out "$1" failed | awk '{print $1}' | tr '\n' ' ')" ;;
    *) echo "no $2: the boot ends within 3 minutes (systemctl is-system-running --wait: ${s:-nothing})" ;;
  esac
}
timing_line() {  # LABEL SECONDS WHAT
  [ -n "$2" ] && printf 'TIMING %-34s %s s (%s)\n' "$1" "$2" "$3"
}
# The first step of every console session: the kernel's messages off the console (they would
# land in the commands' output), and no pager (systemctl's would wait for a key).
quiet='run 10 quiet echo 1 >/proc/sys/kernel/printk; export SYSTEMD_PAGER=cat PAGER=cat SYSTEMD_COLORS=0'
# The steps every live boot starts with.
live_steps="$quiet"'
run 30 fstype findmnt -no FSTYPE /
run 30 write touch /nix/store/kiln-write-test && test -f /nix/store/kiln-write-test
run 30 cmdline cat /proc/cmdline
run 30 arch uname -m
run 200 state timeout 180 systemctl is-system-running --wait
run 30 failed systemctl list-units --failed --no-legend --plain'
live_checks() {  # DIR NAME ARCH
  say "$2: the live root is an overlay (findmnt -no FSTYPE /)" "step_out $1 fstype | grep -qx overlay" "$(step_out "$1" fstype | head -3)"
  say "$2: /nix/store is writable (touch /nix/store/kiln-write-test)" "test \"\$(step_rc $1 write)\" = 0" "$(step_out "$1" write | tail -3)"
  say "$2: the kernel command line has kiln.live=KILN_LIVE" "step_out $1 cmdline | grep -q 'kiln.live=KILN_LIVE'" "$(step_out "$1" cmdline)"
  say "$2: uname -m is $3" "step_out $1 arch | grep -qx $3" "$(step_out "$1" arch)"
  boot_state "$1" "$2"
}

# (4) x86_64 BIOS, the ISO as a CD, a 64 MiB disk beside it.
boot_bios() {
  local d=bios log="$work/boot-bios.log"
  truncate -s 64M "$work/small.img"
  (
    qemu_console "$d" qemu-system-x86_64 -cdrom "$work/out/live.iso" -boot d \
      -drive "file=$work/small.img,format=raw,if=virtio" -nic user,model=virtio-net-pci <<EOF
expect 300 root@kiln-installer:~#
mark shell
$live_steps
run 120 small kiln-install --disk /dev/vda --yes
run 120 mounted kiln-install --disk /dev/sr0 --yes
sendline systemctl poweroff
eof 120
EOF
    timing_line "boot x86_64 BIOS CD" "$(mark "$d" shell)" "QEMU start to the autologin root prompt on ttyS0"
    reached "$d" "x86_64 BIOS CD" "root is logged in on the serial console by itself" || exit 0
    console_failed "$d" "x86_64 BIOS CD"
    live_checks "$d" "x86_64 BIOS CD" x86_64
    say "x86_64 BIOS CD: kiln-install refuses a 64 MiB disk, saying it is too small (exit 1)" \
      "test \"\$(step_rc $d small)\" = 1 && step_out $d small | grep -qiE 'small'" "exit $(step_rc "$d" small): $(step_out "$d" small | tail -3)"
    say "x86_64 BIOS CD: kiln-install refuses the mounted live medium /dev/sr0 (exit 1)" \
      "test \"\$(step_rc $d mounted)\" = 1 && step_out $d mounted | grep -qiE 'mounted|in use'" "exit $(step_rc "$d" mounted): $(step_out "$d" mounted | tail -3)"
  ) >"$log" 2>&1
  rm -f "$work/small.img"
}

# (5) x86_64 UEFI, the ISO as a USB stick beside a blank 4 GiB disk: kiln-install; then the
# disk alone.
boot_uefi_install() {
  local d=uefi d2=installed log="$work/boot-uefi.log" disk="$work/target.qcow2" raw="$work/target.raw" first last n
  qemu-img create -q -f qcow2 "$disk" 4G
  (
    # bootindex: OVMF would otherwise try the disk first (a disk that already holds a system).
    qemu_console "$d" qemu-system-x86_64 -bios /usr/share/ovmf/OVMF.fd \
      -device qemu-xhci -drive "if=none,id=usb,file=$work/out/live.iso,format=raw,readonly=on" \
      -device usb-storage,drive=usb,bootindex=0 \
      -drive "file=$disk,format=qcow2,if=virtio" -nic user,model=virtio-net-pci <<EOF
expect 300 root@kiln-installer:~#
mark shell
$quiet
run 30 efi test -d /sys/firmware/efi
run 30 fstype findmnt -no FSTYPE /
mark install-start
run 900 install kiln-install --disk /dev/vda --yes
mark install-end
run 60 sync sync
sendline systemctl poweroff
eof 180
EOF
    timing_line "boot x86_64 UEFI USB" "$(mark "$d" shell)" "QEMU start to the autologin root prompt on ttyS0"
    reached "$d" "x86_64 UEFI USB" "root is logged in on the serial console by itself" || exit 0
    console_failed "$d" "x86_64 UEFI USB"
    say "x86_64 UEFI USB: booted by UEFI (/sys/firmware/efi)" "test \"\$(step_rc $d efi)\" = 0"
    say "x86_64 UEFI USB: the live root is an overlay" "step_out $d fstype | grep -qx overlay" "$(step_out "$d" fstype | head -3)"
    local s1 s2; s1=$(mark "$d" install-start); s2=$(mark "$d" install-end)
    [ -n "$s1" ] && [ -n "$s2" ] && timing_line "kiln-install to a 4 GiB virtio disk" "$(echo "$s2 - $s1" | bc)" "TCG, from the command to its exit"
    say "x86_64 UEFI USB: kiln-install --disk /dev/vda --yes exits 0" "test \"\$(step_rc $d install)\" = 0" \
      "exit $(step_rc "$d" install): $(step_out "$d" install | tail -15)"
    say "x86_64 UEFI USB: kiln-install's last line says installed" \
      "step_out $d install | grep -v '^\s*\$' | tail -1 | grep -q '^kiln-install: installed'" "$(step_out "$d" install | tail -3)"
    echo "NOTE kiln-install's messages:"; step_out "$d" install | grep '^kiln-install' | sed 's/^/NOTE   /'

    if [ "$(step_rc "$d" install)" = 0 ]; then
      qemu_console "$d2" qemu-system-x86_64 -bios /usr/share/ovmf/OVMF.fd \
        -drive "file=$disk,format=qcow2,if=virtio" -nic user,model=virtio-net-pci <<EOF
expect 300 installed login:
mark login
sendline root
expect 30 Password:
sendline kiln-installed
expect 60 root@installed:~#
mark shell
$quiet
run 30 answer echo ok-\$((6*7))
run 30 hostname hostname
run 30 size df -B1 --output=size /
run 30 efi test -d /sys/firmware/efi
run 200 state timeout 180 systemctl is-system-running --wait
run 30 failed systemctl list-units --failed --no-legend --plain
sendline systemctl poweroff
eof 180
EOF
      timing_line "boot the installed disk (UEFI)" "$(mark "$d2" login)" "QEMU start to the login prompt on ttyS0"
      reached "$d2" "installed disk" "boots alone under UEFI to a login prompt, and root logs in with target.nix's password" || exit 0
      console_failed "$d2" "installed disk"
      say "installed disk: a command runs (echo ok-\$((6*7)) prints ok-42)" "step_out $d2 answer | grep -qx ok-42"
      say "installed disk: the host name is target.nix's (installed)" "step_out $d2 hostname | grep -qx installed" "$(step_out "$d2" hostname)"
      local size; size=$(step_out "$d2" size | grep -Eo '^ *[0-9]+ *$' | tr -d ' ')
      say "installed disk: the root filesystem fills the 4 GiB disk (more than 3 GiB: ${size:-?} bytes)" "test ${size:-0} -gt $((3 << 30))"
      say "installed disk: booted by UEFI" "test \"\$(step_rc $d2 efi)\" = 0"
      boot_state "$d2" "installed disk"
      # The disk on the host, the machine off.
      qemu-img convert -f qcow2 -O raw "$disk" "$raw"
      say "installed disk: sgdisk -v finds no problem" "sgdisk -v '$raw' | grep -q 'No problems found'" "$(sgdisk -v "$raw" 2>&1 | tail -3)"
      say "installed disk: the GPT has an ESP (EF00) and a BIOS boot partition (EF02)" \
        "sgdisk -p '$raw' | grep -Eq ' EF00 ' && sgdisk -p '$raw' | grep -Eq ' EF02 '" "$(sgdisk -p "$raw" 2>&1 | tail -4)"
      n=$(sgdisk -p "$raw" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ {n = $1} END {print n}')
      first=$(sgdisk -i "$n" "$raw" 2>/dev/null | awk '/First sector/ {print $3}')
      last=$(sgdisk -i "$n" "$raw" 2>/dev/null | awk '/Last sector/ {print $3}')
      say "installed disk: the root partition (the last) reaches the disk's end" "test $(( (4 << 21) - ${last:-0} )) -lt 4096" "partition $n ends at sector ${last:-?} of $((4 << 21))"
      if [ -n "$first" ] && [ -n "$last" ]; then
        dd if="$raw" of="$work/installed-root.img" bs=512 skip="$first" count=$((last - first + 1)) conv=sparse status=none
        say "installed disk: e2fsck -fn finds the root filesystem clean" "e2fsck -fn '$work/installed-root.img'" \
          "$(e2fsck -fn "$work/installed-root.img" 2>&1 | tail -4)"
        rm -f "$work/installed-root.img"
      fi
      rm -f "$raw"
    fi
  ) >"$log" 2>&1
  rm -f "$disk"
}

# (6) arm64 UEFI, the ISO as a CD on virtio-scsi.
boot_aarch64() {
  local d=aarch64 log="$work/boot-aarch64.log"
  (
    qemu_console "$d" qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on \
      -bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd \
      -device virtio-scsi-pci -device scsi-cd,drive=cd,bootindex=0 \
      -drive "if=none,id=cd,file=$work/out/live-aarch64.iso,media=cdrom,readonly=on" \
      -nic user,model=virtio-net-pci <<EOF
expect 480 root@kiln-installer:~#
mark shell
$live_steps
sendline systemctl poweroff
eof 180
EOF
    timing_line "boot aarch64 UEFI CD" "$(mark "$d" shell)" "QEMU start to the autologin root prompt on ttyAMA0"
    reached "$d" "aarch64 UEFI CD" "root is logged in on the serial console by itself" || exit 0
    console_failed "$d" "aarch64 UEFI CD"
    live_checks "$d" "aarch64 UEFI CD" aarch64
  ) >"$log" 2>&1
}

# ---- build x86_64, check it, boot it as a CD while the rest builds
x86="$src/installer.nix" arm="$src/live-aarch64.nix"
t0=$(now)
if kiln build "$x86" --hardware qemu-x86_64 --output "$work/out/live.iso" >"$work/x86_64.build.log" 2>&1 \
   && [ -s "$work/out/live.iso" ]; then
  pass "x86_64 installer ISO builds (kiln build --hardware qemu-x86_64 --output live.iso, as $(runas id -un))"
  printf 'TIMING %-34s %s s\n' "build x86_64 installer ISO" "$(since "$t0")"
  printf 'SIZE %-34s %s MiB (%s bytes)\n' "x86_64 installer ISO" "$(( $(stat -c %s "$work/out/live.iso") >> 20 ))" "$(stat -c %s "$work/out/live.iso")"
  boot_bios & bios_pid=$!
  iso_checks "x86_64 ISO" "$work/out/live.iso" x86_64 "$x86"
  t0=$(now)
  if kiln build "$x86" --hardware qemu-x86_64 --output "$work/out/again.iso" >"$work/again.build.log" 2>&1; then
    printf 'TIMING %-34s %s s\n' "rebuild x86_64 installer ISO" "$(since "$t0")"
    if cmp -s "$work/out/live.iso" "$work/out/again.iso"; then pass "x86_64 ISO: a rebuild is bit-identical (cmp)"
    else
      fail "x86_64 ISO: a rebuild is bit-identical (cmp)" "$(iso_diff "$work/out/live.iso" "$work/out/again.iso")"
    fi
  else
    fail "x86_64 ISO: a rebuild is bit-identical (cmp)" "the rebuild failed: $(tail -5 "$work/again.build.log")"
  fi
  rm -f "$work/out/again.iso"
  x86_ok=1
else
  fail "x86_64 installer ISO builds" "$(tail -8 "$work/x86_64.build.log")"
  x86_ok=
fi

# ---- build arm64
t0=$(now)
if kiln build "$arm" --hardware qemu-aarch64 --format iso --output "$work/out/live-aarch64.iso" >"$work/aarch64.build.log" 2>&1 \
   && [ -s "$work/out/live-aarch64.iso" ]; then
  pass "aarch64 live ISO builds (--hardware qemu-aarch64 --format iso)"
  printf 'TIMING %-34s %s s\n' "build aarch64 live ISO" "$(since "$t0")"
  printf 'SIZE %-34s %s MiB (%s bytes)\n' "aarch64 live ISO" "$(( $(stat -c %s "$work/out/live-aarch64.iso") >> 20 ))" "$(stat -c %s "$work/out/live-aarch64.iso")"
  iso_checks "aarch64 ISO" "$work/out/live-aarch64.iso" aarch64 "$arm"
  arm_ok=1
else
  fail "aarch64 live ISO builds" "$(tail -8 "$work/aarch64.build.log")"
  arm_ok=
fi

# ---- the other boots, two at a time
[ -n "$x86_ok" ] && { boot_uefi_install & }
[ -n "$x86_ok" ] && wait "$bios_pid"
[ -n "$arm_ok" ] && { boot_aarch64 & }
wait
for m in bios uefi aarch64; do
  log="$work/boot-$m.log"
  [ -f "$log" ] || continue
  grep -E '^(TIMING|NOTE)' "$log"
  shown=" "
  while read -r verdict what; do
    case $verdict in
      ok) pass "$what" ;;
      no) # The end of the console a failure happened on, once per console.
          con=$m; [[ $what == "installed disk:"* ]] && con=installed
          if [[ $shown != *" $con "* ]]; then
            fail "$what" "$(printf '\n---- %s.console, last 30 lines\n' "$con"; tail -n 30 "$work/$con.console" 2>/dev/null | tr -d '\033' | sed 's/\r$//')"
            shown+="$con "
          else
            fail "$what"
          fi ;;
    esac
  done < <(grep -E '^(ok|no) ' "$log")
  grep -qE '^(ok|no) ' "$log" || fail "$m boots" "$(cat "$log"; tail -25 "$work/$m.console" 2>/dev/null)"
done

echo "iso: $(since "$start") s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
