{ ... }:
{
  services.postgresql = {
    enable = true;
    enableTCPIP = true;
    authentication = "host all all 10.0.0.0/8 scram-sha-256";
    settings = { shared_buffers = "128MB"; log_connections = true; };
    ensureDatabases = [ "app" ];
    ensureUsers = [ { name = "app"; ensureDBOwnership = true; ensureClauses.createdb = true; } ];
  };
  services.postgresqlBackup = { enable = true; compression = "zstd"; };
}
