# The team's own module for its document queue: the web app (elsewhere) saves uploads under
# `uploads` and pushes their paths onto a Redis list; `workers` services take them off it and
# count each document's words into a Redis hash; a timer writes a summary of what was indexed.
# Workers run with a throwaway user (DynamicUser) that may only read uploads and talk to
# Redis through its socket (the server's group).
{ config, lib, pkgs, ... }:

let
  cfg = config.services.docqueue;
  redisUnit = "redis-${cfg.redisServer}";
  socket = config.services.redis.servers.${cfg.redisServer}.unixSocket;
  worker = pkgs.writeScript "docqueue-worker" ''
    #!${pkgs.python3}/bin/python3
    import os
    import redis

    r = redis.Redis(unix_socket_path=os.environ["REDIS_SOCKET"], decode_responses=True)
    me = os.environ["WORKER"]
    while True:
        _, path = r.blpop("docqueue:jobs")
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                words = len(f.read().split())
        except OSError as e:
            r.hset("docqueue:errors", path, e.strerror)
            continue
        r.hset("docqueue:words", path, words)
        r.hset("docqueue:worker", path, me)
  '';
  common = {
    after = [ "${redisUnit}.service" ];
    requires = [ "${redisUnit}.service" ];
    environment.REDIS_SOCKET = socket;
    serviceConfig = {
      DynamicUser = true;
      SupplementaryGroups = [ redisUnit ];
      ProtectSystem = "strict";
      ProtectHome = true;
      ReadOnlyPaths = [ cfg.uploads ];
    };
  };
in
{
  options.services.docqueue = {
    enable = lib.mkEnableOption "the document queue's workers";
    workers = lib.mkOption {
      type = lib.types.ints.positive;
      default = 2;
      description = "How many workers take documents off the queue.";
    };
    redisServer = lib.mkOption {
      type = lib.types.str;
      default = "docqueue";
      description = "The services.redis.servers entry that holds the queue.";
    };
    uploads = lib.mkOption {
      type = lib.types.path;
      default = "/srv/uploads";
      description = "Where the web app saves uploaded documents.";
    };
    summaryAt = lib.mkOption {
      type = lib.types.str;
      default = "daily";
      description = "When the summary is written (a systemd calendar event).";
    };
  };

  config = lib.mkIf cfg.enable {
    services.redis.servers.${cfg.redisServer} = {
      enable = true;
      port = 0;  # the socket only
      appendOnly = true;
    };

    environment.systemPackages = [ pkgs.python3 pkgs.python3Packages.redis ];
    systemd.tmpfiles.rules = [ "d ${cfg.uploads} 0755 root root -" ];

    systemd.services = lib.listToAttrs (map (i: lib.nameValuePair "docqueue-worker-${toString i}" (lib.recursiveUpdate common {
      description = "Document queue worker ${toString i}";
      wantedBy = [ "multi-user.target" ];
      environment.WORKER = "worker-${toString i}";
      serviceConfig = {
        ExecStart = worker;
        Restart = "always";
      };
    })) (lib.range 1 cfg.workers)) // {
      docqueue-summary = lib.recursiveUpdate common {
        description = "Summary of the indexed documents";
        startAt = cfg.summaryAt;
        path = [ pkgs.redis ];
        serviceConfig = {
          Type = "oneshot";
          StateDirectory = "docqueue";
        };
        script = ''
          {
            echo "documents: $(redis-cli -s "$REDIS_SOCKET" hlen docqueue:words)"
            echo "unreadable: $(redis-cli -s "$REDIS_SOCKET" hlen docqueue:errors)"
            redis-cli -s "$REDIS_SOCKET" --no-raw hgetall docqueue:words
          } > "$STATE_DIRECTORY/summary.txt"
        '';
      };
    };
  };
}
