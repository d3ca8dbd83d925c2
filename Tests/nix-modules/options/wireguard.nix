# networking.wg-quick and networking.wireguard: wg-quick files and their units.
{ pkgs, ... }:
{
  networking.wg-quick.interfaces.wg0 = {
    address = [ "10.100.0.1/24" "fd00::1/64" ];
    listenPort = 51820;
    privateKey = "YHqCuA8w8ETlHWwUasYIjMCVp548Og46ZhjWlKuen20=";
    dns = [ "10.100.0.53" ];
    mtu = 1380;
    postUp = [ "echo up" ];
    autostart = false;
    peers = [ {
      publicKey = "tT5wqsoXn3Pr6MC0gyCf6c9QMtHcNUXnuYlCn/E1504=";
      allowedIPs = [ "10.100.0.2/32" ];
      endpoint = "peer.example.org:51820";
      persistentKeepalive = 25;
    } ];
  };
  networking.wireguard.interfaces.wg1 = {
    ips = [ "10.101.0.1/24" ];
    privateKeyFile = "/var/lib/wireguard/wg1.key";
    generatePrivateKeyFile = true;
    peers = [ { publicKey = "tT5wqsoXn3Pr6MC0gyCf6c9QMtHcNUXnuYlCn/E1504="; allowedIPs = [ "10.101.0.0/24" ]; presharedKeyFile = "/etc/psk"; } ];
  };
}
