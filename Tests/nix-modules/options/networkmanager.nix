# A laptop's NetworkManager: a static interface it must leave alone, one more by name, DNS
# through systemd-resolved, a Wi-Fi profile, a dispatcher script and a setting of its own.
{ ... }:
{
  networking.networkmanager = {
    enable = true;
    unmanaged = [ "docker0" ];
    wifi.powersave = false;
    settings.main.no-auto-default = "*";
    dispatcherScripts = [ { source = "#!/bin/sh\nlogger \"$1 $2\"\n"; } { source = "#!/bin/sh\n"; type = "pre-up"; } ];
    ensureProfiles.profiles.home = {
      connection = { id = "home"; type = "wifi"; autoconnect = true; };
      wifi.ssid = "Home";
      wifi-security = { key-mgmt = "wpa-psk"; psk = "correct horse"; };
    };
  };
  services.resolved.enable = true;
  networking.interfaces.eth1.ipv4.addresses = [ { address = "10.0.0.1"; prefixLength = 24; } ];
}
