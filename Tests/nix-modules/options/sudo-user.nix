# A person in wheel, with sudo.
{ ... }:
{
  users.users.alice = {
    isNormalUser = true;
    description = "Alice";
    extraGroups = [ "wheel" ];
    initialPassword = "wonderland";
  };
  security.sudo.enable = true;
  security.sudo.wheelNeedsPassword = false;
  security.sudo.extraRules = [ { users = [ "alice" ]; commands = [ { command = "/usr/bin/true"; options = [ "NOPASSWD" ]; } ]; } ];
}
