{ config, ... }:
{
  networking.hostName = config.networking.hostName;
}
