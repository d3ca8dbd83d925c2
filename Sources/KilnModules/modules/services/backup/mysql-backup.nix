# services.mysqlBackup (NixOS: nixos/modules/services/backup/mysql-backup.nix): mysqldump of
# each database on a timer, gzipped, into `location`, as an account of its own that MariaDB
# lets read everything (ensureUsers, socket-authenticated) and nothing else. A dump is
# written under a temporary name and renamed, so a file there is always whole.
{ config, lib, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.mysqlBackup;
  dump = db: ''
    dump=${cfg.location}/${db}.gz
    if mysqldump ${lib.optionalString cfg.singleTransaction "--single-transaction"} ${lib.escapeShellArg db} | gzip -c ${cfg.gzipOptions} > "$dump.in-progress"; then
      mv -f "$dump.in-progress" "$dump"
    else
      echo "mysqldump of ${db} failed" >&2
      rm -f "$dump.in-progress"
      failed=1
    fi
  '';
in
{
  options.services.mysqlBackup = {
    enable = lib.mkEnableOption "MySQL/MariaDB dumps on a timer";
    calendar = mkOption { type = types.str; default = "01:15:00"; description = "When the dumps run (a systemd.time(7) calendar event)."; };
    user = mkOption { type = types.str; default = "mysqlbackup"; description = "The account (Unix and MariaDB) the dumps run as."; };
    databases = mkOption { type = types.listOf types.str; default = [ ]; description = "The databases dumped, each to <location>/<name>.gz."; };
    location = mkOption { type = types.path; default = "/var/backup/mysql"; description = "Where the dumps go."; };
    singleTransaction = mkOption { type = types.bool; default = false; description = "Whether each dump is one transaction (--single-transaction: consistent InnoDB dumps without locking)."; };
    gzipOptions = mkOption { type = types.str; default = "--no-name --rsyncable"; description = "Options of gzip."; };
  };

  config = lib.mkIf cfg.enable {
    assertions = [{
      assertion = config.services.mysql.enable;
      message = "services.mysqlBackup is enabled without services.mysql: there is nothing to dump.";
    }];
    users.users.${cfg.user} = {
      isSystemUser = true;
      createHome = false;
      home = cfg.location;
      group = "nogroup";
    };
    services.mysql.ensureUsers = [{
      name = cfg.user;
      ensurePermissions."*.*" = "SELECT, SHOW VIEW, TRIGGER, LOCK TABLES";
    }];
    systemd.tmpfiles.rules = [ "d ${cfg.location} 0700 ${cfg.user} - - -" ];
    systemd.timers.mysql-backup = {
      description = "Timer of the MySQL dumps";
      wantedBy = [ "timers.target" ];
      timerConfig = { OnCalendar = cfg.calendar; AccuracySec = "5m"; Unit = "mysql-backup.service"; };
    };
    systemd.services.mysql-backup = {
      description = "MySQL dumps";
      after = [ "mysql.service" ];
      requires = [ "mysql.service" ];
      script = ''
        set -o pipefail
        failed=""
        ${lib.concatMapStrings dump cfg.databases}
        if [ -n "$failed" ]; then exit 1; fi
      '';
      serviceConfig = { Type = "oneshot"; User = cfg.user; UMask = "0077"; };
    };
  };
}
