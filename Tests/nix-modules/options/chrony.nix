# services.chrony as a LAN's time server: its own servers, a threshold, serving the LAN.
{ ... }:
{
  services.timesyncd.enable = true;
  services.chrony = {
    enable = true;
    servers = [ "ntp1.example.org" "ntp2.example.org" ];
    initstepslew.threshold = 30;
    extraConfig = "allow 192.168.1.0/24";
    extraFlags = [ "-r" ];
  };
}
