{ pkgs, ... }:
{
  networking.hostName = "monitoring";
  services.influxdb = {
    enable = true;
    extraConfig = {
      http.bind-address = "127.0.0.1:8086";
      monitor.store-enabled = true;
      graphite = [ { enabled = true; database = "graphite"; bind-address = ":2003"; templates = [ "host.measurement.field*" ]; } ];
    };
  };
  services.netdata = {
    enable = true;
    python.extraPackages = ps: [ ps.psycopg2 ];
    config = {
      global = { "update every" = 2; "memory mode" = "dbengine"; };
      ml.enabled = "no";
    };
  };
}
