{ ... }: { services.openssh = { enable = true; settings.PermitRootLogin = "maybe"; }; }
