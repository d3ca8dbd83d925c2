#!/usr/bin/env bash
# Benchmark: Kiln's build of profiles/minimal.nix from cached .debs against the stock-tools
# way to make the same disk (mke2fs -d over the same tree + sgdisk + dd), in one run.
# Prints a table; the README records its result. Usage: scripts/bench.sh [RUNS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-3}
scripts/install-deps.sh
# KILN=/path/to/kiln measures that binary instead of building one.
if [ -z "${KILN:-}" ]; then swift build -c release --product kiln -Xswiftc -enable-testing >/dev/null; fi
kiln=${KILN:-$PWD/.build/release/kiln}
work=$(mktemp -d /tmp/kiln-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp profiles/minimal.nix profiles/minimal.nix.lock "$work/" 2>/dev/null || cp profiles/minimal.nix "$work/"
hw="--hardware $PWD/hardware/qemu-x86_64.nix"
export CI=1   # one line per stage

# Warm the cache (fetch + unpack), then time cached builds.
"$kiln" build "$work/minimal.nix" $hw --output "$work/warm.raw" >/dev/null 2>&1
now() { date +%s.%N; }
kiln_times=()
for i in $(seq "$runs"); do
  t0=$(now); "$kiln" build "$work/minimal.nix" $hw --output "$work/k.raw" >/dev/null 2>&1; t1=$(now)
  kiln_times+=("$(echo "$t1 - $t0" | bc)")
done

# The same tree, extracted from Kiln's image, written by the stock tools.
img="$work/warm.raw"
start=$(sgdisk -i 3 "$img" | awk '/First sector/ {print $3}')
end=$(sgdisk -i 3 "$img" | awk '/Last sector/ {print $3}')
dd if="$img" of="$work/root.ext4" bs=512 skip="$start" count=$((end - start + 1)) conv=sparse status=none
mkdir "$work/tree"
debugfs -R "rdump / $work/tree" "$work/root.ext4" >/dev/null 2>&1
rm -rf "$work/tree/lost+found"
size=$(( (end - start + 1) * 512 ))
stock_times=()
for i in $(seq "$runs"); do
  rm -f "$work/s.raw" "$work/s.ext4"
  t0=$(now)
  mke2fs -q -t ext4 -d "$work/tree" -L kiln-root "$work/s.ext4" "$((size / 1024))k"
  truncate -s "$(stat -c %s "$img")" "$work/s.raw"
  sgdisk -q -n 1:2048:+1M -t 1:ef02 -n 2:0:+64M -t 2:ef00 -n 3:0:0 -t 3:8304 "$work/s.raw"
  s3=$(sgdisk -i 3 "$work/s.raw" | awk '/First sector/ {print $3}')
  dd if="$work/s.ext4" of="$work/s.raw" bs=1M seek=$((s3 * 512)) oflag=seek_bytes conv=sparse,notrunc status=none
  t1=$(now)
  stock_times+=("$(echo "$t1 - $t0" | bc)")
done

# The ext4 writers alone, on the same tree and filesystem size: Kiln's (libext2fs, in process)
# against mke2fs -d.
mib=$(( size >> 20 ))
kiln_fs=(); mke2fs_fs=()
for i in $(seq "$runs"); do
  rm -f "$work/k.ext4" "$work/m.ext4"
  t0=$(now); "$kiln" mkfs --tree "$work/tree" --output "$work/k.ext4" --size-mib "$mib" >/dev/null 2>&1; t1=$(now)
  kiln_fs+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); mke2fs -q -t ext4 -d "$work/tree" -L kiln-root "$work/m.ext4" "${mib}M" >/dev/null 2>&1; t1=$(now)
  mke2fs_fs+=("$(echo "$t1 - $t0" | bc)")
done
e2fsck -fn "$work/k.ext4" >/dev/null 2>&1 || { echo "kiln mkfs wrote a filesystem e2fsck rejects" >&2; exit 1; }

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
k=$(median "${kiln_times[@]}"); s=$(median "${stock_times[@]}")
files=$(find "$work/tree" | wc -l); mb=$(du -sm "$work/tree" | cut -f1)
echo "tree: $files entries, $mb MB"
printf '| %-58s | %8s |\n' "what (median of $runs)" "seconds"
printf '| %-58s | %8s |\n' "kiln build, cached .debs (eval + store + ext4 + GPT + GRUB)" "$k"
printf '| %-58s | %8s |\n' "mke2fs -d + sgdisk + dd over the same tree (no GRUB)" "$s"
printf 'ratio kiln/stock: %s\n' "$(echo "scale=2; $k / $s" | bc)"
kf=$(median "${kiln_fs[@]}"); mf=$(median "${mke2fs_fs[@]}")
printf '| %-58s | %8s |\n' "kiln mkfs (ext4 through libext2fs), ${mib} MiB" "$kf"
printf '| %-58s | %8s |\n' "mke2fs -d, same tree and size" "$mf"
printf 'ratio kiln mkfs/mke2fs -d: %s\n' "$(echo "scale=2; $kf / $mf" | bc)"
