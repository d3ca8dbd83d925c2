# Generation 2 of the lifecycle test (lifecycle.sh), over a matrix machine's profile: a new
# package, changed units (kiln-demo's and kiln-keep's environment) and a new service whose
# script is a store object the configuration writes (it must travel with the switch); and a
# specialisation (a variant with its own boot entry) that differs by one file in /etc.
{ pkgs, lib, ... }:
{
  environment.systemPackages = [ pkgs.hello ];
  systemd.services.kiln-demo.environment.GREETING = lib.mkForce "two";
  systemd.services.kiln-keep.environment.GREETING = lib.mkForce "two";
  systemd.services.kiln-demo2 = {
    wantedBy = [ "multi-user.target" ];
    serviceConfig.ExecStart = "${pkgs.writeShellScript "kiln-demo2" "exec /run/current-system/sw/bin/sleep infinity"}";
  };
  specialisation.quiet.configuration = {
    environment.etc."kiln-variant".text = "quiet\n";
  };
}
