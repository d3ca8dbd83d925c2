# console (NixOS: nixos/modules/config/console.nix): the virtual consoles' keyboard layout and
# font, /etc/vconsole.conf for systemd-vconsole-setup. The kernel's own layout is "us", so
# that needs nothing; any other installs kbd (loadkeys) and console-data (the keymaps).
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.console;
  changed = cfg.keyMap != "us" || cfg.font != null;
in
{
  options.console = {
    keyMap = mkOption {
      type = types.strMatching "[A-Za-z0-9_.-]+";
      default = "us";
      example = "de-latin1";
      description = "The keyboard layout of the virtual consoles (a console-data keymap name).";
    };
    font = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "Lat2-Terminus16";
      description = "The virtual consoles' font; null keeps the kernel's.";
    };
    earlySetup = mkOption {
      type = types.bool;
      default = false;
      description = "Whether the initrd sets the layout up (accepted; Kiln sets it in stage 2).";
    };
  };

  config = lib.mkIf changed {
    environment.systemPackages = [ pkgs.kbd pkgs.console-data ];
    environment.etc."vconsole.conf".text = "KEYMAP=${cfg.keyMap}\n" + lib.optionalString (cfg.font != null) "FONT=${cfg.font}\n";
  };
}
