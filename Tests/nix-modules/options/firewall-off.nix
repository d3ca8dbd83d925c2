{ ... }: { networking.firewall.enable = false; }
