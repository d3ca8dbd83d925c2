# services.acpid (NixOS: nixos/modules/services/hardware/acpid.nix), with Debian's acpid.
# Each handler is an event file (event=REGEX, action=SCRIPT %e) under /etc/acpi/kiln-events,
# its script under /etc/acpi/kiln-handlers; acpid reads the kernel's events through netlink
# in the foreground, as NixOS runs it. The canonical handlers (power button, lid, AC
# adapter) come first, as in NixOS; logind handles the same keys unless told to ignore them
# (services.logind.powerKey, lidSwitch).
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.acpid;
  canonicalHandlers = {
    powerEvent = { event = "button/power.*"; action = cfg.powerEventCommands; };
    lidEvent = { event = "button/lid.*"; action = cfg.lidEventCommands; };
    acEvent = { event = "ac_adapter.*"; action = cfg.acEventCommands; };
  };
  handlers = canonicalHandlers // cfg.handlers;
in
{
  options.services.acpid = {
    enable = lib.mkEnableOption "the ACPI daemon";
    logEvents = mkOption { type = types.bool; default = false; description = "Whether every ACPI event is logged."; };
    handlers = mkOption {
      type = types.attrsOf (types.submodule {
        options = {
          event = mkOption { type = types.str; example = "button/power.*"; description = "The events handled (a regular expression over acpid's event text)."; };
          action = mkOption { type = types.lines; description = "Shell commands run for the event; $1 is the event text."; };
        };
      });
      default = { };
      description = "Event handlers, by name.";
    };
    powerEventCommands = mkOption { type = types.lines; default = ""; description = "Shell commands run when the power button is pressed."; };
    lidEventCommands = mkOption { type = types.lines; default = ""; description = "Shell commands run when the lid is opened or closed."; };
    acEventCommands = mkOption { type = types.lines; default = ""; description = "Shell commands run when the AC adapter is plugged in or out."; };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ pkgs.acpid ];
    environment.etc = lib.concatMapAttrs (name: h: {
      "acpi/kiln-events/${name}".text = "event=${h.event}\naction=/etc/acpi/kiln-handlers/${name}.sh '%e'\n";
      "acpi/kiln-handlers/${name}.sh" = { text = "#!/bin/sh\n${h.action}\n"; mode = "0755"; };
    }) handlers;

    systemd.services.acpid = {
      description = "ACPI Daemon";
      documentation = [ "man:acpid(8)" ];
      wantedBy = [ "multi-user.target" ];
      restartTriggers = [ (builtins.toJSON handlers) ];
      serviceConfig.ExecStart = lib.escapeShellArgs ([ "/usr/sbin/acpid" "--foreground" "--netlink" "--confdir" "/etc/acpi/kiln-events" ]
        ++ lib.optional cfg.logEvents "--logevents");
      unitConfig = {
        ConditionVirtualization = "!systemd-nspawn";
        ConditionPathExists = [ "/proc/acpi" ];
      };
    };
  };
}
