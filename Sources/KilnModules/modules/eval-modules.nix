# Evaluates Kiln's modules (module-list.nix, the hardware file, the profile) with the NixOS
# module system in ./lib/modules.nix (lib.evalModules), plus ./assertions.nix.
#
# Result:
#   config          the merged configuration. Forcing it (Kiln does before reading any option)
#                   checks that every definition has a declared option, throws
#                   "Failed assertions:\n- msg..." if any of `config.assertions' fails, and
#                   prints `config.warnings' (builtins.trace "evaluation warning: ...").
#   options         the option tree, as nixpkgs' evalModules returns it.
#   packageRequests one { file; name; } per package in every definition of
#                   environment.systemPackages that survives mkIf/mkMerge/priorities (name is
#                   the package's pname, file the module that defined it).
#   plan            what Kiln builds: config.system.build.plan (system/plan.nix) with the
#                   package requests as `packages`; Swift decodes it into a SystemPlan.
{ lib, modules, specialArgs }:
let
  inherit (builtins) concatMap isList isAttrs;

  eval = lib.evalModules {
    modules = [ ./assertions.nix ] ++ modules;
    inherit specialArgs;
  };

  merged = eval.config;

  config = lib.checkAssertWarn merged.assertions merged.warnings merged;

  packageRequests =
    let opt = eval.options.environment.systemPackages or null;
    in if opt == null then [ ] else concatMap (d:
      if !isList d.value then [ ]
      else map (p: {
        inherit (d) file;
        name = if isAttrs p && p ? pname then p.pname
          else throw "environment.systemPackages in ${d.file} holds something that is not a package: ${lib.generators.toPretty { } p}";
      }) d.value
    ) opt.definitionsWithLocations;
in {
  inherit config packageRequests;
  plan = config.system.build.plan // {
    packages = map (r: { inherit (r) name file; option = "environment.systemPackages"; }) packageRequests;
  };
  inherit (eval) options;
}
