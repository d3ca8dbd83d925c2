# Users and groups (NixOS: nixos/modules/config/users-groups.nix). Kiln writes /etc/passwd,
# /etc/group, /etc/shadow and /etc/gshadow from these at build time (passwords hashed with
# yescrypt; users without a uid or gid get one allocated: system ones below 1000, normal
# ones from 1000), and makes the homes with createHome at activation.
#
# The groups Debian's base-passwd creates are declared here with Debian's numbers, and so is
# `wheel` (NixOS's administrators' group; gid 11, as Debian's 1 is `daemon`). Debian's
# base users (daemon, bin, sys, nobody) are Kiln's own and always present.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames attrValues concatMap filter isAttrs elem length;
  cfg = config.users;

  # The shells Kiln installs when a user has one: Debian packages named as their program.
  knownShells = [ "bash" "dash" "zsh" "fish" "mksh" "tcsh" ];
  shellType = types.coercedTo types.package (p: "/bin/${p.pname}") types.str;

  userOptions = { name, config, ... }: {
    options = {
      name = mkOption {
        type = types.str;
        default = name;
        defaultText = lib.literalExpression "<name>";
        description = "The user's login name.";
      };
      uid = mkOption {
        type = types.nullOr types.int;
        default = null;
        description = "The user's id; null lets Kiln allocate one (below 1000 for system users, from 1000 for normal ones).";
      };
      isNormalUser = mkOption {
        type = types.bool;
        default = false;
        description = ''
          Whether this is a person's account: group "users", home /home/<name> (created),
          shell users.defaultUserShell, a uid from 1000.
        '';
      };
      isSystemUser = mkOption {
        type = types.bool;
        default = false;
        description = "Whether this is a service's account: a uid below 1000, home /var/empty, no login shell.";
      };
      group = mkOption {
        type = types.str;
        default = if config.isNormalUser then "users" else if name == "root" then "root" else "";
        defaultText = lib.literalExpression ''if isNormalUser then "users" else ""'';
        description = "The user's primary group (it must be in users.groups).";
      };
      extraGroups = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "wheel" ];
        description = "More groups the user is a member of.";
      };
      description = mkOption {
        type = types.str;
        default = "";
        example = "Alice Q. User";
        description = "The user's full name (the GECOS field); no ':' or newline.";
      };
      home = mkOption {
        type = types.str;
        default = if config.isNormalUser then "/home/${name}" else if name == "root" then "/root" else "/var/empty";
        defaultText = lib.literalExpression ''if isNormalUser then "/home/<name>" else "/var/empty"'';
        description = "The user's home directory.";
      };
      homeMode = mkOption {
        type = types.strMatching "[0-7]{1,5}";
        default = "700";
        description = "The mode a created home gets.";
      };
      createHome = mkOption {
        type = types.bool;
        default = config.isNormalUser;
        defaultText = lib.literalExpression "isNormalUser";
        description = "Whether the home directory is made (owned by the user) at activation if missing.";
      };
      shell = mkOption {
        type = shellType;
        default = if config.isNormalUser || name == "root" then cfg.defaultUserShell else "/usr/sbin/nologin";
        defaultText = lib.literalExpression ''if isNormalUser then config.users.defaultUserShell else "/usr/sbin/nologin"'';
        example = lib.literalExpression "pkgs.zsh";
        description = ''
          The login shell: a path, or a package (meaning /bin/<package name>). Shells named
          after their Debian package (${lib.concatStringsSep ", " knownShells}) are installed.
        '';
      };
      initialPassword = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = ''
          The password in clear text; Kiln stores its hash. It is readable in the profile,
          so use it for test machines and change it after the first login.
        '';
      };
      hashedPassword = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "$y$j9T$...";
        description = ''
          The password hash as crypt(3) makes it (mkpasswd), "!" or "*" for no password
          login. Wins over initialPassword. Neither set: the account has no password.
        '';
      };
      hashedPasswordFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/run/secrets/alice-password";
        description = ''
          A file on the machine whose first line is the password hash; every activation sets
          the account's password from it (so the hash is never in the image or the store).
          A missing file leaves the password as it is, with a message in the boot log.
        '';
      };
      password = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "The password in clear text (NixOS); Kiln treats it as initialPassword.";
      };
      initialHashedPassword = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "A password hash (NixOS); Kiln treats it as hashedPassword.";
      };
      packages = mkOption {
        type = types.listOf types.package;
        default = [ ];
        description = "Packages for this user; Kiln installs them system-wide (environment.systemPackages).";
      };
      linger = mkOption {
        type = types.bool;
        default = false;
        description = "Whether the user's systemd instance runs without a login (accepted, ignored: Kiln has no logind D-Bus).";
      };
      openssh.authorizedKeys.keys = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "ssh-ed25519 AAAA... alice@laptop" ];
        description = "Public keys that can log in as this user over SSH (/etc/ssh/authorized_keys.d/<name>).";
      };
      openssh.authorizedKeys.keyFiles = mkOption {
        type = types.listOf types.path;
        default = [ ];
        description = "Files of public keys, read at evaluation, added to openssh.authorizedKeys.keys.";
      };
    };
    config = {
      initialPassword = lib.mkIf (config.password != null) (lib.mkDefault config.password);
      hashedPassword = lib.mkIf (config.initialHashedPassword != null) (lib.mkDefault config.initialHashedPassword);
    };
  };

  groupOptions = { name, ... }: {
    options = {
      name = mkOption {
        type = types.str;
        default = name;
        defaultText = lib.literalExpression "<name>";
        description = "The group's name.";
      };
      gid = mkOption {
        type = types.nullOr types.int;
        default = null;
        description = "The group's id; null lets Kiln allocate one below 1000.";
      };
      members = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = "Users in the group, besides those listing it in extraGroups.";
      };
    };
  };

  users = attrValues cfg.users;
  withUid = filter (u: u.uid != null) users;
  duplicates = list: lib.unique (filter (x: length (filter (y: y == x) list) > 1) list);
  dupUids = duplicates (map (u: u.uid) withUid);
  dupGids = duplicates (map (g: g.gid) (filter (g: g.gid != null) (attrValues cfg.groups)));
  debianGroups = {
    root = 0; daemon = 1; bin = 2; sys = 3; adm = 4; tty = 5; disk = 6; lp = 7; mail = 8; news = 9;
    uucp = 10; man = 12; proxy = 13; kmem = 15; dialout = 20; fax = 21; voice = 22; cdrom = 24;
    floppy = 25; tape = 26; sudo = 27; audio = 29; dip = 30; www-data = 33; backup = 34; operator = 37;
    list = 38; irc = 39; src = 40; shadow = 42; utmp = 43; video = 44; sasl = 45; plugdev = 46;
    staff = 50; games = 60; users = 100; nogroup = 65534;
  };
