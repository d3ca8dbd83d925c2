{ pkgs, ... }:
{
  networking.hostName = nosuchvar;
}
