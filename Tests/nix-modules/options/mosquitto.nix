{ ... }:
{
  services.mosquitto = {
    enable = true;
    logType = [ "error" "warning" ];
    settings.max_keepalive = 60;
    listeners = [
      {
        acl = [ "pattern read sensors/%u/#" ];
        users.monitor = { acl = [ "read #" ]; hashedPassword = "$7$101$abc"; };
        users.sensor = { acl = [ "readwrite sensors/#" ]; password = "it's secret"; };
      }
      { port = 8883; address = "127.0.0.1"; omitPasswordAuth = true; settings.allow_anonymous = true; acl = [ "topic read public/#" ]; }
    ];
    bridges.cloud = { addresses = [ { address = "mqtt.example.org"; } ]; topics = [ "sensors/# out 1" ]; };
  };
}
