# A colleague's machine at home: the office VPN with wg-quick (the office's names resolve
# through the tunnel's DNS, everything else as before), an SSH alias for the gateway through
# it, and the person's own account and tools.
{ config, lib, pkgs, ... }:

let
  vpn = import ../common/office-vpn.nix;
  me = vpn.peers.anna;
in
{
  imports = [ ./hardware-configuration.nix ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "anna-home";
  time.timeZone = "Europe/Amsterdam";

  services.resolved.enable = true;
  networking.wg-quick.interfaces.office = {
    address = [ "${vpn.subnet}.${toString me.ip}/24" ];
    # A demo key: a real machine would use privateKeyFile.
    privateKey = "eCTUIuiWA7MskiQbYlxHAvFbdtXDWCwGR4SI1BpVu0k=";
    dns = [ "${vpn.subnet}.1" "~office.example.test" ];
    peers = [
      { publicKey = vpn.gateway.publicKey;
        endpoint = "${vpn.endpoint}:${toString vpn.port}";
        allowedIPs = [ "${vpn.subnet}.0/24" ];
        persistentKeepalive = 25;
      }
    ];
  };

  users.users.anna = {
    isNormalUser = true;
    extraGroups = [ "wheel" ];
    initialPassword = "change-me";
  };

  programs.ssh.extraConfig = ''
    Host office
      HostName ${vpn.subnet}.1
      User anna
  '';

  environment.systemPackages = with pkgs; [ curl dig git vim ];

  system.stateVersion = "24.05";
}
