#!/usr/bin/env bash
# Benchmark: Kiln's build of the installer ISO (profiles/installer.nix, cached .debs) against
# what NixOS runs to make its ISO, over the same tree, in one run:
#   mksquashfs with nixos/lib/make-squashfs.nix's flags (-no-hardlinks -keep-as-directory
#   -all-root -b 1048576 -comp zstd -Xcompression-level N -processors CORES), N being the
#   level Kiln used (isoImage.squashfsCompression, from `kiln config`), then xorriso with
#   nixos/lib/make-iso9660-image.sh's flags (El Torito for BIOS and UEFI, hybrid MBR and GPT)
#   over the ISO's other files, extracted with osirrox.
# NixOS boots BIOS through isolinux; here the BIOS image is Kiln's GRUB El Torito core and
# the hybrid MBR GRUB's boot_hybrid.img (grub-mkrescue's), the rest is NixOS's command line.
# Prints a table; the README records its result. Usage: scripts/bench-iso.sh [RUNS]
# Env: KILN=/path/to/kiln measures that binary instead of building one; BENCH_ZSTD19=1 adds
#      one mksquashfs at level 19 (NixOS's ISOs), for the size it buys.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-3}
scripts/install-deps.sh
if [ -z "${KILN:-}" ]; then swift build -c release --product kiln -Xswiftc -enable-testing >/dev/null; fi
kiln=${KILN:-$PWD/.build/release/kiln}
work=$(mktemp -d /tmp/kiln-bench-iso.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The shipped installer and the profile it installs (installer.nix names ./minimal.nix).
cp profiles/*.nix "$work/"
cp profiles/*.nix.lock "$work/" 2>/dev/null || true
hw="--hardware qemu-x86_64"
export CI=1   # one line per stage
[ "$(id -u)" -eq 0 ] || echo "note: not root: the tree is unpacked with your owner (mksquashfs -all-root makes every file root's anyway)" >&2
cores=$(nproc)

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mib() { echo "scale=1; $(stat -c %s "$1") / 1048576" | bc; }

# Warm the cache (fetch + unpack + the installed system's image), then time cached builds.
"$kiln" build "$work/installer.nix" $hw --output "$work/warm.iso" >"$work/warm.log" 2>&1 || { cat "$work/warm.log" >&2; exit 1; }
kiln_times=(); kiln_sq=(); kiln_iso=()
# stage LOG NAME: the seconds of a stage from its CI line "NAME...: done in Xs".
stage() { grep -F "$2" "$1" | grep -oE 'done in [0-9.]+s' | head -1 | grep -oE '[0-9.]+'; }
for i in $(seq "$runs"); do
  rm -f "$work/k.iso"
  t0=$(now); "$kiln" build "$work/installer.nix" $hw --output "$work/k.iso" >"$work/k.log" 2>&1; t1=$(now)
  kiln_times+=("$(echo "$t1 - $t0" | bc)")
  kiln_sq+=("$(stage "$work/k.log" "writing squashfs")"); kiln_iso+=("$(stage "$work/k.log" "writing the ISO")")
done
cmp -s "$work/warm.iso" "$work/k.iso" || echo "note: two cached builds differ" >&2

# The level Kiln used: kiln config's plan, else the squashfs's own superblock, else 6.
level=$("$kiln" config "$work/installer.nix" $hw 2>/dev/null \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["isoImage"]["zstdLevel"])' 2>/dev/null || true)
iso="$work/k.iso"
mkdir "$work/isotree"
osirrox -indev "$iso" -extract / "$work/isotree" >/dev/null 2>&1
chmod -R u+w "$work/isotree"
ksq="$work/isotree/kiln/root.squashfs"
[ -s "$ksq" ] || { echo "no /kiln/root.squashfs on $iso" >&2; exit 1; }
cp "$ksq" "$work/k.sqfs"
[ -n "$level" ] || level=$(unsquashfs -s "$ksq" 2>/dev/null | awk '/compression-level/ {print $2}')
level=${level:-6}

# The live root, unpacked (as root: owners and setuid bits kept).
unsquashfs -q -n -d "$work/tree" "$ksq" >/dev/null
mapfile -t sources < <(find "$work/tree" -mindepth 1 -maxdepth 1 | sort)
files=$(find "$work/tree" | wc -l); mb=$(du -sm "$work/tree" | cut -f1)

# NixOS's mksquashfs (make-squashfs.nix: the sources are the closure's store paths; here the
# live root's top-level folders, which -keep-as-directory keeps as folders likewise).
squash() {  # LEVEL OUT
  mksquashfs "${sources[@]}" "$2" -no-hardlinks -keep-as-directory -all-root -b 1048576 \
    -comp zstd -Xcompression-level "$1" -processors "$cores" -no-progress -quiet >/dev/null
}
sq_times=()
for i in $(seq "$runs"); do
  rm -f "$work/s.sqfs"
  t0=$(now); squash "$level" "$work/s.sqfs"; t1=$(now)
  sq_times+=("$(echo "$t1 - $t0" | bc)")
done

# NixOS's xorriso (make-iso9660-image.sh) over the ISO's files with that squashfs: Kiln's two
# El Torito images, the UEFI one as a file /boot/efi.img as NixOS has it.
rm -rf "$work/bootimg" && mkdir "$work/bootimg"
xorriso -osirrox on -indev "$iso" -extract_boot_images "$work/bootimg/" >/dev/null 2>&1
report=$(xorriso -indev "$iso" -report_el_torito plain 2>/dev/null)
bios_img=$(awk '/^El Torito img path : +1 / {print $NF}' <<<"$report" | sed 's|^/||')
efi_img=$(ls "$work"/bootimg/eltorito_img*_uefi.img | head -1)
cp "$efi_img" "$work/isotree/boot/efi.img"
cp "$work/s.sqfs" "$ksq"
mbr=/usr/lib/grub/i386-pc/boot_hybrid.img
guid=$(python3 -c 'import sys, uuid; print(uuid.uuid5(uuid.UUID("daed2280-b91e-42c0-aed6-82c825ca41f3"), sys.argv[1]).hex)' "$work/stock.iso")
: >"$work/pathlist"
for d in "$work"/isotree/*; do echo "${d##*/}=$d" >>"$work/pathlist"; done
stock_iso() {
  rm -f "$work/stock.iso"
  xorriso -boot_image any gpt_disk_guid="$guid" -volume_date all_file_dates =1 \
    -as mkisofs -iso-level 3 -volid KILN_LIVE -appid nixos -publisher nixos -graft-points \
    -full-iso9660-filenames -joliet \
    -eltorito-boot "$bios_img" -eltorito-catalog .boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
    --grub2-boot-info --sort-weight 1 /boot \
    --grub2-mbr "$mbr" \
    -eltorito-alt-boot -e boot/efi.img -no-emul-boot -isohybrid-gpt-basdat \
    -r -path-list "$work/pathlist" --sort-weight 0 / -output "$work/stock.iso" >/dev/null 2>&1
}
x_times=()
for i in $(seq "$runs"); do
  t0=$(now); stock_iso; t1=$(now)
  x_times+=("$(echo "$t1 - $t0" | bc)")
