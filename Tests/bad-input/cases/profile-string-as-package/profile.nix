{ ... }:
{
  environment.systemPackages = [ "bash" ];
}
