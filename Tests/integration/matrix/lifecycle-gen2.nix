# Generation 2 of the lifecycle test (lifecycle.sh), over a matrix machine's profile: a new
# package, a changed unit (kiln-demo's environment) and a new service.
{ pkgs, lib, ... }:
{
  environment.systemPackages = [ pkgs.hello ];
  systemd.services.kiln-demo.environment.GREETING = lib.mkForce "two";
  systemd.services.kiln-demo2 = {
    wantedBy = [ "multi-user.target" ];
    serviceConfig.ExecStart = "/run/current-system/sw/bin/sleep infinity";
  };
}
