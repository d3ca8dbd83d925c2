# Lines nearly every published configuration has beside its services: /tmp cleaned at boot
# (in the name NixOS used before 23.05 too), the lid ignored on power, a udev rule for a USB
# device, polkit with an admin group and a rule, dconf, man pages, documentation trimmed,
# and the newest kernel asked for.
{ pkgs, ... }:
{
  boot.cleanTmpDir = true;
  boot.tmp = { useTmpfs = true; tmpfsSize = "2G"; };
  boot.kernelPackages = pkgs.linuxPackages_latest;
  services.logind = { lidSwitchExternalPower = "ignore"; killUserProcesses = true; extraConfig = "IdleAction=lock"; };
  services.udev.extraRules = ''
    SUBSYSTEM=="usb", ATTRS{idVendor}=="0483", ATTRS{idProduct}=="df11", MODE="0664", GROUP="plugdev"
  '';
  security.polkit = {
    enable = true;
    adminIdentities = [ "unix-group:admin" ];
    extraConfig = ''
      polkit.addRule(function(action, subject) {
        if (action.id == "org.freedesktop.login1.reboot" && subject.isInGroup("users")) { return polkit.Result.YES; }
      });
    '';
  };
  programs.dconf.enable = true;
  documentation.man.enable = true;
  documentation.nixos.enable = false;
}
