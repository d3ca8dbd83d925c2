{ pkgs, ... }:
{
  networking.hostName = "bad" ;;
}
