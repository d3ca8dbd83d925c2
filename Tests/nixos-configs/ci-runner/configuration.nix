# The CI runner: Docker for the team's jobs (a small module of our own turns each job into a
# scheduled container run), Podman for people who build images without root, old images
# pruned every day.
{ config, lib, pkgs, ... }:

{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
      ./jobs.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";
  boot.kernel.sysctl."vm.overcommit_memory" = 1;

  networking.hostName = "ci";

  virtualisation.docker = {
    enable = true;
    autoPrune = {
      enable = true;
      dates = "daily";
      flags = [ "--all" ];
    };
    daemon.settings = {
      default-address-pools = [ { base = "172.30.0.0/16"; size = 24; } ];
      log-opts.tag = "{{.Name}}";
    };
  };

  virtualisation.podman.enable = true;

  users.users.runner = {
    isNormalUser = true;
    extraGroups = [ "docker" ];
  };

  ci = {
    enable = true;
    image = "local/build-env";
    jobs.build = {
      script = ''
        echo "built on $(uname -n)" > result.txt
      '';
      startAt = "hourly";
    };
  };

  environment.systemPackages = with pkgs; [ git gnumake docker-compose ];

  system.stateVersion = "23.11";
}
