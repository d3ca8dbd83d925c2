# Priorities (plain 100, mkDefault 1000, mkForce 50, mkOverride, mkOptionDefault and the
# default 1500), lazy mkIf, mkMerge, mkBefore/mkAfter/mkOrder on lists and lines.
let
  lib = import ../../../Sources/KilnModules/modules/lib.nix;
  inherit (lib) mkOption types mkDefault mkForce mkOverride mkOptionDefault mkIf mkMerge mkBefore mkAfter mkOrder;
  r = lib.evalModules {
    modules = [
      {
        options = {
          a = mkOption { type = types.str; default = "default"; };
          b = mkOption { type = types.str; default = "default"; };
          c = mkOption { type = types.str; default = "default"; };
          d = mkOption { type = types.int; default = 1; };
          e = mkOption { type = types.int; default = 1; };
          f = mkOption { type = types.str; };
          g = mkOption { type = types.listOf types.str; default = [ "default" ]; };
          h = mkOption { type = types.listOf types.str; default = [ ]; };
          text = mkOption { type = types.lines; default = ""; };
          neverRead = mkOption { type = types.str; default = "x"; };
          lazyNames = mkOption { type = types.attrsOf types.int; default = { }; };
          enable = mkOption { type = types.bool; default = false; };
          cond = mkOption { type = types.str; default = "off"; };
          merged = mkOption { type = types.attrsOf types.int; default = { }; };
        };
      }
      { a = mkDefault "mkDefault"; b = mkDefault "mkDefault"; c = "plain"; d = mkOverride 900 5; f = mkOptionDefault "optionDefault"; }
      { b = "plain"; c = mkForce "forced"; d = mkOverride 800 7; e = mkIf false 9; g = mkDefault [ "mkDefault" ]; }
      { c = "plain2"; h = [ "middle" ]; }
      { h = mkAfter [ "last" ]; text = mkAfter "after"; }
      { h = mkBefore [ "first" ]; text = "plain"; }
      { h = mkOrder 1200 [ "after-middle" ]; text = mkBefore "before"; }
      { neverRead = mkIf (throw "this condition must not be evaluated") "y"; }
      ({ config, ... }: { cond = mkIf config.enable "on"; enable = true; })
      { merged = mkMerge [ { a = 1; } (mkIf false { b = 2; }) (mkIf true { c = 3; }) ]; }
      { lazyNames.x = mkIf false 1; lazyNames.y = 2; }
    ];
  };
  o = r.options;
in {
  inherit (r.config) a b c d e f g h text lazyNames cond merged;
  prios = map (n: o.${n}.highestPrio) [ "a" "b" "c" "d" "e" "f" "g" "h" ];
  isDefined = [ o.e.isDefined o.h.isDefined ];
}
