let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
(lib.evalModules { modules = [ { options.a = lib.mkOption { type = lib.types.int; default = 1; }; } { a = lib.mkIf "yes" 2; } ]; }).config.a
