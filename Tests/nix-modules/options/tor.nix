{ ... }:
{
  services.tor = {
    enable = true;
    client.enable = true;
    client.dns.enable = true;
    controlSocket.enable = true;
    settings = {
      ORPort = 9001;
      Nickname = "leftover";
      SOCKSPort = [ { addr = "192.168.1.2"; port = 9150; IsolateClientAddr = true; SessionGroup = 2; } ];
      SafeLogging = false;
    };
    relay.onionServices = {
      ssh.map = [ 22 ];
      web = {
        map = [ { port = 80; target = { addr = "127.0.0.1"; port = 8080; }; } ];
        version = 3;
        authorizedClients = [ "descriptor:x25519:AAAA" ];
        settings.HiddenServiceMaxStreams = 10;
      };
    };
  };
}
