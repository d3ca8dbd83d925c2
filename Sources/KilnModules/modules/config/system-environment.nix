# The system's packages and its session-wide environment (NixOS:
# nixos/modules/config/system-path.nix and config/system-environment.nix).
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames concatStringsSep filter isList;
  cfg = config.environment;
  # A folder named by two modules is searched once, where it first appears.
  value = v: if isList v then concatStringsSep ":" (lib.unique v) else toString v;
  vars = filter (k: cfg.sessionVariables.${k} != null) (attrNames cfg.sessionVariables);
in
{
  options.environment = {
    systemPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
      example = lib.literalExpression "with pkgs; [ curl vim ]";
      description = ''
        Debian packages of the system (with everything they depend on). Their files form
        the merged /usr tree that /usr, /bin, /sbin and /lib link to.
      '';
    };
    corePackages = mkOption {
      type = types.listOf types.package;
      default = with pkgs; [
        acl attr bash bzip2 coreutils cpio curl diffutils findutils gawk libc-bin grep patch sed tar gzip xz-utils
        less libcap2-bin ncurses-bin netcat-openbsd whois procps util-linux bsdutils bsdextrautils mount time
        debianutils zstd iproute2 iputils-ping kmod passwd login hostname
      ];
      defaultText = lib.literalExpression ''
        with pkgs; [ acl attr bash bzip2 coreutils cpio curl diffutils findutils gawk libc-bin grep patch sed tar
          gzip xz-utils less libcap2-bin ncurses-bin netcat-openbsd whois procps util-linux bsdutils bsdextrautils
          mount time debianutils zstd iproute2 iputils-ping kmod passwd login hostname ]'';
      description = ''
        The packages every interactive system has: NixOS's requiredPackages (acl, attr,
        bashInteractive, bzip2, coreutils, cpio, curl, diffutils, findutils, gawk,
        getent/getconf, grep, patch, sed, tar, gzip, xz, less, libcap, ncurses, netcat,
        mkpasswd, procps, su, time, util-linux, which, zstd) as Debian names them (NixOS's
        util-linux is Debian's util-linux, mount, bsdutils and bsdextrautils: logger, wall,
        script, column, hexdump), plus ip, ping, kmod, passwd and login. Only change this if
        you know what you are doing.
      '';
    };
    defaultPackages = mkOption {
      type = types.listOf types.package;
      # Debian's perl is perl-base (the interpreter) plus perl (its modules).
      default = with pkgs; [ perl perl-base rsync strace ];
      defaultText = lib.literalExpression "with pkgs; [ perl perl-base rsync strace ]";
      example = [ ];
      description = "Packages a system has unless told otherwise (NixOS's defaultPackages); [ ] leaves them out.";
    };
    sessionVariables = mkOption {
      type = types.attrsOf (types.nullOr (types.either types.str (types.listOf types.str)));
      default = { };
      example = { EDITOR = "vi"; };
      description = ''
        Environment variables of every PAM session (written to /etc/environment, which
        pam_env reads: logins, sshd, su), and of login shells. Lists are joined with ":".
      '';
    };
  };

  config = lib.mkMerge [
    { environment.systemPackages = cfg.corePackages ++ cfg.defaultPackages; }
    (lib.mkIf (vars != [ ]) {
      environment.etc."environment".text = concatStringsSep "" (map (k: "${k}=\"${value cfg.sessionVariables.${k}}\"\n") vars);
      environment.variables = lib.mapAttrs (k: v: lib.mkDefault v) (lib.filterAttrs (k: v: v != null) cfg.sessionVariables);
    })
  ];
}
