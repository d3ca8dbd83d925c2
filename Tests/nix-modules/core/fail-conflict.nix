let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
(lib.evalModules {
  modules = [
    { options.networking.hostName = lib.mkOption { type = lib.types.str; }; }
    { _file = "/a.nix"; networking.hostName = "x"; }
    { _file = "/b.nix"; networking.hostName = "y"; }
  ];
}).config.networking.hostName
