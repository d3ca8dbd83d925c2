# Three of the corpus's configurations (Tests/nixos-configs/), unchanged, on one LAN: the
# office's VPN gateway, a colleague's machine at home that connects to it with wg-quick, and
# the branch office's router, which connects with systemd-networkd's own WireGuard. Through
# the tunnel the colleague resolves the office's names with the gateway's dnsmasq, reads the
# intranet page and reaches SSH; from the LAN the gateway answers WireGuard and the
# monitoring host's scrapes only. The branch router's bridge leases its LAN addresses.
{
  name = "corpus-vpn";
  # Nodes are numbered in the order of their names: the gateway is 192.168.1.1.
  nodes.gateway = { imports = [ ../Tests/nixos-configs/vpn-gateway/configuration.nix ]; };
  nodes.remote = {
    imports = [ ../Tests/nixos-configs/remote-worker/configuration.nix ];
    # The test's stand-in for the public DNS name the configuration gives as the endpoint.
    networking.hosts."192.168.1.1" = [ "vpn.example.test" ];
  };
  nodes.site = {
    imports = [ ../Tests/nixos-configs/branch-router/configuration.nix ];
    networking.hosts."192.168.1.1" = [ "vpn.example.test" ];
    # The test's stand-in for a machine on the branch's LAN: a veth pair, one end a port of
    # the LAN bridge, the other asking networkd's DHCP server for an address.
    systemd.network.netdevs."90-probe" = {
      netdevConfig = { Kind = "veth"; Name = "lan-probe"; };
      peerConfig.Name = "lan-client";
    };
    systemd.network.networks."90-probe" = { name = "lan-probe"; networkConfig.Bridge = "br-lan"; };
    systemd.network.networks."91-client" = { name = "lan-client"; DHCP = "ipv4"; };
  };
  testScript = ''
    start_all()

    with subtest("the tunnel comes up from both ends"):
        gateway.wait_for_unit("wg-quick-wg0.service")
        remote.wait_for_unit("wg-quick-office.service")
        remote.wait_until_succeeds("ping -c 1 -W 2 10.88.0.1", timeout=90)
        handshakes = gateway.succeed("wg show wg0 latest-handshakes")
        assert any(int(line.split()[1]) > 0 for line in handshakes.splitlines()), handshakes
        gateway.succeed("dnsmasq --test -C /etc/dnsmasq.conf")

    with subtest("through the tunnel: the office's names, the intranet, SSH"):
        gateway.wait_for_unit("dnsmasq.service")
        gateway.wait_for_unit("nginx.service")
        assert remote.succeed("dig +short @10.88.0.1 intranet.office.example.test").strip() == "10.88.0.1"
        # wg-quick handed the office's domain to resolved: the name resolves with no server named.
        remote.wait_until_succeeds("resolvectl query intranet.office.example.test | grep -q 10.88.0.1", timeout=60)
        assert "10.88.0.3" in remote.succeed("resolvectl query omar.office.example.test")
        assert "office intranet" in remote.succeed("curl -sf http://intranet.office.example.test/")
        gateway.wait_for_unit("sshd.service")
        gateway.wait_for_open_port(22)
        remote.succeed("nc -z -w 5 10.88.0.1 22")
        assert "hostname 10.88.0.1" in remote.succeed("ssh -G office").lower()

    with subtest("the branch router: networkd's WireGuard reaches the office and its names, its bridge leases LAN addresses"):
        site.wait_for_unit("systemd-networkd.service")
        site.wait_until_succeeds("ping -c 1 -W 2 10.88.0.1", timeout=90)
        assert "10.88.0.4/24" in site.succeed("ip -4 addr show office")
        site.wait_until_succeeds("resolvectl query intranet.office.example.test | grep -q 10.88.0.1", timeout=60)
        assert "office intranet" in site.succeed("curl -sf http://intranet.office.example.test/")
        assert "192.168.1.3" in gateway.succeed("wg show wg0 endpoints")
        assert "10.20.0.1/24" in site.succeed("ip -4 addr show br-lan")
        assert "master br-lan" in site.succeed("ip link show lan-probe")
        site.wait_until_succeeds("ip -4 addr show lan-client | grep -q 'inet 10.20.0.1[0-9][0-9]/24'", timeout=90)
        site.succeed("networkctl status br-lan | grep -q 'Offered DHCP leases'")

    with subtest("from the LAN: WireGuard, and the metrics the shared admins module opens"):
        gateway.wait_for_unit("prometheus-node-exporter.service")
        remote.wait_until_succeeds("curl -sf http://192.168.1.1:9100/metrics | grep -q node_uname_info", timeout=60)
        remote.fail("nc -z -w 5 192.168.1.1 22")
        remote.fail("curl -sf -m 5 http://192.168.1.1/")
        remote.fail("ping -c 1 -W 2 192.168.1.1")
        gateway.succeed("nft list ruleset | grep -q 'iifname \"wg0\" icmp type echo-request accept'")
  '';
}
