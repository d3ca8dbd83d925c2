{ ... }:
{
  services.prometheus = {
    enable = true;
    port = 9091;
    listenAddress = "127.0.0.1";
    retentionTime = "30d";
    checkConfig = "syntax-only";
    globalConfig = { scrape_interval = "15s"; external_labels.site = "lab"; };
    scrapeConfigs = [
      { job_name = "node"; static_configs = [ { targets = [ "localhost:9100" ]; labels.role = "db"; } ]; }
      { job_name = "blackbox"; metrics_path = "/probe"; params.module = [ "http_2xx" ]; static_configs = [ { targets = [ "example.org" ]; } ]; }
    ];
    rules = [ "groups: []" ];
    exporters.node = { enable = true; enabledCollectors = [ "systemd" ]; disabledCollectors = [ "timex" ]; openFirewall = true; };
  };
}
