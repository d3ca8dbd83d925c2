{ ... }: { services.opensshd.enable = true; }