in
{
  options.users = {
    users = mkOption {
      type = types.attrsOf (types.submodule userOptions);
      default = { };
      example = lib.literalExpression ''{ alice = { isNormalUser = true; extraGroups = [ "wheel" ]; initialPassword = "changeme"; }; }'';
      description = "The system's users.";
    };
    groups = mkOption {
      type = types.attrsOf (types.submodule groupOptions);
      default = { };
      description = "The system's groups.";
    };
    mutableUsers = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Whether passwords and accounts may change at run time (passwd, useradd). Kiln
        writes the account files at build time either way; with false, activation puts them
        back at every boot.
      '';
    };
    defaultUserShell = mkOption {
      type = shellType;
      default = "/bin/bash";
      description = "The shell of normal users (and root) that set none.";
    };
    motd = mkOption {
      type = types.nullOr types.lines;
      default = null;
      example = "Welcome to the club. Be nice.";
      description = "The message of the day, shown at every login (/etc/motd, read by pam_motd).";
    };
    motdFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      description = "A file whose text is the message of the day (instead of users.motd).";
    };
    enforceIdUniqueness = mkOption {
      type = types.bool;
      default = true;
      description = "Whether two users (or groups) with the same id are an error.";
    };
  };

  config = {
    users.users.root = {
      uid = lib.mkDefault 0;
      group = lib.mkDefault "root";
      home = lib.mkDefault "/root";
      description = lib.mkDefault "root";
    };
    users.groups = lib.mapAttrs (n: gid: { gid = lib.mkDefault gid; }) debianGroups // {
      wheel.gid = lib.mkDefault 11;
      # The groups systemd's udev rules and journald name (Debian: sysusers.d/basic.conf,
      # which Kiln does not run: accounts are the configuration's, as in NixOS).
      input = { };
      kvm = { };
      render = { };
      sgx = { };
      systemd-journal = { };
    };

    # Unset, Debian's own /etc/motd (base-files) stays.
    environment.etc.motd = lib.mkIf (cfg.motd != null || cfg.motdFile != null)
      (if cfg.motdFile != null then { source = cfg.motdFile; } else { text = cfg.motd; });

    environment.systemPackages = concatMap (u: u.packages) users
      ++ map (n: pkgs.${n}) (filter (n: lib.any (u: u.shell == "/bin/${n}" || u.shell == "/usr/bin/${n}") users) knownShells);

    assertions = concatMap (u: [
      {
        assertion = !(u.isNormalUser && u.isSystemUser) && (u.isNormalUser || u.isSystemUser || u.uid != null);
        message = "Exactly one of users.users.${u.name}.isSystemUser and users.users.${u.name}.isNormalUser must be set (or give users.users.${u.name}.uid).";
      }
      {
        assertion = u.group != "";
        message = ''
          users.users.${u.name}.group is unset. Give the user a group, e.g.:
            users.users.${u.name}.group = "${u.name}";
            users.groups.${u.name} = { };
        '';
      }
      {
        assertion = u.group == "" || cfg.groups ? ${u.group};
        message = "users.users.${u.name}.group is \"${u.group}\", which is not in users.groups.";
      }
      {
        assertion = u.hashedPassword == null || builtins.match ".*[:\n].*" u.hashedPassword == null;
        message = "users.users.${u.name}.hashedPassword contains a ':' or a newline, which /etc/shadow cannot hold.";
      }
      {
        assertion = builtins.match ".*[:\n].*" (u.description + u.home + u.shell) == null;
        message = "users.users.${u.name}: description, home and shell cannot contain ':' or a newline.";
      }
      {
        assertion = builtins.match "[a-z_][a-z0-9_.-]*[$]?" u.name != null;
        message = "users.users.${u.name}: \"${u.name}\" is not a valid user name (lower-case letters, digits, '_', '-', '.').";
      }
    ]) users
    ++ [
      {
        assertion = !cfg.enforceIdUniqueness || dupUids == [ ];
        message = "More than one user has uid ${lib.concatMapStringsSep ", " toString dupUids} (users.users.<name>.uid).";
      }
      {
        assertion = !cfg.enforceIdUniqueness || dupGids == [ ];
        message = "More than one group has gid ${lib.concatMapStringsSep ", " toString dupGids} (users.groups.<name>.gid).";
      }
      {
        assertion = cfg.motd == null || cfg.motdFile == null;
        message = "users.motd and users.motdFile are both set; set one.";
      }
    ];
  };
}
