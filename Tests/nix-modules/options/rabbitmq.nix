{ ... }:
{
  services.rabbitmq = {
    enable = true;
    listenAddress = "";
    port = 5673;
    cookie = "cluster-secret";
    managementPlugin = { enable = true; port = 15673; };
    plugins = [ "rabbitmq_shovel" ];
    pluginDirs = [ "/srv/rabbitmq-plugins" ];
    configItems."vm_memory_high_watermark.relative" = "0.3";
    config = "[ {rabbit, [ {tcp_listen_options, [{backlog, 256}]} ]} ].";
  };
  services.epmd.listenStream = "127.0.0.1:4369";
}
