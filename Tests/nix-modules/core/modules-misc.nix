# freeformType, _module.check = false, top-level mkIf/mkMerge `config', modules with a
# `key' imported twice, imports given as functions/attrsets, mkAliasDefinitions, warnings of
# a renamed option through eval-modules.nix, and `options' read from another module.
let
  lib = import ../../../Sources/KilnModules/modules/lib.nix;
  inherit (lib) mkOption types;
  free = lib.evalModules {
    modules = [
      { freeformType = types.attrsOf types.anything; options.declared = mkOption { type = types.int; default = 1; }; }
      { undeclared.x = 1; declared = 2; }
      { undeclared.y = "z"; }
    ];
  };
  unchecked = lib.evalModules {
    modules = [ { config._module.check = false; options.a = mkOption { type = types.int; default = 1; }; } { b = 2; } ];
  };
  counted = { key = "counted"; options.counter = mkOption { type = types.listOf types.int; default = [ ]; }; config.counter = [ 1 ]; };
  misc = lib.evalModules {
    modules = [
      counted
      { imports = [ counted ({ ... }: { imports = [ counted ]; }) ]; }
      { options.enable = mkOption { type = types.bool; default = true; };
        options.x = mkOption { type = types.int; default = 0; };
        options.y = mkOption { type = types.int; default = 0; };
        options.src = mkOption { type = types.int; };
        options.dst = mkOption { type = types.int; default = 0; }; }
      ({ config, ... }: { config = lib.mkIf config.enable (lib.mkMerge [ { x = 1; } { y = 2; } ]); })
      ({ options, ... }: { dst = lib.mkAliasDefinitions options.src; })
      { src = 5; }
      ({ options, ... }: { y = lib.mkIf (options.x.highestPrio == 100) (lib.mkForce 3); })
    ];
  };
  kiln = import ../../../Sources/KilnModules/modules/eval-modules.nix {
    inherit lib;
    specialArgs = { pkgs = { }; modulesPath = ../../../Sources/KilnModules/modules; };
    modules = [
      { options.new = mkOption { type = types.str; default = "d"; }; }
      (lib.mkRenamedOptionModule [ "old" ] [ "new" ])
      { _file = "/profile.nix"; old = "via old"; }
    ];
  };
in {
  free = free.config;
  unchecked = unchecked.config;
  misc = misc.config;
  kiln = { inherit (kiln.config) new warnings; };
}
