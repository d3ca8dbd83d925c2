# services.openvpn.servers: one unit per instance, NixOS's configuration text with the
# up/down scripts and credentials beside it; a second instance left to start by hand.
{ ... }:
{
  services.openvpn.servers = {
    office = {
      config = ''
        client
        remote vpn.example.test 1194
        dev tun
      '';
      up = "echo up $dev";
      updateResolvConf = true;
      authUserPass = { username = "alice"; password = "secret"; };
    };
    lab = { config = "dev tun\nifconfig 10.8.0.1 10.8.0.2\nsecret /root/static.key\n"; autoStart = false; };
  };
}
