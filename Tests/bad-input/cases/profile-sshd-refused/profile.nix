# An sshd option sshd does not know: sshd -t refuses the file while the image is built.
{ ... }:
{
  networking.hostName = "typo";
  users.users.root.initialPassword = "kiln";
  services.openssh.enable = true;
  services.openssh.extraConfig = ''
    PermitRootLogni no
  '';
}
