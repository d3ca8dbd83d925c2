# Generation 3 of the lifecycle test: generation 2 with a unit that fails at boot, so a
# trial boot of it is not confirmed and the machine falls back by itself.
{ ... }:
{
  imports = [ ./lifecycle-gen2.nix ];
  systemd.services.kiln-broken = {
    wantedBy = [ "multi-user.target" ];
    serviceConfig = { Type = "oneshot"; ExecStart = "/run/current-system/sw/bin/false"; };
  };
}
