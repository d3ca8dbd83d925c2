# A shared shell box for a small club (a "tilde" server): members log in with their keys
# into the shell each chose (fish, zsh or bash), find the club's tools and a greeting; a cron
# job keeps a list of who is online that the shells show; moderators may read the whole
# journal and restart the shared cron daemon through sudo, nothing more; logrotate keeps the
# club's own logs short.
{ config, lib, pkgs, ... }:

let
  members = {
    ana = { shell = pkgs.fish; moderator = true;
            key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0pfZOCvcQ7mfGWj/fnJ4oTnt2N1TrRd87N6VVEdKFR ana@home"; };
    ben = { shell = pkgs.zsh;
            key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJKlgOPh//poT7rbR9nA+J+5WQA9Q6U6q4ScpoxKhz7e ben@home"; };
    cleo = { shell = pkgs.bashInteractive;
             key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICgHCVO+Soq3WqAVut6fhmcSScqgu/lrBtPbPftupReI cleo@home"; };
  };
  online = "/var/lib/club/online";
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "tilde";
  time.timeZone = "Europe/Berlin";

  users.groups.moderators = { };
  users.users = lib.mapAttrs (name: m: {
    isNormalUser = true;
    description = "club member ${name}";
    inherit (m) shell;
    extraGroups = lib.optional (m.moderator or false) "moderators";
    openssh.authorizedKeys.keys = [ m.key ];
  }) members;

  users.motd = ''
    Welcome to the club's shell box.
    Be kind; the disk is shared. Who is online: ${online}
  '';

  programs.fish = {
    enable = true;
    shellAliases.online = "cat ${online}";
  };
  programs.zsh = {
    enable = true;
    autosuggestions.enable = true;
    shellAliases.online = "cat ${online}";
  };
  programs.bash.shellAliases.online = "cat ${online}";

  environment.systemPackages = with pkgs; [
    tmux
    vim
    git
    htop
    irssi
    lynx
  ];

  # Moderators look after the box, but are not root.
  security.sudo.extraRules = [
    {
      groups = [ "moderators" ];
      commands = [
        { command = "${pkgs.systemd}/bin/journalctl"; options = [ "NOPASSWD" ]; }
        { command = "${pkgs.systemd}/bin/systemctl restart cron.service"; options = [ "NOPASSWD" ]; }
      ];
    }
  ];

  services.cron = {
    enable = true;
    systemCronJobs = [
      "* * * * * root mkdir -p ${dirOf online} && who | cut -d' ' -f1 | sort -u > ${online}.new && mv ${online}.new ${online}"
    ];
  };

  services.logrotate = {
    enable = true;
    settings."/var/log/club/*.log" = {
      frequency = "weekly";
      rotate = 8;
      compress = true;
      missingok = true;
      notifempty = true;
      # The folder is the moderators' to write to; logrotate refuses such a folder unless told whose it is.
      su = "root moderators";
    };
  };
  systemd.tmpfiles.rules = [ "d /var/log/club 0775 root moderators -" ];

  system.stateVersion = "24.05";
}
