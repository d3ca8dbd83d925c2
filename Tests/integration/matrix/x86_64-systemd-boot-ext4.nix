# Boot matrix: x86_64-systemd-boot-ext4 (built with --hardware hardware/qemu-x86_64.nix).
# Its lifecycle also switches as a user who is not root, through sudo (--use-remote-sudo).
{ ... }:
{
  imports = [ ../../../profiles/minimal.nix ./ssh.nix ];
  boot.loader.systemd-boot.enable = true;
  fileSystems."/".fsType = "ext4";
  users.users.deploy = {
    isNormalUser = true;
    extraGroups = [ "wheel" ];
    openssh.authorizedKeys.keyFiles = [ ./key.pub ];
  };
  security.sudo.enable = true;
  security.sudo.wheelNeedsPassword = false;
}
