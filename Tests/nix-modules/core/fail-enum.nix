let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
(lib.evalModules { modules = [ { options.e = lib.mkOption { type = lib.types.enum [ "a" "b" ]; }; } { _file = "/e.nix"; e = "c"; } ]; }).config.e
