# services.logind (NixOS: nixos/modules/system/boot/systemd/logind.nix): what the lid and
# the power keys do, and whether a user's processes outlive their session. Written to
# /etc/systemd/logind.conf as NixOS writes it, once any of them differs from systemd's
# defaults (which are also these options' defaults).
{ config, lib, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.logind;
  action = types.enum [ "ignore" "poweroff" "reboot" "halt" "kexec" "suspend" "hibernate" "hybrid-sleep" "suspend-then-hibernate" "sleep" "lock" "factory-reset" ];
  handler = default: description: mkOption { type = action; inherit default description; };
  text = ''
    [Login]
    KillUserProcesses=${if cfg.killUserProcesses then "yes" else "no"}
    HandlePowerKey=${cfg.powerKey}
    HandlePowerKeyLongPress=${cfg.powerKeyLongPress}
    HandleRebootKey=${cfg.rebootKey}
    HandleRebootKeyLongPress=${cfg.rebootKeyLongPress}
    HandleSuspendKey=${cfg.suspendKey}
    HandleSuspendKeyLongPress=${cfg.suspendKeyLongPress}
    HandleHibernateKey=${cfg.hibernateKey}
    HandleHibernateKeyLongPress=${cfg.hibernateKeyLongPress}
    HandleLidSwitch=${cfg.lidSwitch}
    HandleLidSwitchDocked=${cfg.lidSwitchDocked}
    HandleLidSwitchExternalPower=${cfg.lidSwitchExternalPower}
    ${cfg.extraConfig}
  '';
  changed = cfg.killUserProcesses || cfg.powerKey != "poweroff" || cfg.powerKeyLongPress != "ignore"
    || cfg.rebootKey != "reboot" || cfg.rebootKeyLongPress != "poweroff" || cfg.suspendKey != "suspend"
    || cfg.suspendKeyLongPress != "hibernate" || cfg.hibernateKey != "hibernate" || cfg.hibernateKeyLongPress != "ignore"
    || cfg.lidSwitch != "suspend" || cfg.lidSwitchDocked != "ignore" || cfg.lidSwitchExternalPower != cfg.lidSwitch
    || cfg.extraConfig != "";
in
{
  options.services.logind = {
    extraConfig = mkOption { type = types.lines; default = ""; example = "IdleAction=lock"; description = "More lines of logind.conf's [Login] section."; };
    killUserProcesses = mkOption { type = types.bool; default = false; description = "Whether a user's processes (tmux, nohup) are killed when they log out."; };
    powerKey = handler "poweroff" "What the power key does.";
    powerKeyLongPress = handler "ignore" "What holding the power key does.";
    rebootKey = handler "reboot" "What the reboot key does.";
    rebootKeyLongPress = handler "poweroff" "What holding the reboot key does.";
    suspendKey = handler "suspend" "What the suspend key does.";
    suspendKeyLongPress = handler "hibernate" "What holding the suspend key does.";
    hibernateKey = handler "hibernate" "What the hibernate key does.";
    hibernateKeyLongPress = handler "ignore" "What holding the hibernate key does.";
    lidSwitch = handler "suspend" "What closing the lid does.";
    lidSwitchDocked = handler "ignore" "What closing the lid does with another display connected or docked.";
    lidSwitchExternalPower = mkOption {
      type = action;
      default = cfg.lidSwitch;
      defaultText = lib.literalExpression "config.services.logind.lidSwitch";
      description = "What closing the lid does on external power.";
    };
  };

  config = lib.mkIf changed {
    environment.etc."systemd/logind.conf".text = text;
  };
}
