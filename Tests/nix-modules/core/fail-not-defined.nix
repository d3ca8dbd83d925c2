let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
(lib.evalModules { modules = [ { options.x.y = lib.mkOption { type = lib.types.str; }; } { x.y = lib.mkIf false "no"; } ]; }).config.x.y
