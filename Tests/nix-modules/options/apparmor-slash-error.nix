# A policy name with a slash is refused by name, as NixOS refuses it.
{ ... }:
{
  security.apparmor = { enable = true; policies."usr/bin/x".profile = "profile x { }"; };
}
