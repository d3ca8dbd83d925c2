{ pkgs, ... }:
{
  environment.etc."generated.conf".source = pkgs.runCommand "generated.conf" { } ''
    echo "port = 80" > $out
  '';
}
