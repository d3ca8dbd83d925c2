let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
(lib.evalModules { modules = [ { options.ports = lib.mkOption { type = lib.types.listOf lib.types.port; }; } { _file = "/p.nix"; ports = [ 22 70000 ]; } ]; }).config.ports
