{ ... }:
{
  services.redis.servers."" = { enable = true; settings.maxmemory = "64mb"; };
  services.redis.servers.cache = { enable = true; port = 6380; requirePass = "s3cret"; };
}
