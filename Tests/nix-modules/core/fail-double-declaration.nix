let lib = import ../../../Sources/KilnModules/modules/lib.nix; in
(lib.evalModules { modules = [
  { _file = "/one.nix"; options.a = lib.mkOption { type = lib.types.int; default = 1; }; }
  { _file = "/two.nix"; options.a = lib.mkOption { type = lib.types.int; default = 2; }; }
]; }).config.a
