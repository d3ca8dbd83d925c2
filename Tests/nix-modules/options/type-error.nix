{ ... }: { networking.firewall.allowedTCPPorts = [ "http" ]; }
