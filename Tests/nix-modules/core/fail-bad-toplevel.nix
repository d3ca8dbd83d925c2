let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
(lib.evalModules { modules = [ { key = "/m.nix"; _file = "/m.nix"; config = { }; foo = 1; } ]; }).config
