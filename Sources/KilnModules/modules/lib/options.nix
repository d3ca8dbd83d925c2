# lib.options: declaring options and showing them, after nixpkgs' lib/options.nix (MIT).
{ lib }:
let
  inherit (builtins) head tail length isAttrs isList isString isFunction isBool isInt all filter
    concatMap concatStringsSep foldl' elem attrNames;
  inherit (lib) optionalAttrs optional last;
in
rec {
  isOption = lib.isType "option";

  mkOption =
    { default ? null, defaultText ? null, example ? null, description ? null, relatedPackages ? null
    , type ? null, apply ? null, internal ? null, visible ? null, readOnly ? null }@attrs:
    attrs // { _type = "option"; };

  mkEnableOption = name: mkOption {
    default = false;
    example = true;
    description = "Whether to enable ${name}.";
    type = lib.types.bool;
  };

  mkPackageOption = pkgs: name:
    { nullable ? false, default ? name, example ? null, extraDescription ? "", pkgsText ? "pkgs" }:
    let
      name' = if isList name then last name else name;
      default' = if isList default then default else [ default ];
      defaultText = concatStringsSep "." default';
      # Plain selection, not attrByPath: Kiln's pkgs answers every name without listing them.
      defaultValue = foldl' (s: n: s.${n}) pkgs default';
      defaults =
        if default != null then { default = defaultValue; defaultText = literalExpression ("${pkgsText}." + defaultText); }
        else optionalAttrs nullable { default = null; };
    in mkOption (defaults // {
      description = "The ${name'} package to use." + (if extraDescription == "" then "" else " ") + extraDescription;
      type = (if nullable then lib.types.nullOr else lib.id) lib.types.package;
    } // optionalAttrs (example != null) {
      example = literalExpression (if isList example then "${pkgsText}." + concatStringsSep "." example else example);
    });

  mkPackageOptionMD = mkPackageOption;
  mkSinkUndeclaredOptions = attrs: mkOption ({
    internal = true;
    visible = false;
    default = false;
    description = "Sink for option definitions.";
    type = lib.types.mkOptionType { name = "sink"; check = x: true; merge = loc: defs: false; };
    apply = x: throw "Option value is not readable because the option is not declared.";
  } // attrs);

  mergeDefaultOption = loc: defs:
    let list = getValues defs; in
    if length list == 1 then head list
    else if all isFunction list then x: mergeDefaultOption loc (map (f: f x) list)
    else if all isList list then lib.concatLists list
    else if all isAttrs list then foldl' lib.mergeAttrs { } list
    else if all isBool list then foldl' lib.or false list
    else if all isString list then lib.concatStrings list
    else if all isInt list && all (x: x == head list) list then head list
    else throw "Cannot merge definitions of `${showOption loc}'. Definition values:${showDefs defs}";

  mergeOneOption = mergeUniqueOption { message = ""; };

  mergeUniqueOption = { message, merge ? loc: defs: (head defs).value }: loc: defs:
    if length defs == 1 then merge loc defs
    else
      assert length defs > 1;
      throw "The option `${showOption loc}' is defined multiple times while it's expected to be unique.\n${message}\nDefinition values:${showDefs defs}\n${prioritySuggestion}";

  mergeEqualOption = loc: defs:
    if defs == [ ] then abort "This case should never happen."
    else if length defs == 1 then (head defs).value
    else (foldl' (first: def:
      if def.value != first.value then
        throw "The option `${showOption loc}' has conflicting definition values:${showDefs [ first def ]}\n${prioritySuggestion}"
      else first) (head defs) (tail defs)).value;

  prioritySuggestion = ''
    Use `lib.mkForce value` or `lib.mkDefault value` to change the priority on any of these definitions.
  '';

  getValues = map (x: x.value);
  getFiles = map (x: x.file);

  # Every option as a documentation entry, like nixpkgs: { name, loc, description, declarations,
  # internal, visible, readOnly, type, default?, example? }; submodule options follow their
  # option with `<name>` / `*` in place of attribute names and list positions.
  optionAttrSetToDocList = optionAttrSetToDocList' [ ];

  optionAttrSetToDocList' = _: options:
    concatMap (opt:
      let
        name = showOption opt.loc;
        docOption = {
          loc = opt.loc;
          inherit name;
          description = opt.description or null;
          declarations = filter (x: x != unknownModule) opt.declarations;
          internal = opt.internal or false;
          visible = if (opt ? visible && opt.visible == "shallow") then true else opt.visible or true;
          readOnly = opt.readOnly or false;
          type = opt.type.description or "unspecified";
        }
        // optionalAttrs (opt ? example) {
          example = builtins.addErrorContext "while evaluating the example of option `${name}`" (renderOptionValue opt.example);
        }
        // optionalAttrs (opt ? defaultText || opt ? default) {
          default = builtins.addErrorContext
            "while evaluating the ${if opt ? defaultText then "defaultText" else "default value"} of option `${name}`"
            (renderOptionValue (opt.defaultText or opt.default));
        }
        // optionalAttrs (opt ? relatedPackages && opt.relatedPackages != null) { inherit (opt) relatedPackages; };
        subOptions =
          let ss = opt.type.getSubOptions opt.loc;
          in if ss != { } then optionAttrSetToDocList' opt.loc ss else [ ];
        subOptionsVisible = docOption.visible && opt.visible or null != "shallow";
      in [ docOption ] ++ lib.optionals subOptionsVisible subOptions
    ) (lib.collect isOption options);

  # What `kiln options` prints: the visible, non-internal entries of optionAttrSetToDocList,
  # sorted by name, each { name, type, description, declarations, default?, example?, ... }.
  optionsDocList = options:
    lib.sort (a: b: a.name < b.name)
      (filter (o: o.visible && !o.internal) (optionAttrSetToDocList options));

  scrubOptionValue = x:
    if lib.isDerivation x then { type = "derivation"; drvPath = x.name; outPath = x.name; name = x.name; }
    else if isList x then map scrubOptionValue x
    else if isAttrs x then lib.mapAttrs (n: v: scrubOptionValue v) (removeAttrs x [ "_args" ])
    else x;

  renderOptionValue = v:
    if v ? _type && v ? text then v
    else literalExpression (lib.generators.toPretty { multiline = true; allowPrettyValues = true; } v);

  literalExpression = text:
    if !isString text then throw "literalExpression expects a string."
    else { _type = "literalExpression"; inherit text; };
  literalExample = literalExpression;
  literalMD = text:
    if !isString text then throw "literalMD expects a string."
    else { _type = "literalMD"; inherit text; };
  mdDoc = x: x;

  showOption = parts:
    let
      escapeOptionPart = part:
        if elem part [ "<name>" "*" "<function body>" ] then part
        else lib.strings.escapeNixIdentifier part;
    in concatStringsSep "." (map escapeOptionPart parts);
  showFiles = files: concatStringsSep " and " (map (f: "`${f}'") files);

  showDefs = defs: lib.concatMapStrings (def:
    let
      prettyEval = builtins.tryEval
        (lib.generators.toPretty { }
          (lib.generators.withRecursion { depthLimit = 10; throwOnDepth = false; } def.value));
      lines = filter (v: !isList v) (builtins.split "\n" prettyEval.value);
      value = concatStringsSep "\n    " (lib.take 5 lines ++ optional (length lines > 5) "...");
      result =
        if !prettyEval.success then ""
        else if length lines > 1 then ":\n    " + value
        else ": " + value;
    in "\n- In `${def.file}'${result}") defs;

  showOptionWithDefLocs = opt: ''
    ${showOption opt.loc}, with values defined in:
    ${lib.concatMapStringsSep "\n" (defFile: "  - ${defFile}") opt.files}
  '';

  unknownModule = "<unknown-file>";
}
