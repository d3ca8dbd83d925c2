{ pkgs, ... }:
{
  environment.systemPackages = [ pkgs.bash pkgs.nosuchpkg ];
}
