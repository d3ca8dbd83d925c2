# One { name; file; option; } per package in every definition of environment.systemPackages
# that survives mkIf/mkMerge/priorities (name is the package's pname, file the module that
# defined it), from the option as evalModules returns it (what pkgs.write* made is not a
# Debian package: plan.nix lists those apart): the file says who asked for a
# package when it cannot be had. Used by eval-modules.nix and system/plan.nix.
lib: opt:
builtins.concatMap (d:
  if !builtins.isList d.value then [ ]
  else map (p: {
    inherit (d) file;
    option = "environment.systemPackages";
    name = if builtins.isAttrs p && p ? pname then p.pname
      else throw "environment.systemPackages in ${d.file} holds something that is not a package: ${lib.generators.toPretty { } p}";
  }) (builtins.filter (p: !(builtins.isAttrs p && p ? kilnWrittenObject)) d.value)
) opt.definitionsWithLocations
