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
#   plan            what Kiln builds: config.system.build.plan (system/plan.nix); Swift
#                   decodes it into a SystemPlan.
{ lib, modules, specialArgs }:
let

  eval = lib.evalModules {
    modules = [ ./assertions.nix ] ++ modules;
    inherit specialArgs;
  };

  merged = eval.config;

  config = lib.checkAssertWarn merged.assertions merged.warnings merged;

  packageRequests =
    let opt = eval.options.environment.systemPackages or null;
    in if opt == null then [ ] else import ./package-requests.nix lib opt;
in {
  inherit config packageRequests;
  plan = config.system.build.plan;
  inherit (eval) options;
}
