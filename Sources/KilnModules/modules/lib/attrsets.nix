# lib.attrsets, after nixpkgs' lib/attrsets.nix (MIT).
{ lib }:
let
  inherit (builtins) head tail length isAttrs isList attrNames attrValues listToAttrs mapAttrs
    filter concatMap zipAttrsWith elemAt foldl';
in
rec {
  inherit (builtins) attrNames attrValues listToAttrs mapAttrs hasAttr getAttr removeAttrs
    intersectAttrs catAttrs zipAttrsWith isAttrs;
  attrByPath = attrPath: default: set:
    let
      lenAttrPath = length attrPath;
      attrByPath' = n: s:
        if n == lenAttrPath then s
        else let attr = elemAt attrPath n; in
          if s ? ${attr} then attrByPath' (n + 1) s.${attr} else default;
    in attrByPath' 0 set;
  hasAttrByPath = attrPath: e:
    let
      lenAttrPath = length attrPath;
      hasAttrByPath' = n: s:
        n == lenAttrPath || (let attr = elemAt attrPath n; in
          if s ? ${attr} then hasAttrByPath' (n + 1) s.${attr} else false);
    in hasAttrByPath' 0 e;
  setAttrByPath = attrPath: value:
    let
      len = length attrPath;
      atDepth = n: if n == len then value else { ${elemAt attrPath n} = atDepth (n + 1); };
    in atDepth 0;
  getAttrFromPath = attrPath: set:
    attrByPath attrPath (abort ("cannot find attribute `" + builtins.concatStringsSep "." attrPath + "'")) set;
  attrVals = nameList: set: map (x: set.${x}) nameList;
  getAttrs = names: attrs: genAttrs names (name: attrs.${name});
  filterAttrs = pred: set:
    listToAttrs (concatMap (name: let v = set.${name}; in if pred name v then [ (nameValuePair name v) ] else [ ]) (attrNames set));
  filterAttrsRecursive = pred: set:
    listToAttrs (concatMap (name:
      let v = set.${name}; in
      if pred name v then [ (nameValuePair name (if isAttrs v then filterAttrsRecursive pred v else v)) ] else [ ]
    ) (attrNames set));
  foldlAttrs = f: init: set: foldl' (acc: name: f acc name set.${name}) init (attrNames set);
  foldAttrs = op: nul: list_of_attrs:
    foldl' (a: n: foldl' (o: name: o // { ${name} = op n.${name} (a.${name} or nul); }) a (attrNames n)) { }
      (lib.reverseList list_of_attrs);
  collect = pred: attrs:
    if pred attrs then [ attrs ]
    else if isAttrs attrs then concatMap (collect pred) (attrValues attrs)
    else [ ];
  cartesianProduct = attrsOfLists:
    foldl' (listOfAttrs: attrName:
      concatMap (attrs: map (listValue: attrs // { ${attrName} = listValue; }) attrsOfLists.${attrName}) listOfAttrs
    ) [ { } ] (attrNames attrsOfLists);
  nameValuePair = name: value: { inherit name value; };
  mapAttrs' = f: set: listToAttrs (map (attr: f attr set.${attr}) (attrNames set));
  mapAttrsToList = f: attrs: map (name: f name attrs.${name}) (attrNames attrs);
  attrsToList = mapAttrsToList nameValuePair;
  concatMapAttrs = f: v: foldl' (a: b: a // b) { } (attrValues (mapAttrs f v));
  mapAttrsRecursive = f: set: mapAttrsRecursiveCond (as: true) f set;
  mapAttrsRecursiveCond = cond: f: set:
    let
      recurse = path: mapAttrs (name: value:
        if isAttrs value && cond value then recurse (path ++ [ name ]) value else f (path ++ [ name ]) value);
    in recurse [ ] set;
  genAttrs = names: f: listToAttrs (map (n: nameValuePair n (f n)) names);
  isDerivation = value: value.type or null == "derivation";
  toDerivation = path:
    let path' = builtins.storePath path;
    in { type = "derivation"; name = lib.getName path'; outPath = path'; outputs = [ "out" ]; out = path'; };
  optionalAttrs = cond: as: if cond then as else { };
  zipAttrsWithNames = names: f: sets:
    listToAttrs (map (name: { inherit name; value = f name (builtins.catAttrs name sets); }) names);
  zipAttrs = zipAttrsWith (name: values: values);
  mergeAttrsList = list:
    let
      binaryMerge = start: end:
        if end - start >= 2 then
          binaryMerge start (start + (end - start) / 2) // binaryMerge (start + (end - start) / 2) end
        else elemAt list start;
    in if list == [ ] then { } else binaryMerge 0 (length list);
  recursiveUpdateUntil = pred: lhs: rhs:
    let
      f = attrPath: zipAttrsWith (n: values:
        let here = attrPath ++ [ n ]; in
        if length values == 1 || pred here (elemAt values 1) (head values) then head values
        else f here values);
    in f [ ] [ rhs lhs ];
  recursiveUpdate = lhs: rhs: recursiveUpdateUntil (path: lhs: rhs: !(isAttrs lhs && isAttrs rhs)) lhs rhs;
  matchAttrs = pattern: attrs:
    assert isAttrs pattern;
    builtins.all (n:
      let pat = pattern.${n}; in
      attrs ? ${n} && (if isAttrs pat && isAttrs attrs.${n} then matchAttrs pat attrs.${n} else pat == attrs.${n})
    ) (attrNames pattern);
  overrideExisting = old: new: mapAttrs (name: value: new.${name} or value) old;
  showAttrPath = path: if path == [ ] then "<root attribute path>" else builtins.concatStringsSep "." (map lib.strings.escapeNixIdentifier path);
  getOutput = output: pkg:
    if !pkg ? outputSpecified || !pkg.outputSpecified then pkg.${output} or pkg.out or pkg else pkg;
  getBin = getOutput "bin";
  getLib = getOutput "lib";
  getDev = getOutput "dev";
  getMan = getOutput "man";
  recurseIntoAttrs = attrs: attrs // { recurseForDerivations = true; };
  dontRecurseIntoAttrs = attrs: attrs // { recurseForDerivations = false; };
  unionOfDisjoint = x: y:
    let
      intersection = builtins.intersectAttrs x y;
      collisions = builtins.concatStringsSep " " (attrNames intersection);
      mask = mapAttrs (name: value: throw "unionOfDisjoint: collision on ${name}; complete list: ${collisions}") intersection;
    in (x // y) // mask;
}
