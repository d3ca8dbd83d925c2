# mkRemovedOptionModule: defining the option fails through the assertions eval-modules.nix checks.
let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
(import ../../../Sources/KilnModules/modules/eval-modules.nix {
  inherit lib;
  specialArgs = { pkgs = { }; modulesPath = ../../../Sources/KilnModules/modules; };
  modules = [ (lib.mkRemovedOptionModule [ "services" "gone" ] "Use services.new instead.") { _file = "/p.nix"; services.gone = 1; } ];
}).config
