# A sudoers rule with a typo: visudo refuses it while the image is built, not at the first
# sudo on the machine.
{ ... }:
{
  networking.hostName = "typo";
  users.users.root.initialPassword = "kiln";
  security.sudo.enable = true;
  security.sudo.extraConfig = ''
    %wheel ALL=(ALL) NOPASSWD ALL
  '';
}
