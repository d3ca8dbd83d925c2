# programs.dconf (NixOS: nixos/modules/programs/dconf.nix): the settings store GTK and GNOME
# applications keep their preferences in (gsettings). Debian's dconf service is started by
# the session bus; the GSettings back end makes applications use it instead of memory.
{ config, lib, pkgs, ... }:
{
  options.programs.dconf.enable = lib.mkEnableOption "dconf, the settings store of GTK applications";

  config = lib.mkIf config.programs.dconf.enable {
    environment.systemPackages = [ pkgs.dconf-service pkgs.dconf-gsettings-backend pkgs.dconf-cli ];
  };
}
