#!/usr/bin/env bash
# The bad-input corpus: profiles, locks, cache states and CLI misuse that must fail, each
# with the exact exit status and the first line of the message it must give, and each
# leaving nothing behind (no image, no .tmp file, no partial lock, no process).
#
# Usage: Tests/bad-input.sh BUILD_DIR [CASE...]   (BUILD_DIR holds the `kiln` under test)
# Env:   KILN_CACHE_DIR  the package cache the cases share (scripts/test.sh sets it; else a
#                        temporary one, filled by the first case that needs the index)
#        KILN_BADINPUT_TIMEOUT  seconds each setup and each command may take (default 120)
#
# A case is a folder Tests/bad-input/cases/NAME/ holding
#   cmd      one line of shell, run in a fresh copy of the folder (relative paths only);
#            `kiln` is the binary under test (a shell function, also on PATH), with
#            KILN_CACHE_DIR exported (a case may set its own: `KILN_CACHE_DIR=c kiln ...`)
#   exit     the exact exit status
#   message  the exact first line of the combined stdout+stderr that starts with
#            `error:` (or `Error:`, what ArgumentParser prints for usage errors), after
#            replacing $CASE with the copy's absolute path and $CACHE with the cache dir
#   setup    optional: a bash script run first (same user, same folder, same env) to
#            prepare the state, e.g. a lock made by `kiln lock` and then damaged
#   contains optional: lines that must each appear in the output (substrings; $CASE and
#            $CACHE replaced), e.g. the file:line:column a syntax error points at
#   leaves   optional: paths (bash patterns, relative to the folder) the command may
#            create or change; anything else new, changed or removed in the folder fails
#   any input files.
# Besides the folder, each case's TMPDIR must be empty afterwards, the shared cache must
# hold no leftover (*.tmp-PID, .download-PID, *.old-PID of a dead PID), and no process of
# the case may still run. As root, everything runs as the unprivileged user kiln-ci.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=$(cd "${1:?usage: bad-input.sh BUILD_DIR [CASE...]}" && pwd)
shift
cases="$repo/Tests/bad-input/cases"
limit=${KILN_BADINPUT_TIMEOUT:-120}
t_start=$(date +%s)

passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

work=$(mktemp -d /tmp/kiln-badinput.XXXXXX)
chmod 0755 "$work"
cleanup() { chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if [ "$(id -u)" -eq 0 ]; then
  id kiln-ci >/dev/null 2>&1 || useradd --create-home --shell /bin/bash kiln-ci
  user=kiln-ci; home=$(getent passwd kiln-ci | cut -d: -f6)
  runas() { runuser -u kiln-ci -- "$@"; }
  chown kiln-ci: "$work"
else
  user=$(id -un); home=${HOME:-/tmp}
  runas() { "$@"; }
fi
mkdir -p "$work/bin" && cp "$builddir/kiln" "$work/bin/kiln" && chmod -R a+rx "$work/bin"
bin="$work/bin/kiln"
cache=${KILN_CACHE_DIR:-$work/cache}
runas mkdir -p "$cache" "$work/cases" "$work/tmp" || { echo "cannot create the cache $cache as $user"; echo "0 passed, 1 failed"; exit 1; }

# Runs a case's setup or command as the case's user, in its copy, with a clean environment
# (no KILN_MODULES_DIR or KILN_SHOW_TRACE from the caller), under a timeout that kills
# the whole process group.
cat > "$work/drive.sh" <<'EOF'
#!/usr/bin/env bash
# drive.sh setup|cmd COPY
cd "$2" || exit 125
kiln() { "$KILN_BIN" "$@"; }
export -f kiln
case $1 in
  setup) exec bash ./setup ;;
  cmd) eval "$(head -n 1 ./cmd)" ;;
esac
EOF
chmod a+rx "$work/drive.sh"
cd "$work"   # a folder the case's user may enter
# The host's proxy settings, if any, for APT.
proxies=(); for v in http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY; do
  [ -n "${!v:-}" ] && proxies+=("$v=${!v}")
done
drive() {  # MODE COPY TMPDIR OUTFILE
  runas env -i "${proxies[@]}" HOME="$home" USER="$user" LOGNAME="$user" PATH="$work/bin:$PATH" LANG=C.UTF-8 CI=1 \
    TMPDIR="$3" KILN_CACHE_DIR="$cache" KILN_BIN="$bin" \
    timeout -k 5 "$limit" bash "$work/drive.sh" "$1" "$2" >"$4" 2>&1
}

# Every entry of a folder: type, mode, size and content hash (or link target), one a line
# (a folder's size is left out: it grows with entries made and deleted again).
snapshot() {
  (cd "$1" && find . -mindepth 1 \( -type d -printf 'd %m 0 %P -> \n' -o -printf '%y %m %s %P -> %l\n' \) | sort
   find . -type f -exec sha256sum {} + 2>/dev/null | sed 's|  \./|  |' | sort -k2)
}

