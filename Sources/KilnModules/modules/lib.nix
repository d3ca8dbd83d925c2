# The part of nixpkgs' lib that Kiln's modules and profiles use so far.
# Issue "The NixOS module system" grows this into the full set.
let
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
in rec {
  inherit mkOverride;
  mkDefault = mkOverride 1000;
  mkForce = mkOverride 50;
  mkOptionDefault = mkOverride 1500;
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };

  optional = cond: x: if cond then [ x ] else [ ];
  optionals = cond: xs: if cond then xs else [ ];
  optionalString = cond: s: if cond then s else "";
  optionalAttrs = cond: as: if cond then as else { };
  concatStringsSep = builtins.concatStringsSep;
  concatMapStringsSep = sep: f: list: builtins.concatStringsSep sep (map f list);
  mapAttrs = builtins.mapAttrs;
  mapAttrsToList = f: attrs: map (name: f name attrs.${name}) (builtins.attrNames attrs);
  attrValues = builtins.attrValues;
  attrNames = builtins.attrNames;
  filterAttrs = pred: set:
    builtins.listToAttrs (builtins.concatMap (name: let v = set.${name}; in if pred name v then [ { inherit name; value = v; } ] else [ ]) (builtins.attrNames set));
  hasPrefix = pref: str: builtins.substring 0 (builtins.stringLength pref) str == pref;
  hasSuffix = suffix: content:
    let lenContent = builtins.stringLength content; lenSuffix = builtins.stringLength suffix;
    in lenContent >= lenSuffix && builtins.substring (lenContent - lenSuffix) lenContent content == suffix;
  foldl' = builtins.foldl';
  flatten = x: if builtins.isList x then builtins.concatMap (y: flatten y) x else [ x ];
  genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  nameValuePair = name: value: { inherit name value; };
  listToAttrs = builtins.listToAttrs;
}