done
xorriso -indev "$work/stock.iso" -report_el_torito plain 2>/dev/null | grep -q ' UEFI ' \
  || echo "note: the stock ISO has no UEFI El Torito entry" >&2

if [ -n "${BENCH_ZSTD19:-}" ]; then
  t0=$(now); squash 19 "$work/s19.sqfs"; t19=$(echo "$(now) - $t0" | bc)
fi

k=$(median "${kiln_times[@]}"); s=$(median "${sq_times[@]}"); x=$(median "${x_times[@]}")
ks=$(median "${kiln_sq[@]}"); ki=$(median "${kiln_iso[@]}")
st=$(echo "$s + $x" | bc)
f1() { printf '%.1f' "$1"; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && printf '%.2f' "$(echo "scale=4; $1 / $2" | bc)" || echo -; }
row() { printf '| %-46s | %7s | %7s | %5s | %8s | %9s | %5s |\n' "$@"; }
ksize=$(stat -c %s "$work/k.sqfs"); ssize=$(stat -c %s "$work/s.sqfs")
kisize=$(stat -c %s "$iso"); sisize=$(stat -c %s "$work/stock.iso")
echo "tree: $files entries, $mb MB (the live root); zstd level $level; $cores cores; median of $runs runs"
row "what" "kiln s" "stock s" "ratio" "kiln MiB" "stock MiB" "ratio"
row "live root squashfs (libsquashfs / mksquashfs)" "$ks" "$(f1 "$s")" "$(ratio "$ks" "$s")" "$(mib "$work/k.sqfs")" "$(mib "$work/s.sqfs")" "$(ratio "$ksize" "$ssize")"
row "ISO image (libisoburn / xorriso)" "$ki" "$(f1 "$x")" "$(ratio "$ki" "$x")" "$(mib "$iso")" "$(mib "$work/stock.iso")" "$(ratio "$kisize" "$sisize")"
row "kiln build / mksquashfs + xorriso" "$(f1 "$k")" "$(f1 "$st")" "$(ratio "$k" "$st")" "$(mib "$iso")" "$(mib "$work/stock.iso")" "$(ratio "$kisize" "$sisize")"
[ -n "${BENCH_ZSTD19:-}" ] && row "mksquashfs at zstd 19 (NixOS's ISOs), one run" "" "$(f1 "$t19")" "" "" "$(mib "$work/s19.sqfs")" ""
echo "kiln build's stages (last run; the stock side does only what 'writing squashfs' and 'writing the ISO' do):"
grep -E 'done in [0-9.]+s' "$work/k.log" | sed -E 's/^(.*): done in ([0-9.]+)s.*/\2 \1/' \
  | awk '{t = $1; $1 = ""; printf "  %-60s %6s s\n", substr($0, 2), t}'
