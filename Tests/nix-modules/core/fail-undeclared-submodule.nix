# Inside a submodule too.
let lib = import ../../../Sources/KilnModules/modules/lib.nix; inherit (lib) mkOption types; in
(lib.evalModules {
  modules = [
    { options.users.users = mkOption { type = types.attrsOf (types.submodule { options.isNormalUser = mkOption { type = types.bool; default = false; }; options.home = mkOption { type = types.str; default = "/"; }; }); }; }
    { _file = "/etc/kiln/profile.nix"; users.users.alice.isNormalUsr = true; }
  ];
}).config.users.users.alice.home
