#!/usr/bin/env bash
# Cloud images: every preset of hardware/ (amazon, google, azure, openstack) built as an
# unprivileged user from profiles/cloud.nix with no format flag, so the preset picks the
# format; each checked with the real tools, and two of them booted as their cloud would
# boot them, with nothing reaching the network:
#  - openstack: the qcow2 on a disk 2 GiB bigger (qemu-img resize), SeaBIOS, virtio, and a
#    NoCloud seed (a `cidata` ISO 9660 image written with xorriso) that names the host,
#    gives root an SSH key and runs user-data. The root partition and filesystem must grow,
#    the host name and key must come from the seed, and after a reboot the SSH host key,
#    the host name and the size must be the same and the user-data must not run again.
#  - amazon: the raw image on an NVMe disk 2 GiB bigger, UEFI (OVMF), DMI saying "Amazon
#    EC2", and Amazon's instance metadata service (IMDSv2) emulated by cloud/imds.py, which
#    QEMU's user network runs for each connection to 169.254.169.254:80 (guestfwd; the
#    guest network is 169.254.0.0/16 so that the address is inside it).
# azure must be a fixed VHD of a whole number of MiB; google a GCE tarball whose disk.raw is
# sparse. TIMING and SIZE lines are the README's per-preset numbers.
# Usage: Tests/integration/cloud.sh BUILD_DIR
# Env: KILN_CACHE_DIR to share a warm cache (default: a cold one under the work folder).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
builddir=$(cd "${1:?usage: cloud.sh BUILD_DIR}" && pwd)

passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name"; fi; }
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }

start=$(now)
work=$(mktemp -d /tmp/kiln-cloud.XXXXXX)
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT

# Kiln, the profiles as in the repository, readable by the build user.
mkdir -p "$work/bin" "$work/src/profiles" "$work/src/Tests/integration/cloud" "$work/out"
cp "$builddir/kiln" "$work/bin/"
cp "$repo/profiles/cloud.nix" "$work/src/profiles/"
cp "$repo/Tests/integration/cloud/test.nix" "$work/src/Tests/integration/cloud/"
chmod -R a+rwX "$work"
ssh-keygen -q -t ed25519 -N '' -C kiln-cloud -f "$work/key"
if [ "$(id -u)" -eq 0 ]; then
  id kiln-ci >/dev/null 2>&1 || useradd --create-home --shell /bin/bash kiln-ci
  runas() { runuser -u kiln-ci -- env HOME=/home/kiln-ci PATH="$PATH" "$@"; }
else
  runas() { "$@"; }
fi
cache=${KILN_CACHE_DIR:-$work/cache}
kiln() { runas env KILN_CACHE_DIR="$cache" "$work/bin/kiln" "$@"; }
profile="$work/src/Tests/integration/cloud/test.nix"

# ---- build every preset; the output's name says nothing the preset must not hear
# preset | output name | format the preset must have chosen
presets=(
  "amazon|amazon.raw|raw"
  "openstack|openstack.qcow2|qcow2"
  "azure|azure.vhd|vhd"
  "google|google-image|gce"
)
for p in "${presets[@]}"; do
  IFS='|' read -r preset out format <<<"$p"
  t0=$(now)
  if ! kiln build "$profile" --hardware "$preset" --output "$work/out/$out" >"$work/$preset.build.log" 2>&1; then
    fail "$preset builds" "$(tail -5 "$work/$preset.build.log")"; continue
  fi
  pass "$preset builds"
  printf 'TIMING %-34s %s s\n' "build --hardware $preset" "$(since "$t0")"
  printf 'SIZE %-34s %s MiB file, %s MiB allocated\n' "$preset ($format)" \
    "$(( $(stat -c %s "$work/out/$out") >> 20 ))" "$(( $(stat -c %b "$work/out/$out") * 512 >> 20 ))"
  check "$preset: the build says it wrote $format" grep -q "($format)" "$work/$preset.build.log"
