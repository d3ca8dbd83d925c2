let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
(lib.evalModules {
  modules = [
    { options.networking.hostName = lib.mkOption { type = lib.types.str; default = "kiln"; }; }
    { _file = "/etc/kiln/profile.nix"; networking.hostName = 42; }
  ];
}).config.networking.hostName
