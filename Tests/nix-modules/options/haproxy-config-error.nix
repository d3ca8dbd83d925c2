# HAProxy enabled without a configuration: refused by name, as NixOS does.
{ ... }:
{
  services.haproxy.enable = true;
}