# Processes still running that belong to the case: the kiln under test, or anything whose
# working directory is in the case's copy. Zombies are not running.
leftover_processes() {
  local link target pid state
  find /proc/[0-9]*/ -maxdepth 1 \( -name exe -o -name cwd \) -printf '%p %l\n' 2>/dev/null |
  while read -r link target; do
    [ "$target" = "$bin" ] || [ "$target" = "$1" ] || [[ "$target" == "$1"/* ]] || continue
    pid=${link#/proc/}; pid=${pid%%/*}
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ] && echo "$pid"
  done | sort -u
}

# Leftovers of dead kiln processes in the shared cache (KilnPaths.sweep's names).
cache_leftovers() {
  local f pid
  find "$cache" -maxdepth 2 \( -name '*.tmp-*' -o -name '*.old-*' -o -name '*.download-*' \) 2>/dev/null |
  while read -r f; do
    pid=${f##*-}
    [[ "$pid" =~ ^[0-9]+$ ]] && [ ! -d "/proc/$pid" ] && echo "$f"
  done | sort
}

subst() { local s=$1; s=${s//'$CASE'/$2}; s=${s//'$CACHE'/$cache}; printf '%s' "$s"; }

if [ $# -gt 0 ]; then names=("$@"); else
  names=(); for d in "$cases"/*/; do names+=("$(basename "$d")"); done
fi
for name in "${names[@]}"; do
  src="$cases/$name"
  if [ ! -f "$src/cmd" ] || [ ! -f "$src/exit" ] || [ ! -f "$src/message" ]; then
    fail "$name" "malformed case: it needs cmd, exit and message"; continue
  fi
  copy="$work/cases/$name"; tmp="$work/tmp/$name"; out="$work/$name.out"
  cp -a "$src" "$copy" && runas mkdir -p "$tmp"
  [ "$(id -u)" -eq 0 ] && chown -R kiln-ci: "$copy"
  copy=$(cd "$copy" && pwd -P)
  if [ -f "$copy/setup" ]; then
    if ! drive setup "$copy" "$tmp" "$work/$name.setup"; then
      fail "$name" "setup failed: $(tail -3 "$work/$name.setup" | tr '\n' ' ')"; continue
    fi
  fi
  snapshot "$copy" >"$work/$name.before"
  tmp_before=$(ls -A "$tmp")
  cache_before=$(cache_leftovers)
  drive cmd "$copy" "$tmp" "$out"; rc=$?
  sleep 0.1
  problems=()

  want_rc=$(head -n 1 "$src/exit")
  [ "$rc" = "$want_rc" ] || problems+=("expected exit $want_rc, got $rc")
  want=$(subst "$(head -n 1 "$src/message")" "$copy")
  got=$(grep -m 1 -E '^[Ee]rror:' "$out")
  [ "$got" = "$want" ] || problems+=("expected message '$want', got '${got:-(no error: line)}'")
  if [ -f "$src/contains" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      [ -z "$line" ] && continue
      line=$(subst "$line" "$copy")
      grep -qF -- "$line" "$out" || problems+=("output lacks '$line'")
    done <"$src/contains"
  fi

  procs=$(leftover_processes "$copy")
  if [ -n "$procs" ]; then
    problems+=("processes left running: $(for p in $procs; do echo -n "[$p] $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"; done)")
    for p in $procs; do kill -9 "$p" 2>/dev/null; done
  fi

  snapshot "$copy" >"$work/$name.after"
  changed=$(diff "$work/$name.before" "$work/$name.after" | sed -n 's/^[<>] //p' |
            sed -E 's/^[a-z] [0-7]+ [0-9]+ (.*) -> .*$/\1/; s/^[0-9a-f]{64}  //' | sort -u)
  left=()
  while IFS= read -r path; do
    [ -z "$path" ] && continue
    allowed=
    if [ -f "$src/leaves" ]; then
      while IFS= read -r pat || [ -n "$pat" ]; do
        [ -n "$pat" ] && [[ "$path" == $pat ]] && allowed=1
      done <"$src/leaves"
    fi
    [ -n "$allowed" ] || left+=("$path")
  done <<<"$changed"
  [ ${#left[@]} -eq 0 ] || problems+=("left new, changed or removed in its folder: ${left[*]}")
  tmp_after=$(ls -A "$tmp")
  [ "$tmp_after" = "$tmp_before" ] || problems+=("left in TMPDIR: $(echo $tmp_after)")
  leftovers=$(comm -13 <(echo "$cache_before") <(cache_leftovers))
  [ -z "$leftovers" ] || problems+=("left in the cache: $(echo $leftovers)")

  if [ ${#problems[@]} -eq 0 ]; then
    pass "$name"
  else
    msg=${problems[0]}; for p in "${problems[@]:1}"; do msg+="; $p"; done
    fail "$name" "$msg"
    sed 's/^/    | /' "$out" | head -20
  fi
  chmod -R u+rwX "$copy" "$tmp" 2>/dev/null; rm -rf "$copy" "$tmp"
done

echo "bad-input: ${#names[@]} cases in $(( $(date +%s) - t_start )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
