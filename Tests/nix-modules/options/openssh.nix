# sshd with the firewall opened for it, a key for root, no passwords, list settings.
{ ... }:
{
  services.openssh = {
    enable = true;
    settings.PasswordAuthentication = false;
    settings.MaxAuthTries = 3;
    # users and groups space-separated, algorithms comma-separated (sshd_config(5))
    settings.AllowGroups = [ "wheel" "jump" ];
    settings.KexAlgorithms = [ "curve25519-sha256" "sntrup761x25519-sha512@openssh.com" ];
  };
  users.users.root.openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest root@test" ];
}
