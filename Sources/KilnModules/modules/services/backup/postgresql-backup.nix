# services.postgresqlBackup (NixOS: nixos/modules/services/backup/postgresql-backup.nix):
# pg_dump of each database (or pg_dumpall) on a timer, compressed, into `location`; a dump
# is written under a temporary name and renamed, so a file there is always whole.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.postgresqlBackup;
  bin = "/usr/lib/postgresql/${config.services.postgresql.version}/bin";
  compress = {
    none = { cmd = "cat"; ext = ""; };
    gzip = { cmd = "gzip -c -6"; ext = ".gz"; };
    zstd = { cmd = "zstd -c -q"; ext = ".zst"; };
  }.${cfg.compression};
  unit = name: dump: {
    description = "Backup of PostgreSQL ${name}";
    after = [ "postgresql.service" ];
    requires = [ "postgresql.service" ];
    startAt = cfg.startAt;
    environment.PGHOST = "/run/postgresql";
    script = ''
      set -o pipefail
      out=${cfg.location}/${name}.sql${compress.ext}
      ${dump} | ${compress.cmd} > "$out.in-progress"
      mv -f "$out.in-progress" "$out"
    '';
    serviceConfig = { Type = "oneshot"; User = "postgres"; UMask = "0077"; };
  };
in
{
  options.services.postgresqlBackup = {
    enable = lib.mkEnableOption "PostgreSQL dumps on a timer";
    databases = mkOption { type = types.listOf types.str; default = [ ]; description = "The databases dumped one by one (pg_dump)."; };
    backupAll = mkOption {
      type = types.bool;
      default = cfg.databases == [ ];
      defaultText = lib.literalExpression "databases == [ ]";
      description = "Whether the whole cluster is dumped at once (pg_dumpall) as all.sql.";
    };
    location = mkOption { type = types.str; default = "/var/backup/postgresql"; description = "Where the dumps go."; };
    startAt = mkOption { type = types.either types.str (types.listOf types.str); default = "*-*-* 01:15:00"; description = "When (systemd.time(7) calendar events)."; };
    compression = mkOption { type = types.enum [ "none" "gzip" "zstd" ]; default = "gzip"; description = "How dumps are compressed."; };
    pgdumpOptions = mkOption { type = types.separatedString " "; default = "-C"; description = "Options of pg_dump."; };
  };

  config = lib.mkIf cfg.enable {
    assertions = [{
      assertion = config.services.postgresql.enable;
      message = "services.postgresqlBackup is enabled without services.postgresql: there is nothing to dump.";
    }];
    environment.systemPackages = lib.optional (cfg.compression == "zstd") pkgs.zstd;
    systemd.tmpfiles.rules = [ "d ${cfg.location} 0700 postgres postgres -" ];
    systemd.services = if cfg.backupAll
      then { postgresqlBackup = unit "all" "${bin}/pg_dumpall"; }
      else lib.listToAttrs (map (db: lib.nameValuePair "postgresqlBackup-${db}"
        (unit db "${bin}/pg_dump ${cfg.pgdumpOptions} ${lib.escapeShellArg db}")) cfg.databases);
  };
}
