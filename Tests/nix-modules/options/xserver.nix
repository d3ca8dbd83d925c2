# X with LightDM and Xfce in the older option names, with automatic login.
{ ... }:
{
  users.users.kim.isNormalUser = true;
  services.xserver = {
    enable = true;
    layout = "de";
    xkbOptions = "eurosign:e";
    desktopManager.xfce.enable = true;
    displayManager.autoLogin = { enable = true; user = "kim"; };
  };
}
