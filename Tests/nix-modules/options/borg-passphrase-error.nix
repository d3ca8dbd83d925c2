# An encrypted Borg repository without a way to the passphrase.
{ ... }:
{
  services.borgbackup.jobs.home = { paths = "/home"; repo = "/srv/borg"; encryption.mode = "repokey"; };
}
