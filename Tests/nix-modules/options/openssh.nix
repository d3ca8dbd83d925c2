# sshd with the firewall opened for it, a key for root, no passwords.
{ ... }:
{
  services.openssh = {
    enable = true;
    settings.PasswordAuthentication = false;
    settings.MaxAuthTries = 3;
  };
  users.users.root.openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest root@test" ];
}
