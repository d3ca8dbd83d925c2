let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
(lib.evalModules {
  modules = [
    { options.services.x.enable = lib.mkEnableOption "x"; }
    { _file = "/a.nix"; services.x.enable = true; }
    { _file = "/b.nix"; services.x.enable = false; }
  ];
}).config.services.x.enable
