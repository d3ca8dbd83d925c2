# A sample of lib's attribute-set and generator functions (nixpkgs behaviour).
let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
with lib; {
  mapAttrs = mapAttrs (n: v: n + v) { a = "x"; b = "y"; };
  mapAttrs' = mapAttrs' (n: v: nameValuePair ("foo_" + n) ("bar-" + v)) { x = "a"; y = "b"; };
  mapAttrsToList = mapAttrsToList (n: v: n + v) { x = "a"; y = "b"; };
  mapAttrsRecursive = mapAttrsRecursive (path: value: concatStringsSep "-" (path ++ [ value ])) { n = { a = "A"; m = { b = "B"; c = "C"; }; }; d = "D"; };
  mapAttrsRecursiveCond = mapAttrsRecursiveCond (as: !(as ? stop)) (p: v: length p) { a.b = 1; c = { stop = 1; x = 2; }; };
  filterAttrs = filterAttrs (n: v: n == "foo") { foo = 1; bar = 2; };
  filterAttrsRecursive = filterAttrsRecursive (n: v: v != null) { foo = { bar = null; x = 1; }; y = null; };
  attrValues = attrValues { c = 3; a = 1; b = 2; };
  attrNames = attrNames { c = 3; a = 1; };
  attrByPath = [ (attrByPath [ "a" "b" ] 6 { a = { b = 3; }; }) (attrByPath [ "z" "z" ] 6 { a = { b = 3; }; }) (attrByPath [ ] 0 { x = 1; }) ];
  setAttrByPath = setAttrByPath [ "a" "b" ] 3;
  getAttrFromPath = getAttrFromPath [ "a" "b" ] { a = { b = 3; }; };
  hasAttrByPath = [ (hasAttrByPath [ "a" "b" ] { a.b = 1; }) (hasAttrByPath [ "a" "c" ] { a.b = 1; }) (hasAttrByPath [ "a" "b" "c" ] { a.b = 1; }) ];
  genAttrs = genAttrs [ "foo" "bar" ] (name: "x_" + name);
  listToAttrs = listToAttrs [ (nameValuePair "a" 1) (nameValuePair "a" 2) (nameValuePair "b" 3) ];
  zipAttrsWith = zipAttrsWith (name: values: values) [ { a = "x"; } { a = "y"; b = "z"; } ];
  zipAttrs = zipAttrs [ { a = 1; } { a = 2; } ];
  foldAttrs = foldAttrs (item: acc: [ item ] ++ acc) [ ] [ { a = 2; } { a = 3; b = 1; } ];
  collect = [ (collect isList { a = { b = [ "b" ]; }; c = [ 1 ]; }) (collect (x: x ? outPath) { a = { outPath = "a/"; }; b = { outPath = "b/"; }; }) ];
  recursiveUpdate = recursiveUpdate { boot.loader.grub.enable = true; boot.loader.grub.device = "/dev/hda"; } { boot.loader.grub.device = ""; x = 1; };
  recursiveUpdateUntil = recursiveUpdateUntil (path: l: r: path == [ "foo" ]) { foo.bar = 1; foo.baz = 2; bar = 3; } { foo.bar = 1; foo.quz = 2; baz = 4; };
  optionalAttrs = [ (optionalAttrs true { a = 1; }) (optionalAttrs false { a = 1; }) ];
  catAttrs = catAttrs "a" [ { a = 1; } { b = 0; } { a = 2; } ];
  attrVals = attrVals [ "a" "b" ] { a = 1; b = 2; c = 3; };
  getAttrs = getAttrs [ "a" "b" ] { a = 1; b = 2; c = 3; };
  matchAttrs = [ (matchAttrs { cpu = { }; } { cpu = { bits = 64; }; }) (matchAttrs { cpu.bits = 32; } { cpu = { bits = 64; }; }) ];
  overrideExisting = overrideExisting { a = 1; } { a = 2; b = 3; };
  cartesianProduct = cartesianProduct { a = [ 1 2 ]; b = [ 10 20 ]; };
  attrsToList = attrsToList { a = 1; b = 2; };
  concatMapAttrs = concatMapAttrs (name: value: { ${name} = value; ${name + value} = value; }) { x = "a"; y = "b"; };
  foldlAttrs = foldlAttrs (acc: name: value: acc + value) 0 { a = 1; b = 2; };
  mergeAttrsList = mergeAttrsList [ { a = 0; b = 1; } { c = 2; d = 3; } { a = 4; } ];
  isDerivation = [ (isDerivation { type = "derivation"; }) (isDerivation { }) ];
  showAttrPath = [ (showAttrPath [ "foo" "10" "bar" ]) (showAttrPath [ ]) ];
  showOption = [ (showOption [ "fileSystems" "/" "fsType" ]) (showOption [ "users" "users" "<name>" "home" ]) (showOption [ "a" "*" "b" ]) ];
  unionOfDisjoint = unionOfDisjoint { a = 1; } { b = 2; };
  toKeyValue = generators.toKeyValue { } { a = 1; b = "x y"; c = true; };
  toKeyValueDup = generators.toKeyValue { listsAsDuplicateKeys = true; } { a = [ 1 2 ]; b = 3; };
  toINI = generators.toINI { } { foo = { hi = "\${pkgs.hello}"; ciao = "bar"; }; baz = { "also, integers" = 42; }; };
  toINIsep = generators.toINI { mkKeyValue = generators.mkKeyValueDefault { } " = "; } { s.k = false; };
  toINIWithGlobalSection = generators.toINIWithGlobalSection { } { globalSection = { a = 1; }; sections = { s = { b = 2; }; }; };
  toPretty = [
    (generators.toPretty { } { a = 1; b = [ "x" true null ]; c = { }; d = [ ]; "e f" = 1.5; g = x: x; h = { a, b ? 1 }: a; })
    (generators.toPretty { multiline = false; } { a = [ 1 2 ]; b = "q\"\${x}"; })
    (generators.toPretty { } "line1\nline2\n")
    (generators.toPretty { } { type = "derivation"; name = "hello-1.0"; })
    (generators.toPretty { } { _type = "package"; pname = "bash"; name = "bash"; })
  ];
  mkValueStringDefault = map (generators.mkValueStringDefault { }) [ 1 "a" true false null ];
  literal = [ (literalExpression "pkgs.foo") (literalMD "*x*") (mdDoc "y") ];
}
