# Defining an undeclared option names it, the file and value, and suggests the close names.
let
  lib = import ../../../Sources/KilnModules/modules/lib.nix;
  inherit (lib) mkOption types;
in (lib.evalModules {
  modules = [
    { options.services.openssh.enable = lib.mkEnableOption "ssh"; options.services.nginx.enable = lib.mkEnableOption "nginx"; }
    { _file = "/etc/kiln/profile.nix"; services.opensh.enable = true; }
  ];
}).config.services.openssh.enable