done

# The format each preset chose, checked with the tools its cloud's users have.
img="$work/out/amazon.raw"
check "amazon: -o amazon.raw is a raw disk (qemu-img)" sh -c "qemu-img info --output=json '$img' | grep -q '\"format\": \"raw\"'"
check "amazon: sgdisk -v" sh -c "sgdisk -v '$img' | grep -q 'No problems found'"
check "amazon: kiln verify (every store file against the image's registration)" kiln verify "$img"
check "openstack: qemu-img check of the qcow2" qemu-img check -f qcow2 "$work/out/openstack.qcow2"
vhd="$work/out/azure.vhd"
vsize=$(qemu-img info -f vpc --output=json "$vhd" 2>/dev/null | grep -o '"virtual-size": [0-9]*' | grep -o '[0-9]*$')
check "azure: qemu-img reads a VHD whose virtual size is a whole number of MiB" test "$(( ${vsize:-1} % 1048576 ))" -eq 0
check "azure: the VHD is fixed (file = virtual size + the 512-byte footer, disk type 2)" \
  sh -c "test \"\$(stat -c %s '$vhd')\" -eq $(( ${vsize:-0} + 512 )) && tail -c 512 '$vhd' | head -c 64 | tail -c 4 | xxd -p | grep -qx 00000002"
gce="$work/out/google-image"
check "google: the image is a gzip tarball holding only disk.raw" test "$(bsdtar -tf "$gce" 2>/dev/null)" = "disk.raw"
check "google: disk.raw is stored sparse (GNU sparse member)" \
  sh -c "gzip -dc '$gce' | head -c 512 | dd bs=1 skip=156 count=1 status=none | grep -qx S"
mkdir -p "$work/gce" && bsdtar -xSf "$gce" -C "$work/gce" 2>/dev/null
check "google: disk.raw unpacks sparse (its holes take no room: 100 MiB or more unallocated)" \
  sh -c "test \$(( \$(stat -c %b '$work/gce/disk.raw') * 512 + (100 << 20) )) -lt \$(stat -c %s '$work/gce/disk.raw')"
check "google: disk.raw passes sgdisk -v" sh -c "sgdisk -v '$work/gce/disk.raw' | grep -q 'No problems found'"
rm -rf "$work/gce"
out=$(kiln build "$profile" --hardware google --output "$work/out/google.raw" 2>&1)
check "google: -o google.raw is refused, naming image.formats (GCE imports a tarball)" \
  sh -c "! test -e '$work/out/google.raw' && printf '%s' \"\$0\" | grep -q 'image.formats: gce'" "$out"
out=$(kiln build "$profile" --hardware azure --format qcow2 --output "$work/out/azure.qcow2" 2>&1)
check "azure: --format qcow2 is refused, naming image.formats" \
  sh -c "! test -e '$work/out/azure.qcow2' && printf '%s' \"\$0\" | grep -q 'image.formats: vhd'" "$out"
rm -f "$work/out/azure.vhd" "$work/out/google-image"

