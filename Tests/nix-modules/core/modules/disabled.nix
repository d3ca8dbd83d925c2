# A module that modules-basic.nix disables: its definition must not count.
{ services.nginx.enable = true; }
