# cloud-init with a setting of the user's merged over Kiln's, and two datasources.
{ ... }:
{
  services.cloud-init = {
    enable = true;
    datasources = [ "NoCloud" "None" ];
    settings.timezone = "Europe/Paris";
    settings.disable_root = true;
  };
}
