let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
(lib.evalModules { modules = [ { options.ro = lib.mkOption { type = lib.types.int; default = 1; readOnly = true; }; } { ro = 2; } ]; }).config.ro
