{ ... }:
{
  services.clamav = {
    daemon = {
      enable = true;
      settings = { MaxFileSize = "50M"; ExcludePath = [ "^/proc/" "^/sys/" ]; ScanMail = true; };
    };
    updater = { enable = true; interval = "daily"; frequency = 4; };
    scanner = { enable = true; scanDirectories = [ "/home" "/var/mail" ]; };
  };
}
