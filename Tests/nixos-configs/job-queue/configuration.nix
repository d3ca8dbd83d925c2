# A background worker on an ARM cloud instance: the web app saves uploaded documents under
# /srv/uploads and queues them in this machine's Redis; the team's own module
# (./docqueue.nix) runs three workers that index them and a nightly summary.
{ config, lib, pkgs, ... }:

{
  imports =
    [ ./hardware-configuration.nix
      ./docqueue.nix
      ../common/admins.nix
    ];

  boot.loader.systemd-boot.enable = true;
  boot.loader.efi.canTouchEfiVariables = true;

  networking.hostName = "worker";
  time.timeZone = "UTC";

  services.docqueue = {
    enable = true;
    workers = 3;
    summaryAt = "*-*-* 02:30:00";
  };
  # The queue is small; the rest of the memory is the workers'.
  services.redis.servers.docqueue.settings.maxmemory = "128mb";

  services.journald.extraConfig = "SystemMaxUse=200M";

  system.stateVersion = "24.05";
}
