# services.borgbackup.jobs (a local and a remote repository) and services.mysqlBackup.
{ ... }:
{
  networking.hostName = "vault";
  services.mysql.enable = true;
  services.mysqlBackup = { enable = true; databases = [ "a" "b" ]; singleTransaction = true; };
  services.borgbackup.jobs.local = {
    paths = "/var/backup";
    repo = "/srv/borg";
    encryption.mode = "none";
    prune.keep = { within = "1d"; daily = 7; };
    persistentTimer = true;
  };
  services.borgbackup.jobs.offsite = {
    paths = [ "/home" "/etc" ];
    exclude = [ "/home/*/.cache" ];
    repo = "borg@backup.example:vault";
    encryption = { mode = "repokey-blake2"; passCommand = "cat /root/borg-pass"; };
    startAt = "hourly";
    appendFailedSuffix = false;
    doInit = false;
  };
}
