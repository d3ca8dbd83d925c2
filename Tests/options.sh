#!/usr/bin/env bash
# Evaluates the option-module test profiles in Tests/nix-modules/options with Kiln's
# shipped modules (module-list.nix + hardware/qemu-x86_64.nix + the profile, as Kiln does)
# and checks selected option values.
#
#   Tests/options.sh BUILD_DIR        # uses BUILD_DIR/kiln
#   KILN=/path/to/kiln Tests/options.sh
#   NIX=1 ...                         # also evaluate with nix-instantiate (the reference)
#   Tests/options.sh BUILD_DIR NAME…  # only these cases
#
# A case is NAME.nix (a module) with NAME.exp.json, an object whose keys are a config path
# and an optional check, e.g. "environment.etc.\"ssh/sshd_config\".text contains":
#   "PATH"                the value equals the JSON value
#   "PATH contains"       the string value (a list of strings: its lines) contains the string
#                         (or each string of a list)
#   "PATH lacks"          the string value contains none of them
#   "PATH has"            the list contains each element / the set has each key
#   "PATH has-not"        … contains none of them
#   "PATH packages"       the list of packages has one with each pname
#   "PATH packages-not"   … has none of them
#   "error"               evaluation fails, and its message contains each string
# Path components are separated by dots; "quoted" components may contain dots and slashes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cases="$here/nix-modules/options"
export KILN_MODULES_DIR="$root/Sources/KilnModules/modules"

if [ -n "${KILN:-}" ]; then
  kiln=$KILN
elif [ $# -ge 1 ]; then
  if [ -d "$1" ]; then kiln="$1/kiln"; else kiln=$1; fi
  shift
else
  echo "usage: $0 BUILD_DIR [NAME...]   (or KILN=/path/to/kiln $0)" >&2
  exit 2
fi
[ -x "$kiln" ] || { echo "$kiln is not an executable" >&2; exit 2; }

evaluators=(kiln)
if [ -n "${NIX:-}" ] && command -v nix-instantiate >/dev/null 2>&1; then evaluators+=(nix); fi

expr() { # profile -> the expression that evaluates it (the config, forced, as JSON)
  # Functions (functionTo options such as services.netdata.python.extraPackages) have no JSON.
  echo "let plain = v: if builtins.isFunction v then \"<function>\" else if builtins.isAttrs v then builtins.mapAttrs (_: plain) v else if builtins.isList v then map plain v else v;"
  echo "in plain (import $cases/eval.nix { profile = $1; hardware = $root/hardware/qemu-x86_64.nix; }).config"
}
run() { # evaluator profile
  case $1 in
    kiln) "$kiln" eval --strict --json -E "$(expr "$2")" ;;
    nix) nix-instantiate --store dummy:// --eval --strict --json -E "$(expr "$2")" ;;
  esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0

all_cases=0; if [ $# -gt 0 ]; then names=("$@"); else all_cases=1
  names=(); for f in "$cases"/*.exp.json; do n=$(basename "$f" .exp.json); names+=("$n"); done
fi

for name in "${names[@]}"; do
  profile="$cases/$name.nix"
  for ev in "${evaluators[@]}"; do
    label="$name${NIX:+ ($ev)}"
    run "$ev" "$profile" >"$tmp/out" 2>"$tmp/err"
    status=$?
    if python3 - "$cases/$name.exp.json" "$tmp/out" "$tmp/err" "$status" >"$tmp/why" 2>&1 <<'PY'
import json, re, sys
exp = json.load(open(sys.argv[1]))
out, err, status = open(sys.argv[2]).read(), open(sys.argv[3]).read(), int(sys.argv[4])
problems = []
if "error" in exp:
    if status == 0:
        problems.append("evaluation succeeded, but an error was expected")
    for s in exp["error"]:
        if s not in err:
            problems.append(f"the error does not say {s!r}")
    if problems:
        problems.append("stderr: " + err.strip()[:2000])
else:
    if status != 0:
        print("evaluation failed:\n" + err.strip()[:3000]); sys.exit(1)
    config = json.loads(out)
    def parse(path):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"|([^.]+)', path)
        return [q.replace('\\"', '"') if q else p for q, p in parts]
    def get(path):
        v = config
        for p in parse(path):
            if isinstance(v, dict) and p in v: v = v[p]
            elif isinstance(v, list) and p.isdigit() and int(p) < len(v): v = v[int(p)]
            else: raise KeyError(p)
        return v
    def many(x): return x if isinstance(x, list) else [x]
    for key, want in exp.items():
        path, _, op = key.partition(" ")
        try:
            v = get(path)
        except KeyError as e:
            problems.append(f"{path}: no {e.args[0]!r}"); continue
        if op == "":
            if v != want: problems.append(f"{path} is {json.dumps(v)}, expected {json.dumps(want)}")
        elif op in ("contains", "lacks"):
            # A list of strings (warnings, kernelParams) is read as its lines.
            if isinstance(v, list) and all(isinstance(x, str) for x in v): v = "\n".join(v)
            if not isinstance(v, str): problems.append(f"{path} is not a string: {json.dumps(v)[:200]}"); continue
            for s in many(want):
                if (s in v) != (op == "contains"):
                    problems.append(f"{path} {'lacks' if op == 'contains' else 'contains'} {s!r}; it is:\n{v}")
        elif op in ("has", "has-not"):
            for s in many(want):
                if (s in v) != (op == "has"):
                    problems.append(f"{path} {'lacks' if op == 'has' else 'has'} {json.dumps(s)}")
        elif op in ("packages", "packages-not"):
            names = [p.get("pname") for p in v if isinstance(p, dict)]
            for s in many(want):
                if (s in names) != (op == "packages"):
                    problems.append(f"{path} {'lacks' if op == 'packages' else 'has'} the package {s!r} ({names})")
        else:
            problems.append(f"unknown check {op!r} in {key!r}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
    then
      echo "PASS $label"; pass=$((pass + 1))
    else
      echo "FAIL $label"; sed 's/^/    /' "$tmp/why"; fail=$((fail + 1))
    fi
  done
done
# The README's option table is generated from the modules (scripts/option-summary.sh).
if [ "$all_cases" = 1 ]; then
  if "$root/scripts/option-summary.sh" --check "$kiln" 2>"$tmp/why"; then
    echo "PASS README option table"; pass=$((pass + 1))
  else
    echo "FAIL README option table"; sed 's/^/    /' "$tmp/why"; fail=$((fail + 1))
  fi
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
