{ ... }:
{
  networking.hostName = throw "no host name today";
}
