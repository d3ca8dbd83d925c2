# A small team's Git server over SSH: one `git` account whose shell is git-shell (it may
# only push and fetch), the developers' keys, bare repositories made on first boot from a
# list, and a nightly bundle of each into /var/backups for the backup job to pick up.
{ config, lib, pkgs, ... }:

let
  root = "/srv/git";
  repositories = [ "website" "infrastructure" "handbook" ];
  developers = {
    anna = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEnSYK0lBWf0Y1YNKRTwGzedz/F0iILhwOy/jgWpzwHc anna@home";
    omar = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDzTwVxhjLLdYEmD3PN4hJ1PFmdbJAv6Hv4DffO3BDT/ omar@laptop";
  };
  forEachRepo = f: lib.concatMapStrings (r: f r + "\n") repositories;
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "git";
  networking.firewall.allowedTCPPorts = [ 22 ];
  time.timeZone = "UTC";

  users.users.git = {
    isSystemUser = true;
    group = "git";
    home = root;
    createHome = true;
    shell = "${pkgs.git}/bin/git-shell";
    openssh.authorizedKeys.keys = lib.attrValues developers;
  };
  users.groups.git = { };

  # Pushes and fetches only: no forwarding for the git account.
  services.openssh.extraConfig = ''
    Match User git
      AllowTcpForwarding no
      X11Forwarding no
      PermitTTY no
  '';

  systemd.services.git-repositories = {
    description = "Make the team's bare repositories";
    wantedBy = [ "multi-user.target" ];
    after = [ "local-fs.target" ];
    path = [ pkgs.git ];
    serviceConfig = { Type = "oneshot"; RemainAfterExit = true; User = "git"; };
    script = forEachRepo (r: ''
      [ -d ${root}/${r}.git ] || git init --quiet --bare --initial-branch=main ${root}/${r}.git
    '');
  };

  systemd.services.git-bundles = {
    description = "Bundle every repository for the backup";
    startAt = "*-*-* 03:30:00";
    path = [ pkgs.git ];
    # As the repositories' owner: Git refuses to read another user's repository.
    serviceConfig = { Type = "oneshot"; User = "git"; };
    script = forEachRepo (r: ''
      if git -C ${root}/${r}.git rev-parse -q --verify HEAD >/dev/null; then
        git -C ${root}/${r}.git bundle create /var/backups/git/${r}.bundle --all
      fi
    '');
  };

  systemd.tmpfiles.rules = [ "d /var/backups/git 0750 git git -" ];

  environment.systemPackages = with pkgs; [ git ];

  system.stateVersion = "24.05";
}