# ---- boots
source "$repo/Tests/integration/machine.sh"
free_port() { local p=$1; while ss -ltn | grep -q ":$p "; do p=$((p + 1)); done; echo "$p"; }
# The checks both machines share, run on the machine: "ok NAME" or "no NAME" per line.
remote_checks="$remote_t"'
for i in $(seq 240); do s=$(systemctl is-system-running); case $s in starting|initializing) sleep 1;; *) break;; esac; done
t "systemd is running, no unit failed (is-system-running: $s)" "test $s = running"
t "cloud-init ran and is done" "cloud-init status | grep -q \"status: done\""
t "the host name is the metadata'"'"'s ($(hostname))" "test \$(hostname) = $HOSTNAME_WANTED"
t "user-data ran (runcmd)" "grep -q ran /var/tmp/user-data-ran"
t "filesystems are found by UUID, never by device path (fstab, root=)" "! grep -qE \"^/dev/\" /etc/fstab && grep -q \"root=UUID=\" /proc/cmdline"
t "root logs in with the metadata'"'"'s key (root'"'"'s authorized_keys)" "grep -q kiln-cloud /root/.ssh/authorized_keys"
'
grown_check() {  # PORT IMAGE_ROOT_BYTES: the root filesystem grew by more than 1.5 GiB
  local size
  size=$(ssh_to "$1" df -B1 --output=size / | tail -n 1 | tr -d ' ')
  if [ -n "$size" ] && [ "$size" -gt $(( $2 + (3 << 29) )) ]; then
    echo "ok the root partition and filesystem grew to the disk at first boot ($(( $2 >> 20 )) MiB partition in the image, $(( size >> 20 )) MiB filesystem now)"
  else
    echo "no the root partition and filesystem grew to the disk at first boot (image partition $2 bytes, filesystem now ${size:-?})"
  fi
}
root_bytes() { echo $(( ($(sgdisk -i 3 "$1" | awk '/Last sector/ {print $3}') - $(sgdisk -i 3 "$1" | awk '/First sector/ {print $3}') + 1) * 512 )); }

# (a) openstack + NoCloud seed
boot_nocloud() {
  local port=$1 log="$work/boot-openstack.log" console="$work/boot-openstack.console" t0 pid keys1 keys2 size1 size2
  local disk="$work/openstack-grown.qcow2" raw="$work/out/openstack-as-raw.img"
  qemu-img convert -f qcow2 -O raw "$work/out/openstack.qcow2" "$raw"
  local before; before=$(root_bytes "$raw"); rm -f "$raw"
  cp "$work/out/openstack.qcow2" "$disk" && qemu-img resize -q "$disk" +2G
  mkdir -p "$work/seed"
  printf 'instance-id: kiln-nocloud-0001\nlocal-hostname: cloudy\n' >"$work/seed/meta-data"
  printf '#cloud-config\nssh_authorized_keys:\n  - %s\nruncmd:\n  - [ sh, -c, "echo ran >> /var/tmp/user-data-ran" ]\n' \
    "$(cat "$work/key.pub")" >"$work/seed/user-data"
  xorriso -as mkisofs -quiet -o "$work/seed.iso" -V cidata -J -r "$work/seed" 2>/dev/null
  t0=$(now)
  qemu-system-x86_64 -accel tcg -m 1024 -display none -serial "file:$console" \
    -drive "file=$disk,format=qcow2,if=virtio" -drive "file=$work/seed.iso,media=cdrom,readonly=on" \
    -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:22" &
  pid=$!
  {
    if wait_ssh "$port" 420; then
      echo "TIMING boot openstack+NoCloud $(since "$t0") s (QEMU start to the first SSH login with the seed's key)"
      ssh_to "$port" "HOSTNAME_WANTED=cloudy; $remote_checks"
      grown_check "$port" "$before"
      keys1=$(ssh_to "$port" cat /etc/ssh/ssh_host_ed25519_key.pub); size1=$(ssh_to "$port" df -B1 --output=size / | tail -n 1)
      if reboot_and_wait "$port" 420; then
        keys2=$(ssh_to "$port" cat /etc/ssh/ssh_host_ed25519_key.pub); size2=$(ssh_to "$port" df -B1 --output=size / | tail -n 1)
        [ -n "$keys1" ] && [ "$keys1" = "$keys2" ] && echo "ok after a reboot the SSH host key is the same" || echo "no after a reboot the SSH host key is the same"
        [ "$size1" = "$size2" ] && echo "ok after a reboot the root filesystem's size is the same" || echo "no after a reboot the root filesystem's size is the same ($size1, $size2)"
        ssh_to "$port" "HOSTNAME_WANTED=cloudy; $remote_checks" | sed 's/^\(ok\|no\) /\1 after a reboot: /'
        [ "$(ssh_to "$port" grep -c ran /var/tmp/user-data-ran)" = 1 ] && echo "ok after a reboot the per-instance user-data has not run again" \
          || echo "no after a reboot the per-instance user-data has not run again"
      else
        echo "no the machine comes back after a reboot"
      fi
      ssh_to "$port" systemctl poweroff
    else
      echo "no SSH answers with the key from the NoCloud seed"
    fi
  } >"$log" 2>&1
  sleep 3; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  rm -f "$disk"
}

# (b) amazon on NVMe + UEFI + the EC2 metadata service
boot_ec2() {
  local port=$1 log="$work/boot-amazon.log" console="$work/boot-amazon.console" t0 pid
  local disk="$work/amazon-grown.qcow2" uuid=ec2a1b2c-3d4e-5f60-7182-93a4b5c6d7e8 before
  before=$(root_bytes "$work/out/amazon.raw")
  qemu-img create -q -f qcow2 -b "$work/out/amazon.raw" -F raw "$disk" && qemu-img resize -q "$disk" +2G
  mkdir -p "$work/imds"
  cp "$work/key.pub" "$work/imds/public-key"
  echo kiln-ec2 >"$work/imds/hostname"
  printf '#cloud-config\nruncmd:\n  - [ sh, -c, "echo ran >> /var/tmp/user-data-ran" ]\n' >"$work/imds/user-data"
  cp "$repo/Tests/integration/cloud/imds.py" "$work/imds.py"
  t0=$(now)
  qemu-system-x86_64 -accel tcg -m 1024 -display none -bios /usr/share/ovmf/OVMF.fd -serial "file:$console" \
    -drive "file=$disk,format=qcow2,if=none,id=disk" -device nvme,drive=disk,serial=vol0kiln \
    -smbios "type=1,manufacturer=Amazon EC2,product=t3.micro,serial=$uuid,uuid=$uuid" \
    -nic "user,model=virtio-net-pci,net=169.254.0.0/16,hostfwd=tcp:127.0.0.1:$port-:22,guestfwd=tcp:169.254.169.254:80-cmd:python3 $work/imds.py $work/imds" &
  pid=$!
  {
    if wait_ssh "$port" 420; then
      echo "TIMING boot amazon+IMDS $(since "$t0") s (QEMU start to the first SSH login with the metadata's key)"
      ssh_to "$port" "HOSTNAME_WANTED=kiln-ec2; $remote_checks"
      grown_check "$port" "$before"
      ssh_to "$port" "$remote_t"'
        t "the root is on NVMe (built into the cloud kernel)" "findmnt -no SOURCE / | grep -q nvme0n1"
        t "booted by UEFI" "test -d /sys/firmware/efi"
        t "cloud-init used the EC2 datasource" "cloud-init status --long | grep -q DataSourceEc2"'
      grep -q "^PUT /latest/api/token 200" "$work/imds/requests.log" && echo "ok cloud-init asked the metadata service for an IMDSv2 token" \
        || echo "no cloud-init asked the metadata service for an IMDSv2 token"
      ssh_to "$port" systemctl poweroff
    else
      echo "no SSH answers with the key from the EC2 metadata service"
    fi
  } >"$log" 2>&1
  sleep 3; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  rm -f "$disk"
}

p1=$(free_port 2322); boot_nocloud "$p1" & b1=$!
sleep 1
p2=$(free_port $((p1 + 1))); boot_ec2 "$p2" & b2=$!
wait "$b1" "$b2"
for m in openstack amazon; do
  log="$work/boot-$m.log"
  grep '^TIMING' "$log"
  while read -r verdict what; do
    case $verdict in
      ok) pass "$m: $what" ;;
      no) fail "$m: $what" "$(tail -25 "$work/boot-$m.console")" ;;
    esac
  done < <(grep -E '^(ok|no) ' "$log")
  grep -qE '^(ok|no) ' "$log" || fail "$m boots" "$(cat "$log"; tail -25 "$work/boot-$m.console")"
done

echo "cloud: $(since "$start") s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
