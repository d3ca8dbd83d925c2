# security.wrappers (NixOS: nixos/modules/security/wrappers/default.nix): programs that need
# to be setuid, setgid or to hold file capabilities, made at every boot in /run/wrappers/bin
# (first in login shells' PATH). NixOS puts a small wrapper there that runs the real program
# from its store path; Kiln copies the program itself, whose store file cannot carry them (a
# Debian package's own setuid bits it keeps: sudo and passwd need no wrapper). A program that
# finds its files beside its own path would not find them from the copy.
#
# Capabilities: NixOS's wrapper raises the permitted set (`cap_net_raw+p`) into the ambient
# one before it runs the program, so the program has them in effect; on a copy, that is the
# effective flag, which Kiln adds where only "p" is given.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.security.wrappers;
  dir = config.security.wrapperDir;

  wrapperType = types.submodule ({ name, ... }: {
    options = {
      source = mkOption { type = types.either types.path types.str; description = "The program the wrapper is a copy of (\"\${pkgs.mtr-tiny}/bin/mtr-packet\")."; };
      program = mkOption { type = types.str; default = name; description = "The wrapper's name in the wrapper folder."; };
      owner = mkOption { type = types.str; description = "The wrapper's owner."; };
      group = mkOption { type = types.str; description = "The wrapper's group."; };
      permissions = mkOption { type = types.str; default = "u+rx,g+x,o+x"; description = "chmod(1) permissions of the wrapper (from none)."; };
      setuid = mkOption { type = types.bool; default = false; description = "Whether the wrapper runs as its owner."; };
      setgid = mkOption { type = types.bool; default = false; description = "Whether the wrapper runs with its group."; };
      capabilities = mkOption { type = types.commas; default = ""; example = "cap_net_raw+p"; description = "File capabilities of the wrapper (cap_from_text(3))."; };
    };
  });

  effective = caps: lib.replaceStrings [ "+p" "=p" ] [ "+ep" "=ep" ] caps;
  quote = s: "'" + lib.replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";
  make = w: ''
    install -m 0000 ${quote w.source} "$tmp"/${quote w.program}
    chown ${quote "${w.owner}:${w.group}"} "$tmp"/${quote w.program}
    chmod ${quote "u-s,g-s,${w.permissions}${lib.optionalString w.setuid ",u+s"}${lib.optionalString w.setgid ",g+s"}"} "$tmp"/${quote w.program}
  '' + lib.optionalString (w.capabilities != "") ''
    setcap ${quote (effective w.capabilities)} "$tmp"/${quote w.program}
  '';
in
{
  options.security = {
    wrappers = mkOption {
      type = types.attrsOf wrapperType;
      default = { };
      example = { mtr-packet = { source = "/run/current-system/sw/bin/mtr-packet"; owner = "root"; group = "root"; capabilities = "cap_net_raw+p"; }; };
      description = "Programs made setuid, setgid or given file capabilities, in security.wrapperDir.";
    };
    wrapperDir = mkOption {
      type = types.str;
      default = "/run/wrappers/bin";
      internal = true;
      description = "Where the wrappers are (made again at every boot).";
    };
  };

  config = lib.mkIf (cfg != { }) {
    assertions = lib.mapAttrsToList (name: w: {
      assertion = !(w.setuid && w.capabilities != "");
      message = "security.wrappers.${name}: setuid and capabilities together; a setuid program has every capability already.";
    }) cfg;
    # getcap, to see what a wrapper holds
    environment.systemPackages = [ pkgs.libcap2-bin ];
    systemd.services.suid-sgid-wrappers = {
      description = "Create SUID/SGID wrappers and programs with file capabilities";
      wantedBy = [ "sysinit.target" ];
      before = [ "sysinit.target" "shutdown.target" ];
      after = [ "local-fs.target" "systemd-sysusers.service" ];
      conflicts = [ "shutdown.target" ];
      unitConfig.DefaultDependencies = false;
      serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
      path = [ pkgs.coreutils pkgs.libcap2-bin pkgs.mount pkgs.util-linux ];
      # Made beside the folder and swapped in whole: a login during a switch never sees it half made.
      script = ''
        set -e
        # /run is nosuid, which also voids file capabilities: the wrappers get a tmpfs of their
        # own, as NixOS mounts one.
        top=$(dirname ${dir})
        mkdir -p -m 755 "$top"
        mountpoint -q "$top" || mount -t tmpfs -o nodev,mode=755,size=64M wrappers "$top"
        tmp=$(mktemp -d ${dir}.XXXXXX)
        chmod 755 "$tmp"
        ${lib.concatMapStrings make (builtins.attrValues cfg)}
        old=""
        if [ -e ${dir} ]; then old=$(mktemp -u ${dir}.old.XXXXXX); mv ${dir} "$old"; fi
        mv "$tmp" ${dir}
        [ -z "$old" ] || rm -rf "$old"
      '';
    };
  };
}
