{ ... }:
{
  boot.initrd.secrets."/etc/secrets/initrd/ssh_host_ed25519_key" = /etc/ssh/ssh_host_ed25519_key;
}
