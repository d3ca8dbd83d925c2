# Evaluates a test profile as Kiln does: module-list.nix, the hardware file, the profile.
# kiln eval --strict --json -E 'import Tests/nix-modules/options/eval.nix { profile = ./x.nix; }'
{ profile, hardware ? ../../../hardware/qemu-x86_64.nix, modulesDir ? ../../../Sources/KilnModules/modules }:
let
  lib = import (modulesDir + "/lib.nix");
  result = import (modulesDir + "/eval-modules.nix") {
    inherit lib;
    modules = import (modulesDir + "/module-list.nix") ++ [ hardware profile ];
    specialArgs = { pkgs = import ./pkgs.nix; modulesPath = modulesDir; };
  };
in result
