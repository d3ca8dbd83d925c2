# virtualisation.docker (NixOS: nixos/modules/virtualisation/docker.nix), with Debian's
# docker.io (dockerd, with containerd, runc and tini). Debian's docker.socket and
# docker.service are used, as NixOS uses the package's; dockerd is started with
# /etc/docker/daemon.json made from daemon.settings. Members of the docker group may use the
# socket (which is as good as root, as everywhere).
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.virtualisation.docker;
  settingsFormat = types.attrsOf types.anything;
in
{
  options.virtualisation.docker = {
    enable = lib.mkEnableOption "Docker, the container engine (a daemon, with a socket members of the docker group may use)";
    package = mkOption { type = types.package; default = pkgs."docker.io"; defaultText = lib.literalExpression "pkgs.docker"; description = "The Docker package."; };
    enableOnBoot = mkOption { type = types.bool; default = true; description = "Whether dockerd starts at boot (else when its socket is first used)."; };
    liveRestore = mkOption { type = types.bool; default = true; description = "Whether containers keep running while dockerd restarts."; };
    storageDriver = mkOption { type = types.nullOr (types.enum [ "aufs" "btrfs" "devicemapper" "overlay" "overlay2" "zfs" "vfs" ]); default = null; description = "The storage driver; null: Docker's choice (overlay2 on ext4)."; };
    logDriver = mkOption { type = types.enum [ "none" "json-file" "syslog" "journald" "gelf" "fluentd" "awslogs" "splunk" "etwlogs" "gcplogs" "local" ]; default = "journald"; description = "Where containers' output goes."; };
    extraOptions = mkOption { type = types.separatedString " "; default = ""; description = "More arguments of dockerd."; };
    extraPackages = mkOption { type = types.listOf types.package; default = [ ]; description = "More packages on dockerd's PATH."; };
    daemon.settings = mkOption {
      type = settingsFormat;
      default = { };
      example = { ipv6 = true; "fixed-cidr-v6" = "fd00::/80"; };
      description = "/etc/docker/daemon.json (dockerd(8)).";
    };
    autoPrune = {
      enable = mkOption { type = types.bool; default = false; description = "Whether unused images, containers and networks are removed now and then (docker system prune)."; };
      flags = mkOption { type = types.listOf types.str; default = [ ]; example = [ "--all" ]; description = "More arguments of docker system prune."; };
      dates = mkOption { type = types.either types.str (types.listOf types.str); default = "weekly"; description = "When (systemd calendar events)."; };
    };
    rootless.enable = mkOption { type = types.bool; default = false; description = "Whether users run their own rootless dockerd (not available in Kiln: Debian 12 ships no rootless kit for docker.io)."; };
  };

  config = lib.mkIf cfg.enable {
    assertions = [ { assertion = !cfg.rootless.enable; message = "virtualisation.docker.rootless.enable: Debian 12's docker.io has no rootless mode (rootlesskit is not packaged); use virtualisation.podman, which runs rootless."; } ];
    virtualisation.docker.daemon.settings = {
      group = "docker";
      hosts = [ "fd://" ];
      log-driver = lib.mkDefault cfg.logDriver;
      live-restore = lib.mkDefault cfg.liveRestore;
    } // lib.optionalAttrs (cfg.storageDriver != null) { storage-driver = lib.mkDefault cfg.storageDriver; };

    environment.systemPackages = [ cfg.package ];
    environment.etc."docker/daemon.json".text = builtins.toJSON cfg.daemon.settings;
    users.groups.docker = { };
    boot.kernelModules = [ "bridge" "br_netfilter" "overlay" "veth" ];
    # Containers reach the world through the host: Docker's own iptables rules NAT them.
    boot.kernel.sysctl."net.ipv4.conf.all.forwarding" = lib.mkDefault true;

    systemd.packages = [ cfg.package ];
    systemd.sockets.docker = { overrideStrategy = "asDropin"; wantedBy = [ "sockets.target" ]; };
    systemd.services.docker = {
      overrideStrategy = "asDropin";
      wantedBy = lib.optional cfg.enableOnBoot "multi-user.target";
      # Debian's kernel has AppArmor on, so dockerd confines every container with its
      # docker-default profile and needs apparmor_parser to load it (Debian: Recommends).
      path = [ pkgs.kmod pkgs.apparmor ] ++ cfg.extraPackages;
      restartTriggers = [ (builtins.toJSON cfg.daemon.settings) ];
      serviceConfig.ExecStart = [ "" "/usr/sbin/dockerd --config-file=/etc/docker/daemon.json ${cfg.extraOptions}" ];
    };
    systemd.services.docker-prune = lib.mkIf cfg.autoPrune.enable {
      description = "Prune docker resources";
      after = [ "docker.service" ];
      requires = [ "docker.service" ];
      startAt = cfg.autoPrune.dates;
      serviceConfig = { Type = "oneshot"; ExecStart = "/usr/bin/docker system prune -f ${lib.concatStringsSep " " cfg.autoPrune.flags}"; };
    };
  };
}
