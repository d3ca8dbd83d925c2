# Two restic backups as people write them: the home folders to a local disk every night,
# pruned and checked, and a database dump to an SFTP server, started by hand.
{ ... }:
{
  services.restic.backups = {
    home = {
      paths = [ "/home" "/srv/photos" ];
      exclude = [ "/home/*/.cache" ];
      repository = "/mnt/backup/restic";
      passwordFile = "/etc/nixos/secrets/restic-password";
      initialize = true;
      pruneOpts = [ "--keep-daily 7" "--keep-weekly 5" ];
      extraBackupArgs = [ "--exclude-caches" ];
      timerConfig = { OnCalendar = "03:00"; Persistent = true; };
    };
    db = {
      dynamicFilesFrom = "echo /var/backup/db.sql";
      backupPrepareCommand = "pg_dumpall > /var/backup/db.sql";
      repository = "sftp:backup@vault:/srv/restic/db";
      passwordFile = "/etc/nixos/secrets/restic-password";
      environmentFile = "/etc/nixos/secrets/restic-env";
      extraOptions = [ "sftp.command='ssh backup@vault -s sftp'" ];
      timerConfig = null;
    };
  };
}
