# What small boards set: zramSwap, systemd.watchdog, programs.direnv.
{ ... }:
{
  zramSwap = { enable = true; swapDevices = 2; memoryPercent = 30; memoryMax = 536870912; algorithm = "lz4"; };
  systemd.watchdog = { runtimeTime = "30s"; rebootTime = "10m"; };
  systemd.extraConfig = "DefaultTimeoutStopSec=20s";
  programs.zsh.enable = true;
  programs.direnv = { enable = true; silent = true; direnvrcExtra = "use_mine() { :; }"; };
}
