# services.epmd (NixOS: nixos/modules/services/networking/epmd.nix): the Erlang port mapper,
# through which Erlang nodes (RabbitMQ and its CLI tools) find each other, started by its
# socket. Debian's erlang-base has the daemon; the units are NixOS's.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.epmd;
in
{
  options.services.epmd = {
    enable = mkOption {
      type = types.bool;
      default = false;
      description = "Whether the Erlang port mapper daemon listens (socket-activated), for Erlang nodes to find each other.";
    };
    package = mkOption {
      type = types.package;
      default = pkgs.erlang-base;
      defaultText = lib.literalExpression "pkgs.erlang";
      description = "The Erlang package whose epmd runs.";
    };
    listenStream = mkOption {
      type = types.str;
      default = "[::]:4369";
      description = "Where epmd listens (a systemd ListenStream=): an address and port, or a port.";
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    systemd.sockets.epmd = {
      description = "Erlang Port Mapper Daemon Activation Socket";
      wantedBy = [ "sockets.target" ];
      before = [ "sockets.target" ];
      socketConfig = { ListenStream = cfg.listenStream; Accept = "false"; };
    };
    systemd.services.epmd = {
      description = "Erlang Port Mapper Daemon";
      after = [ "network.target" "epmd.socket" ];
      requires = [ "epmd.socket" ];
      serviceConfig = { DynamicUser = true; ExecStart = "/usr/bin/epmd -systemd"; };
    };
  };
}
