# A small server: SSH for keys only (root has no password), a static web site, and alice,
# an administrator who logs in with her password and uses sudo. The firewall lets in SSH and
# HTTP only.
{ pkgs, ... }:
{
  networking.hostName = "server";

  services.openssh = {
    enable = true;
    settings.PermitRootLogin = "prohibit-password";
    settings.PasswordAuthentication = false;
    settings.KbdInteractiveAuthentication = false;
  };
  # No password logs in as root: add keys to users.users.root.openssh.authorizedKeys.keys.
  users.users.root.hashedPassword = "!";

  services.nginx = {
    enable = true;
    virtualHosts.server = {
      default = true;
      root = "/etc/kiln-www";
      locations."/".tryFiles = "$uri $uri/ =404";
    };
  };
  environment.etc."kiln-www/index.html".text = ''
    <!doctype html>
    <title>Kiln server</title>
    <h1>Served by Kiln</h1>
  '';

  users.users.alice = {
    isNormalUser = true;
    description = "Alice";
    extraGroups = [ "wheel" ];
    initialPassword = "wonderland";
  };
  security.sudo.enable = true;

  networking.firewall.allowedTCPPorts = [ 22 80 ];

  environment.systemPackages = with pkgs; [ curl grep less ];
  time.timeZone = "UTC";
  system.stateVersion = "24.05";
}
