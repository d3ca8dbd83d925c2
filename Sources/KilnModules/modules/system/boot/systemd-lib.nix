# Helpers the systemd-related modules share (like nixpkgs' nixos/lib/systemd-lib.nix).
# Not a module: import it with `import ./systemd-lib.nix { inherit lib; }`.
{ lib }:
let
  inherit (builtins) isList isBool isInt isString isPath isAttrs all any concatMap concatStringsSep
    attrNames replaceStrings filter toString;

  # A package or written object (ExecStart = pkgs.writeShellScript …) stands for its path.
  isAtom = v: isString v || isInt v || isBool v || isPath v || (isAttrs v && v ? outPath);
in
rec {
  # The type of a unit setting: a string, integer, boolean, path or package, or a list of them (one
  # line per element). Several definitions concatenate when any is a list, and must agree
  # otherwise, as NixOS's `unitOption`.
  unitOption = lib.mkOptionType {
    name = "systemd option";
    description = "systemd unit setting (string, integer, boolean, path, package or a list of them)";
    check = v: isAtom v || (isList v && all isAtom v);
    merge = loc: defs:
      if any (d: isList d.value) defs then concatMap (d: if isList d.value then d.value else [ d.value ]) defs
      else
        let first = (builtins.head defs).value; in
        if all (d: d.value == first) defs then first
        else throw ("The option `${concatStringsSep "." loc}' has conflicting definition values:"
          + concatStringsSep "" (map (d: "\n- In `${d.file}': ${builtins.toJSON d.value}") defs));
  };

  # A unit setting's value as systemd reads it.
  unitValue = v: if isBool v then (if v then "true" else "false") else toString v;

  # The lines of a unit section: `Key=value`, one line per element of a list, keys sorted.
  # Null values are left out (so a module's setting can be removed with mkForce null).
  section = attrs: concatStringsSep "" (concatMap (k:
    let v = attrs.${k}; in
    if v == null then [ ]
    else if isList v then map (x: "${k}=${unitValue x}\n") v
    else [ "${k}=${unitValue v}\n" ]) (attrNames attrs));

  # One `Environment=` line: the assignment in double quotes with C-style escapes, and `%`
  # doubled so systemd does not read it as a specifier.
  environmentLine = name: value:
    "Environment=\"" + replaceStrings [ "\\" "\"" "%" "\n" "\t" ] [ "\\\\" "\\\"" "%%" "\\n" "\\t" ] "${name}=${value}" + "\"\n";

  # A path as a unit name, as `systemd-escape --path` does for the common characters:
  # "/var/swapfile" → "var-swapfile".
  escapeSystemdPath = path:
    let
      trimmed = lib.removePrefix "/" (lib.removeSuffix "/" path);
    in if trimmed == "" then "-"
       else replaceStrings [ "/" ] [ "-" ] (replaceStrings [ "\\" "-" " " ] [ "\\x5c" "\\x2d" "\\x20" ] trimmed);

  # Shell-quoted, for generated scripts: user text never reaches a shell unquoted.
  shellQuote = lib.escapeShellArg;
}
