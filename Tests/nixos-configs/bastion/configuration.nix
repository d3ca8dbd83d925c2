# The way in from outside: a bastion that lets the team's contractors through to the LAN's
# machines (ssh -J) and nowhere else — no shell, no terminal, only forwarding — while the
# admins (the shared module) log in as usual. SSH listens on a high port only; fail2ban
# watches it; the firewall opens nothing else. Every program run on it is audited, and so
# is every change to SSH's configuration.
{ config, lib, pkgs, ... }:

let
  contractors = {
    carol = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH3vW0n6kQ4sJ0cP2yJ1u8k5gq3p9m1xR7tB4aZ2c6Df carol@contractor";
    dave = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL8q2m4W1n9xB0tV3cR6yK5p7h2J4s8dF1gE3uA9zQ0w dave@contractor";
  };
  sshPort = 2222;
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "bastion";

  users.groups.jump = { };
  users.users = lib.mapAttrs (name: key: {
    isNormalUser = true;
    extraGroups = [ "jump" ];
    openssh.authorizedKeys.keys = [ key ];
  }) contractors;

  services.openssh = {
    ports = [ sshPort ];
    settings = {
      PermitRootLogin = "no";
      MaxAuthTries = 3;
      ClientAliveInterval = 300;
      X11Forwarding = false;
      AllowGroups = [ "wheel" "jump" ];
    };
    extraConfig = ''
      Match Group jump
        AllowTcpForwarding yes
        PermitTTY no
        ForceCommand ${pkgs.shadow}/bin/nologin
    '';
  };

  services.fail2ban = {
    enable = true;
    maxretry = 3;
    bantime = "1h";
    ignoreIP = [ "10.0.0.0/8" ];
  };

  security.auditd.enable = true;
  security.audit = {
    enable = true;
    backlogLimit = 8192;
    rules = [
      "-a exit,always -F arch=b64 -S execve -k exec"
      "-w /etc/ssh/ -p wa -k ssh-config"
    ];
  };

  services.journald.extraConfig = ''
    SystemMaxUse=100M
    MaxRetentionSec=1month
  '';

  time.timeZone = "UTC";
  system.stateVersion = "23.11";
}
