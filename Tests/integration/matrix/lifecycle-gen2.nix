# Generation 2 of the lifecycle test (lifecycle.sh), over a matrix machine's profile: a new
# package, a changed unit (kiln-demo's environment) and a new service; and a specialisation
# (a variant with its own boot entry) that differs by one file in /etc.
{ pkgs, lib, ... }:
{
  environment.systemPackages = [ pkgs.hello ];
  systemd.services.kiln-demo.environment.GREETING = lib.mkForce "two";
  systemd.services.kiln-demo2 = {
    wantedBy = [ "multi-user.target" ];
    serviceConfig.ExecStart = "/run/current-system/sw/bin/sleep infinity";
  };
  specialisation.quiet.configuration = {
    environment.etc."kiln-variant".text = "quiet\n";
  };
}
