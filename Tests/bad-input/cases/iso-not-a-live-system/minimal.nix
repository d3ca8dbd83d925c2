# The smallest useful Kiln system: a serial-console login on systemd.
{ pkgs, ... }:
{
  networking.hostName = "minimal";
  users.users.root.initialPassword = "kiln";
  environment.systemPackages = with pkgs; [ bash coreutils ];
}
