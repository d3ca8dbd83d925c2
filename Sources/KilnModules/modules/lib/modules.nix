# lib.modules: the NixOS module system (evalModules, definitions and their properties, option
# declarations), after nixpkgs' lib/modules.nix (MIT); compact, same semantics and messages.
{ lib }:
let
  inherit (builtins) head tail length isAttrs isList isString isBool isFunction isPath all any
    filter elem attrNames attrValues mapAttrs listToAttrs zipAttrsWith concatMap concatLists foldl'
    genericClosure removeAttrs functionArgs seq sort;
  inherit (lib) mkOption types showOption showDefs showFiles optionalAttrs optional isOption
    setAttrByPath getAttrFromPath attrByPath mapAttrsRecursiveCond recursiveUpdate last imap1
    concatStringsSep;

  defaultOverridePriority = 100;
  defaultOrderPriority = 1000;
  typeOf = v: v._type or "";
  # A value's type as a message says it ("an integer", not builtins.typeOf's "a int").
  aTypeOf = v: {
    int = "an integer"; float = "a float"; bool = "a Boolean"; null = "null"; string = "a string";
    path = "a path"; list = "a list"; set = "an attribute set"; lambda = "a function";
  }.${builtins.typeOf v};

  # The location of a module as the user gave it: paths import, anything else is the module.
  moduleKey = modulesPath: m:
    if isString m && !(lib.hasPrefix "/" m) then toString modulesPath + "/" + m
    else if isPath m || isString m then toString m
    else if isAttrs m && m ? key then toString m.key
    else throw "Each item of disabledModules must be a path, a string or an attribute set with a `key' attribute, not ${lib.generators.toPretty { } m}.";

  # Calls a module function with the arguments it names: the evaluation's own (config, options,
  # lib, specialArgs...) first, then `_module.args`.
  applyModuleArgsIfFunction = key: f: args@{ config, ... }:
    if isFunction f then
      let
        extraArgs = mapAttrs (name: _:
          builtins.addErrorContext "while evaluating the module argument `${name}' in \"${key}\":"
            (args.${name} or config._module.args.${name} or (throw
              "The module `${key}' takes the argument `${name}', which neither the evaluation's specialArgs nor any module's `_module.args' provide."))
        ) (functionArgs f);
      in f (args // extraArgs)
    else f;

  unifyModuleSyntax = file: key: m:
    let
      addFreeformType = config:
        if m ? freeformType then mkMerge [ config { _module.freeformType = m.freeformType; } ] else config;
    in
    if !isAttrs m then
      throw "The module `${key}' (in `${file}') is ${aTypeOf m}, but a module must be an attribute set or a function returning one."
    else if typeOf m != "" && typeOf m != "module" then
      throw "The module `${key}' (in `${file}') is a value of type `${m._type}', not a module (did you pass a definition such as mkIf, mkMerge or an option where a module was expected?)."
    else if m ? config || m ? options then
      let badAttrs = removeAttrs m [ "_class" "_file" "_type" "key" "disabledModules" "imports" "options" "config" "meta" "freeformType" ];
      in if badAttrs != { } then
        throw "Module `${if lib.hasInfix ":anon-" key then toString m._file or file else key}' has an unsupported attribute `${head (attrNames badAttrs)}'. This is caused by introducing a top-level `config' or `options' attribute. Add configuration attributes immediately on the top level instead, or move all of them (namely: ${toString (attrNames badAttrs)}) into the explicit `config' attribute."
      else {
        _file = toString m._file or file;
        key = toString m.key or key;
        disabledModules = m.disabledModules or [ ];
        imports = m.imports or [ ];
        importsPos = builtins.unsafeGetAttrPos "imports" m;
        options = m.options or { };
        config = addFreeformType (m.config or { });
      }
    else {
      _file = toString m._file or file;
      key = toString m.key or key;
      disabledModules = m.disabledModules or [ ];
      imports = m.require or [ ] ++ m.imports or [ ];
      importsPos = if m ? require then null else builtins.unsafeGetAttrPos "imports" m;
      options = { };
      config = addFreeformType (removeAttrs m [ "_class" "_file" "_type" "key" "disabledModules" "require" "imports" "freeformType" "meta" ]);
    };

  loadModule = args: fallbackFile: fallbackKey: m:
    if isPath m || isString m then
      let file = toString m;
      in unifyModuleSyntax file file (applyModuleArgsIfFunction file (import m) args)
    else if isFunction m then
      unifyModuleSyntax fallbackFile fallbackKey (applyModuleArgsIfFunction fallbackKey m args)
    else if isAttrs m && m ? __functor then
      unifyModuleSyntax fallbackFile fallbackKey (applyModuleArgsIfFunction fallbackKey (m.__functor m) args)
    else unifyModuleSyntax fallbackFile fallbackKey m;

  # Entry n of the `imports' of the module in parentFile, for messages: the entry is a value,
  # which has no position, so the position is that of `imports' (null if unknown).
  importEntry = parentFile: pos: n:
    "entry ${toString n} of the imports of `${parentFile}'"
    + lib.optionalString (pos != null) ", at ${pos.file}:${toString pos.line}:${toString pos.column}";

  # A path in `imports' is imported here, so an error from `import' would point into this
  # file and name neither the module that lists the path nor where. A missing file is the
  # common case (a typo, a file not copied along), and is said plainly; any other failure
  # to load it (a directory without default.nix, an unreadable file) gets the entry as context.
  importListed = parentFile: pos: n: load: m:
    let isFile = isPath m || (isString m && lib.hasPrefix "/" m); in
    if !isFile || parentFile == "<unknown-file>" then load m
    else if !builtins.pathExists m then
      throw "The file `${toString m}' does not exist; it is ${importEntry parentFile pos n}."
    else builtins.addErrorContext "while importing `${toString m}' (${importEntry parentFile pos n}):" (load m);

  # Every module reachable through `imports`, once per key (the file for a path), breadth first
  # as nixpkgs' genericClosure does, without the ones `disabledModules` names.
  collectModules = modulesPath: modules: args:
    let
      load = parentFile: parentKey: importsPos: ms:
        if !isList ms then throw "The `imports' of the module `${parentKey}' (in `${parentFile}') must be a list, not ${aTypeOf ms}."
        else imap1 (n: m:
          let module = importListed parentFile importsPos n (loadModule args parentFile "${parentKey}:anon-${toString n}") m;
          in { inherit (module) key; inherit module; }) ms;
      closure = keep: genericClosure {
        startSet = keep (load "<unknown-file>" "" null modules);
        operator = item: keep (load item.module._file item.module.key item.module.importsPos item.module.imports);
      };
      everything = closure (x: x);
      disabled = concatMap (item: map (moduleKey modulesPath) item.module.disabledModules) everything;
      disabledSet = listToAttrs (map (k: { name = k; value = true; }) disabled);
      kept = if disabled == [ ] then everything else closure (filter (item: !(disabledSet ? ${item.key})));
    in map (item: item.module) kept;

  setDefaultModuleLocation = file: m: { _file = file; imports = [ m ]; };

  # mkIf/mkOverride on an attribute set apply to each attribute; mkMerge splits.
  pushDownProperties = cfg:
    let t = typeOf cfg; in
    if t == "merge" then concatMap pushDownProperties cfg.contents
    else if t == "if" then map (mapAttrs (n: v: mkIf cfg.condition v)) (pushDownProperties cfg.content)
    else if t == "override" then map (mapAttrs (n: v: mkOverride cfg.priority v)) (pushDownProperties cfg.content)
    else [ cfg ];

  dischargeProperties = def:
    let t = typeOf def; in
    if t == "merge" then concatMap dischargeProperties def.contents
    else if t == "if" then
      if isBool def.condition then (if def.condition then dischargeProperties def.content else [ ])
      else throw "‘mkIf’ called with a non-Boolean condition"
    else [ def ];

  filterOverrides' = defs:
    let
      getPrio = def: if typeOf def.value == "override" then def.value.priority else defaultOverridePriority;
      highestPrio = foldl' (prio: def: lib.min (getPrio def) prio) 9999 defs;
      strip = def: if typeOf def.value == "override" then def // { value = def.value.content; } else def;
    in {
      values = concatMap (def: if getPrio def == highestPrio then [ (strip def) ] else [ ]) defs;
      inherit highestPrio;
    };
  filterOverrides = defs: (filterOverrides' defs).values;

  sortProperties = defs:
    let
      strip = def:
        if typeOf def.value == "order" then def // { value = def.value.content; inherit (def.value) priority; }
        else def;
      defs' = map strip defs;
      compare = a: b: (a.priority or defaultOrderPriority) < (b.priority or defaultOrderPriority);
    in sort compare defs';

  mergeDefinitions = loc: type: defs: rec {
    defsFinal' =
      let
        defs' = concatMap (m:
          map (value: { inherit (m) file; inherit value; })
            (builtins.addErrorContext "while evaluating definitions from `${m.file}':" (dischargeProperties m.value))
        ) defs;
        defs'' = filterOverrides' defs';
        defs''' =
          if any (def: typeOf def.value == "order") defs''.values then sortProperties defs''.values
          else defs''.values;
      in { values = defs'''; inherit (defs'') highestPrio; };
    defsFinal = defsFinal'.values;
    mergedValue =
      if isDefined then
        if all (def: type.check def.value) defsFinal then type.merge loc defsFinal
        else
          let allInvalid = filter (def: !type.check def.value) defsFinal;
          in throw "A definition for option `${showOption loc}' is not of type `${type.description}'. Definition values:${showDefs allInvalid}"
      else throw "The option `${showOption loc}' is used but not defined.";
    isDefined = defsFinal != [ ];
    optionalValue = if isDefined then { value = mergedValue; } else { };
  };

  evalOptionValue = loc: opt: defs:
    let
      defs' = (optional (opt ? default) { file = head opt.declarations; value = mkOptionDefault opt.default; }) ++ defs;
      res =
        if opt.readOnly or false && length defs' > 1 then
          let separateDefs = map (def: def // { value = (mergeDefinitions loc opt.type [ def ]).mergedValue; }) defs';
          in throw "The option `${showOption loc}' is read-only, but it's set multiple times. Definition values:${showDefs separateDefs}"
        else mergeDefinitions loc opt.type defs';
      value = if opt ? apply then opt.apply res.mergedValue else res.mergedValue;
      warnDeprecation =
        lib.warnIf (opt.type.deprecationMessage or null != null)
          "The type `types.${opt.type.name}' of option `${showOption loc}' defined in ${showFiles opt.declarations} is deprecated. ${opt.type.deprecationMessage or ""}";
    in warnDeprecation opt // {
      value = builtins.addErrorContext "while evaluating the option `${showOption loc}':" value;
      inherit (res.defsFinal') highestPrio;
      definitions = map (def: def.value) res.defsFinal;
      files = map (def: def.file) res.defsFinal;
      definitionsWithLocations = res.defsFinal;
      inherit (res) isDefined;
      __toString = _: showOption loc;
    };

  mergeOptionDecls = loc: opts:
    foldl' (res: opt:
      let
        t = res.type;
        t' = opt.options.type;
        mergedType = t.typeMerge t'.functor;
        typesMergeable = mergedType != null;
        bothHave = k: opt.options ? ${k} && res ? ${k};
        typeSet = if bothHave "type" && typesMergeable then { type = mergedType; } else { };
      in
      if bothHave "default" || bothHave "example" || bothHave "description" || bothHave "apply"
        || (bothHave "type" && !typesMergeable)
      then throw "The option `${showOption loc}' in `${opt._file}' is already declared in ${showFiles res.declarations}."
      else
        let
          getSubModules = opt.options.type.getSubModules or null;
          submodules =
            if getSubModules != null then map (setDefaultModuleLocation opt._file) getSubModules ++ res.options
            else res.options;
        in opt.options // res // {
          declarations = res.declarations ++ [ opt._file ];
          options = submodules;
        } // typeSet
    ) { inherit loc; declarations = [ ]; options = [ ]; } opts;

  fixupOptionType = loc: opt:
    if opt.type.getSubModules or null == null
    then opt // { type = opt.type or types.unspecified; }
    else opt // { type = opt.type.substSubModules opt.options; options = [ ]; };

  # A tree of option declarations below a submodule option, as that submodule's options.
  optionTreeToOption = decl:
    if isOption decl.options then decl
    else decl // {
      options = mkOption {
        type = types.submoduleWith { modules = [ { options = decl.options; } ]; };
      };
    };

  mergeModules = prefix: modules:
    mergeModules' prefix modules
      (concatMap (m: map (config: { file = m._file; inherit config; }) (pushDownProperties m.config)) modules);

  notAttrsMessage = prefix: subtree: ''
    You're trying to define a value of type `${builtins.typeOf subtree}'
    rather than an attribute set for the option
    `${concatStringsSep "." prefix}'!

    This usually happens if `${concatStringsSep "." prefix}' has option
    definitions inside that are not matched. Please check how to properly define
    this option by e.g. referring to `man 5 configuration.nix'!
  '';

  mergeModules' = prefix: modules: configs:
    let
      declsByName = zipAttrsWith (n: v: v) (map (module:
        let subtree = module.options; in
        if !isAttrs subtree then
          throw "An option declaration for `${concatStringsSep "." prefix}' has type `${builtins.typeOf subtree}' rather than an attribute set. Did you mean to define this outside of `options'?"
        else mapAttrs (n: option: { inherit (module) _file; options = option; }) subtree
      ) modules);

      checkedConfigs = map (c: if isAttrs c.config then c else throw (notAttrsMessage prefix c.config)) configs;

      pushedDownDefinitionsByName = zipAttrsWith (n: concatLists) (map (c:
        mapAttrs (n: v: map (config: { inherit (c) file; inherit config; }) (pushDownProperties v)) c.config
      ) checkedConfigs);

      rawDefinitionsByName = zipAttrsWith (n: v: v) (map (c:
        mapAttrs (n: v: { inherit (c) file; value = v; }) c.config
      ) checkedConfigs);

      resultsByName = mapAttrs (name: decls:
        let
          loc = prefix ++ [ name ];
          defns = pushedDownDefinitionsByName.${name} or [ ];
          defns' = rawDefinitionsByName.${name} or [ ];
          optionDecls = filter (m: isOption m.options) decls;
        in
        if length optionDecls == length decls then
          let opt = fixupOptionType loc (mergeOptionDecls loc decls);
          in { matchedOptions = evalOptionValue loc opt defns'; unmatchedDefns = [ ]; }
        else if optionDecls != [ ] then
          if all (x: x.options.type.name or null == "submodule") optionDecls then
            let opt = fixupOptionType loc (mergeOptionDecls loc (map optionTreeToOption decls));
            in { matchedOptions = evalOptionValue loc opt defns'; unmatchedDefns = [ ]; }
          else
            let nonOptions = filter (m: !isOption m.options) decls; in
            throw "The option `${showOption loc}' in module `${(head optionDecls)._file}' would be a parent of the following options, but its type `${(head optionDecls).options.type.description or "<no description>"}' does not support nested options.\n${
              concatStringsSep "\n" (concatMap (d: map (n: "- option(s) with prefix `${showOption (loc ++ [ n ])}' in module `${d._file}'") (attrNames d.options)) nonOptions)}"
        else mergeModules' loc decls defns
      ) declsByName;

      matchedOptions = mapAttrs (n: v: v.matchedOptions) resultsByName;

      unmatchedDefnsByName =
        mapAttrs (n: v: v.unmatchedDefns) resultsByName
        // removeAttrs rawDefinitionsByName (attrNames matchedOptions);
    in {
      inherit matchedOptions;
      unmatchedDefns =
        if configs == [ ] then [ ]
        else concatLists (lib.mapAttrsToList (name: defs:
          map (def: def // { prefix = [ name ] ++ (def.prefix or [ ]); }) defs
        ) unmatchedDefnsByName);
    };

  # "Did you mean" for an undeclared option: the declared names at its level that are a few
  # edits away, or that it is a prefix of (or the other way round), closest first.
  suggestOptions = typed: names:
    let
      lower = lib.toLower typed;
      scored = concatMap (n:
        let
          d = lib.strings.levenshtein lower (lib.toLower n);
          limit = if lib.stringLength typed <= 3 then 1 else if lib.stringLength typed <= 6 then 2 else 3;
          close = d <= limit || (lib.stringLength typed >= 3 && (lib.hasPrefix lower (lib.toLower n) || lib.hasPrefix (lib.toLower n) lower));
        in if close && n != typed then [ { name = n; inherit d; } ] else [ ]
      ) names;
    in map (s: s.name) (lib.take 3 (sort (a: b: a.d < b.d || (a.d == b.d && a.name < b.name)) scored));

  evalModules = evalModulesArgs@{ modules, prefix ? [ ], args ? { }, specialArgs ? { }, check ? true, class ? null }:
    let
      internalModule = rec {
        _file = "lib/modules.nix";
        key = _file;
        options = {
          _module.args = mkOption {
            type = types.lazyAttrsOf types.raw;
            internal = true;
            description = "Additional arguments passed to each module in addition to ones like `lib`, `config`, and `pkgs`, `modulesPath`.";
          };
          _module.check = mkOption {
            type = types.bool;
            internal = true;
            default = check;
            description = "Whether to check whether all option definitions have matching declarations.";
          };
          _module.freeformType = mkOption {
            type = types.nullOr types.optionType;
            internal = true;
            default = null;
            description = "If set, merge all definitions that don't have an associated option together using this type.";
          };
        };
        config = {
          _module.args = { inherit extendModules; moduleType = type; } // args;
        };
      };

      collected = collectModules (specialArgs.modulesPath or "") (modules ++ [ internalModule ])
        ({ inherit lib options config specialArgs; _class = class; } // specialArgs);

      merged = mergeModules prefix (lib.reverseList collected);

      options = merged.matchedOptions;

      config =
        let
          declaredConfig = mapAttrsRecursiveCond (v: !isOption v) (_: v: v.value) options;
          freeformConfig =
            let defs = map (def: { file = def.file; value = setAttrByPath def.prefix def.value; }) merged.unmatchedDefns;
            in if defs == [ ] then { } else declaredConfig._module.freeformType.merge prefix defs;
        in if declaredConfig._module.freeformType == null then declaredConfig
          else recursiveUpdate freeformConfig declaredConfig;

      checkUnmatched =
        if config._module.check && config._module.freeformType == null && merged.unmatchedDefns != [ ] then
          let
            firstDef = head merged.unmatchedDefns;
            optText = showOption (prefix ++ firstDef.prefix);
            defText = builtins.addErrorContext
              "while evaluating the error message for definitions for `${optText}', which is an option that does not exist"
              (builtins.addErrorContext "while evaluating a definition from `${firstDef.file}'" (showDefs [ firstDef ]));
            parentPath = lib.init firstDef.prefix;
            siblings = filter (n: n != "_module") (attrNames (attrByPath parentPath { } options));
            suggestions = suggestOptions (last firstDef.prefix) siblings;
            showSuggestion = n: "`${showOption (prefix ++ parentPath ++ [ n ])}'";
            suggestion = lib.optionalString (suggestions != [ ]) ("\n\nDid you mean "
              + (if length suggestions == 1 then showSuggestion (head suggestions)
                 else concatStringsSep ", " (map showSuggestion (lib.init suggestions)) + " or " + showSuggestion (last suggestions))
              + "?");
            baseMsg = "The option `${optText}' does not exist. Definition values:${defText}${suggestion}";
          in
          if attrNames options == [ "_module" ] then
            let optionName = showOption prefix; in
            if optionName == "" then
              throw ''
                ${baseMsg}

                It seems as if you're evaluating a configuration without any options declared.
                That is probably not what you want: declare options, or import the modules that do.
              ''
            else
              throw ''
                ${baseMsg}

                However there are no options defined in `${showOption prefix}'. Are you sure you've
                declared your options properly? This can happen if you e.g. declared your options in `types.submodule'
                under `config' rather than `options'.
              ''
          else throw baseMsg
        else null;

      checked = seq checkUnmatched;

      extendModules = extendArgs@{ modules ? [ ], specialArgs ? { }, prefix ? [ ] }:
        evalModules (evalModulesArgs // {
          modules = evalModulesArgs.modules ++ modules;
          specialArgs = evalModulesArgs.specialArgs or { } // specialArgs;
          prefix = extendArgs.prefix or evalModulesArgs.prefix or [ ];
        });

      type = types.submoduleWith { inherit modules specialArgs class; };

      result = {
        _type = "configuration";
        options = checked options;
        config = checked (removeAttrs config [ "_module" ]);
        _module = checked config._module;
        inherit extendModules type class;
      };
    in result;

  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkAssert = assertion: message: content:
    mkIf (if assertion then true else throw "\nFailed assertion: ${message}") content;
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkOptionDefault = mkOverride 1500;
  mkDefault = mkOverride 1000;
  mkImageMediaOverride = mkOverride 60;
  mkForce = mkOverride 50;
  mkVMOverride = mkOverride 10;
  mkOrder = priority: content: { _type = "order"; inherit priority content; };
  mkBefore = mkOrder 500;
  mkAfter = mkOrder 1500;

  mkAliasIfDef = option: mkIf (isOption option && option.isDefined);
  mkAliasDefinitions = mkAliasAndWrapDefinitions lib.id;
  mkAliasAndWrapDefinitions = wrap: option: mkAliasIfDef option (wrap (mkMerge option.definitions));
  mkAliasAndWrapDefsWithPriority = wrap: option:
    let
      prio = option.highestPrio or defaultOverridePriority;
      defsWithPrio = map (mkOverride prio) option.definitions;
    in mkAliasIfDef option (wrap (mkMerge defsWithPrio));

  doRename = { from, to, visible, warn, use, withPriority ? true, condition ? true }:
    { config, options, ... }:
    let
      fromOpt = getAttrFromPath from options;
      toOf = attrByPath to (abort "Renaming error: option `${showOption to}' does not exist.");
      toType = let opt = attrByPath to { } options; in opt.type or (types.submodule { });
    in {
      options = setAttrByPath from (mkOption {
        inherit visible;
        description = "Alias of {option}`${showOption to}`.";
        apply = x: use (toOf config);
      } // optionalAttrs (toType != null) { type = toType; });
      config = mkIf condition (mkMerge [
        (optionalAttrs (options ? warnings) {
          warnings = optional (warn && fromOpt.isDefined)
            "The option `${showOption from}' defined in ${showFiles fromOpt.files} has been renamed to `${showOption to}'.";
        })
        (if withPriority
          then mkAliasAndWrapDefsWithPriority (setAttrByPath to) fromOpt
          else mkAliasAndWrapDefinitions (setAttrByPath to) fromOpt)
      ]);
    };

  mkRenamedOptionModule = from: to: doRename {
    inherit from to;
    visible = false;
    warn = true;
    use = builtins.trace "Obsolete option `${showOption from}' is used. It was renamed to `${showOption to}'.";
  };
  mkRenamedOptionModuleWith = { sinceRelease, from, to }: doRename {
    inherit from to;
    visible = false;
    warn = true;
    use = builtins.trace "Obsolete option `${showOption from}' is used. It was renamed to `${showOption to}'.";
  };
  mkAliasOptionModule = from: to: doRename { inherit from to; visible = true; warn = false; use = lib.id; };
  mkDerivedConfig = opt: f: mkOverride (opt.highestPrio or defaultOverridePriority) (f opt.value);

  mkRemovedOptionModule = optionName: replacementInstructions:
    { options, ... }: {
      options = setAttrByPath optionName (mkOption {
        visible = false;
        apply = x: throw "The option `${showOption optionName}' can no longer be used since it's been removed. ${replacementInstructions}";
      });
      config.assertions =
        let opt = getAttrFromPath optionName options; in [ {
          assertion = !opt.isDefined;
          message = ''
            The option definition `${showOption optionName}' in ${showFiles opt.files} no longer has any effect; please remove it.
            ${replacementInstructions}
          '';
        } ];
    };

  mkChangedOptionModule = from: to: changeFn:
    { config, options, ... }:
    let fromOpt = getAttrFromPath from options; in {
      options = setAttrByPath from (mkOption { visible = false; });
      config = mkIf fromOpt.isDefined (setAttrByPath to (mkDefault (changeFn config)));
    };

  # The messages of failed `assertions' (each { assertion; message; }), thrown together, and
  # the `warnings', printed; returns `value' when all hold. For an evaluation with the
  # `assertions'/`warnings' options (Kiln's eval-modules.nix adds them).
  checkAssertWarn = assertions: warnings: value:
    let failed = map (x: x.message) (filter (x: !x.assertion) assertions);
    in if failed != [ ] then throw "Failed assertions:\n${concatStringsSep "\n" (map (x: "- ${x}") failed)}"
      else lib.showWarnings warnings value;
in
{
  inherit evalModules collectModules unifyModuleSyntax applyModuleArgsIfFunction setDefaultModuleLocation
    pushDownProperties dischargeProperties filterOverrides filterOverrides' sortProperties
    mergeDefinitions evalOptionValue mergeOptionDecls fixupOptionType mergeModules mergeModules'
    mkIf mkAssert mkMerge mkOverride mkOptionDefault mkDefault mkImageMediaOverride mkForce mkVMOverride
    mkOrder mkBefore mkAfter mkAliasIfDef mkAliasDefinitions mkAliasAndWrapDefinitions
    mkAliasAndWrapDefsWithPriority doRename mkRenamedOptionModule mkRenamedOptionModuleWith
    mkAliasOptionModule mkRemovedOptionModule mkChangedOptionModule mkDerivedConfig checkAssertWarn
    defaultOverridePriority defaultOrderPriority;
  defaultPriority = defaultOverridePriority;
  mkFixStrictness = lib.id;
}
