# A small module system with NixOS merge semantics for definitions: modules are attribute
# sets or functions of { config, pkgs, lib, ... }; `imports`; priorities (mkDefault,
# mkForce, mkOverride); mkIf; mkMerge; attribute sets merge recursively, lists concatenate,
# other values must agree. Options are not declared yet (issue "The NixOS module system").
{ lib, modules, specialArgs }:
let
  inherit (builtins) isAttrs isList isFunction attrNames concatMap filter foldl' head tail length all;

  # Loads a module (path, function or set) and the modules it imports, each tagged with its file.
  load = file: m:
    let
      fn = if isFunction m then m else (_: m);
      value = fn (specialArgs // { inherit config lib; });
      imports = value.imports or [ ];
      body = removeAttrs value [ "imports" "_file" ];
    in [ { file = value._file or file; config = body.config or (removeAttrs body [ "options" ]); } ]
       ++ concatMap (i: if isAttrs i || isFunction i then load file i else load (toString i) (import i)) imports;

  loaded = concatMap (m: if builtins.isPath m then load (toString m) (import m) else load "<unknown>" m) modules;

  # Pushes mkIf/mkMerge down and returns a list of { file, value } definitions.
  discharge = file: v:
    if isAttrs v && v ? _type then
      if v._type == "if" then (if v.condition then discharge file v.content else [ ])
      else if v._type == "merge" then concatMap (discharge file) v.contents
      else [ { inherit file; value = v; } ]
    else [ { inherit file; value = v; } ];

  priorityOf = d: if isAttrs d.value && (d.value._type or null) == "override" then d.value.priority else 100;
  strip = d: if isAttrs d.value && (d.value._type or null) == "override" then d // { value = d.value.content; } else d;

  showPath = path: builtins.concatStringsSep "." path;

  mergeDefs = path: defs0:
    let
      defs1 = concatMap (d: discharge d.file d.value) defs0;
      best = foldl' (acc: d: if priorityOf d < acc then priorityOf d else acc) 9999 defs1;
      defs = map strip (filter (d: priorityOf d == best) defs1);
      values = map (d: d.value) defs;
      isPlainSet = v: isAttrs v && !(v ? _type);
    in
      if defs == [ ] then throw "the option `${showPath path}' has no definition left after mkIf"
      else if all isPlainSet values then
        let names = attrNames (foldl' (a: b: a // b) { } values);
        in builtins.listToAttrs (map (name: {
             inherit name;
             value = mergeDefs (path ++ [ name ]) (concatMap (d: if d.value ? ${name} then [ { inherit (d) file; value = d.value.${name}; } ] else [ ]) defs);
           }) names)
      else if all isList values then concatMap (v: v) values
      else if all (v: v == head values) values then head values
      else throw ("conflicting definitions for the option `${showPath path}':\n"
        + builtins.concatStringsSep "\n" (map (d: "  - in ${d.file}: ${builtins.toJSON d.value}") defs));

  config = mergeDefs [ ] (map (m: { inherit (m) file; value = m.config; }) loaded);

  # Which file asked for which package, so the resolver can name it.
  packageRequests = concatMap (m:
    let
      defs = if isAttrs m.config && m.config ? environment && m.config.environment ? systemPackages
             then discharge m.file m.config.environment.systemPackages else [ ];
    in concatMap (d: map (p: { inherit (d) file; name = p.pname or (throw "environment.systemPackages in ${d.file} holds something that is not a package"); }) (if isAttrs d.value && d.value ? _type then (if d.value._type == "override" then d.value.content else [ ]) else d.value)) defs
  ) loaded;
in { inherit config packageRequests; }
