{ ... }:
{
  services.cron = { enable = true; mailto = "ops@example.org"; systemCronJobs = [ "*/5 * * * * root /usr/local/bin/backup" ]; };
  services.logrotate = { enable = true; settings.app = { files = [ "/var/log/app/*.log" ]; frequency = "daily"; rotate = 7; compress = true; copytruncate = false; postrotate = "systemctl reload app.service\n"; }; };
}
