# lib.generators (the common part), after nixpkgs' lib/generators.nix (MIT).
{ lib }:
let
  inherit (builtins) isInt isFloat isString isList isAttrs isPath isFunction length filter
    concatStringsSep elem mapAttrs;
  inherit (lib) escape isDerivation mapAttrsToList concatStrings concatMapStringsSep;
in
rec {
  mkValueStringDefault = { }: v:
    let err = t: v: abort ("generators.mkValueStringDefault: " + "${t} not supported: ${toPretty { } v}");
    in if isInt v then toString v
    else if isDerivation v then toString v
    else if isString v then v
    else if true == v then "true"
    else if false == v then "false"
    else if null == v then "null"
    else if isList v then err "lists" v
    else if isAttrs v then err "attrsets" v
    else if isFunction v then err "functions" v
    else if isFloat v then lib.strings.floatToString v
    else err "this value is" (toString v);

  mkKeyValueDefault = { mkValueString ? mkValueStringDefault { } }: sep: k: v:
    "${escape [ sep ] k}${sep}${mkValueString v}";

  toKeyValue = { mkKeyValue ? mkKeyValueDefault { } "=", listsAsDuplicateKeys ? false, indent ? "" }:
    let
      mkLine = k: v: indent + mkKeyValue k v + "\n";
      mkLines = if listsAsDuplicateKeys
        then k: v: map (mkLine k) (if isList v then v else [ v ])
        else k: v: [ (mkLine k v) ];
    in attrs: concatStrings (lib.concatLists (mapAttrsToList mkLines attrs));

  toINI = { mkSectionName ? (name: escape [ "[" "]" ] name), mkKeyValue ? mkKeyValueDefault { } "=", listsAsDuplicateKeys ? false }: attrsOfAttrs:
    let
      mkSection = sectName: sectValues:
        "[${mkSectionName sectName}]\n" + toKeyValue { inherit mkKeyValue listsAsDuplicateKeys; } sectValues;
    in concatStringsSep "\n" (mapAttrsToList mkSection attrsOfAttrs);

  toINIWithGlobalSection = { mkSectionName ? (name: escape [ "[" "]" ] name), mkKeyValue ? mkKeyValueDefault { } "=", listsAsDuplicateKeys ? false }:
    { globalSection, sections ? { } }:
    (if globalSection == { } then "" else (toKeyValue { inherit mkKeyValue listsAsDuplicateKeys; } globalSection) + "\n")
    + (toINI { inherit mkSectionName mkKeyValue listsAsDuplicateKeys; } sections);

  # TOML, as nixpkgs' pkgs.formats.toml writes it (there through remarshal, a program Kiln
  # has not got): the scalars of a table first, then its tables as [a.b] and its lists of
  # sets as [[a.b]]. Strings are JSON's basic strings, which TOML reads the same.
  toTOML = { }: attrs:
    let
      key = k: if builtins.match "[A-Za-z0-9_-]+" k != null then k else builtins.toJSON k;
      isTable = v: isAttrs v && !isDerivation v;
      isTables = v: isList v && v != [ ] && lib.all isAttrs v;
      value = v:
        if isString v || isPath v || isDerivation v then builtins.toJSON (toString v)
        else if isList v then "[" + concatMapStringsSep ", " value v + "]"
        else if isFloat v then lib.strings.floatToString v
        else if isAttrs v then "{ " + concatStringsSep ", " (mapAttrsToList (k: x: "${key k} = ${value x}") v) + " }"
        else if v == true then "true" else if v == false then "false"
        else toString v;
      table = path: t:
        let
          names = builtins.attrNames t;
          plain = filter (n: !isTable t.${n} && !isTables t.${n} && t.${n} != null) names;
          subs = filter (n: isTable t.${n}) names;
          lists = filter (n: isTables t.${n}) names;
          header = p: concatStringsSep "." (map key p);
        in concatStrings (map (n: "${key n} = ${value t.${n}}
") plain)
          + concatStrings (map (n: "
[${header (path ++ [ n ])}]
" + table (path ++ [ n ]) t.${n}) subs)
          + concatStrings (map (n: concatStrings (map (e: "
[[${header (path ++ [ n ])}]]
" + table (path ++ [ n ]) e) t.${n})) lists);
    in table [ ] attrs;

  toJSON = { }: builtins.toJSON;
  toYAML = { }: builtins.toJSON;

  withRecursion = { depthLimit, throwOnDepth ? true }: v:
    let
      specialAttrs = [ "__functor" "__functionArgs" "__toString" "__pretty" ];
      stepIntoAttr = evalNext: name: if elem name specialAttrs then lib.id else evalNext;
      transform = depth:
        if depthLimit != null && depth > depthLimit then
          if throwOnDepth
          then throw "Exceeded maximum eval-depth limit of ${toString depthLimit} while trying to evaluate with `generators.withRecursion'!"
          else lib.const "<unevaluated>"
        else lib.id;
      mapAny = depth: v:
        let evalNext = x: mapAny (depth + 1) (transform (depth + 1) x);
        in if isAttrs v then mapAttrs (stepIntoAttr evalNext) v
        else if isList v then map evalNext v
        else transform (depth + 1) v;
    in mapAny 0 v;

  toPretty = { allowPrettyValues ? false, multiline ? true, indent ? "" }:
    let
      go = indent: v:
        let
          introSpace = if multiline then "\n${indent}  " else " ";
          outroSpace = if multiline then "\n${indent}" else " ";
        in if isInt v then toString v
        else if isFloat v then builtins.toJSON v
        else if isString v then
          let
            lines = filter (v: !isList v) (builtins.split "\n" v);
            escapeSingleline = escape [ "\\" "\"" "\${" ];
            escapeMultiline = builtins.replaceStrings [ "\${" "''" ] [ "''\${" "'''" ];
            singlelineResult = "\"" + concatStringsSep "\\n" (map escapeSingleline lines) + "\"";
            multilineResult =
              let
                escapedLines = map escapeMultiline lines;
                lastLine = lib.last escapedLines;
              in "''" + introSpace + concatStringsSep introSpace (lib.init escapedLines)
                + (if lastLine == "" then outroSpace else introSpace + lastLine) + "''";
          in if multiline && length lines > 1 then multilineResult else singlelineResult
        else if true == v then "true"
        else if false == v then "false"
        else if null == v then "null"
        else if isPath v then toString v
        else if isList v then
          if v == [ ] then "[ ]"
          else "[" + introSpace + concatMapStringsSep introSpace (go (indent + "  ")) v + outroSpace + "]"
        else if isFunction v then
          let
            fna = lib.functionArgs v;
            showFnas = concatStringsSep ", " (mapAttrsToList (name: hasDefVal: if hasDefVal then name + "?" else name) fna);
          in if fna == { } then "<function>" else "<function, args: {${showFnas}}>"
        else if isAttrs v then
          if allowPrettyValues && v ? __pretty && v ? val then v.__pretty v.val
          else if v == { } then "{ }"
          else if v ? type && v.type == "derivation" then "<derivation ${v.name or "???"}>"
          else "{" + introSpace
            + concatStringsSep introSpace (mapAttrsToList (name: value:
                "${lib.strings.escapeNixIdentifier name} = ${
                  builtins.addErrorContext "while evaluating an attribute `${name}`" (go (indent + "  ") value)
                };") v)
            + outroSpace + "}"
        else abort "generators.toPretty: should never happen (v = ${v})";
    in go indent;
}
