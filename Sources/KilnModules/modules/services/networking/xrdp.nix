# services.xrdp (NixOS: nixos/modules/services/networking/xrdp.nix), with Debian's xrdp and
# xorgxrdp. NixOS builds its configuration folder from the package's /etc/xrdp at build time
# (startwm.sh running defaultWindowManager, the certificate's paths, logs off, then
# extraConfDirCommands with $out set); Kiln builds no derivations, so xrdp-config.service
# makes the same folder at every boot in /run/xrdp-conf, from Debian's /etc/xrdp, and runs
# extraConfDirCommands there, with substituteInPlace as a shell function. The self-signed
# certificate and the RDP keys are made at the first start, as NixOS and Debian's postinst
# make them.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.xrdp;
  confDir = "/run/xrdp-conf";
  sh = lib.escapeShellArg;
  # The TCP port of `port` (3389, "tcp://:3389", "tcp://[::]:3389"), or null (vsock, unix).
  tcpPort = if builtins.isInt cfg.port then cfg.port else
    let m = builtins.match "(tcp6?://)?.*:([0-9]+)" cfg.port; in
    if m == null || lib.hasPrefix "vsock://" cfg.port then null else lib.toInt (lib.last m);
in
{
  options.services.xrdp = {
    enable = mkOption { type = types.bool; default = false; description = "Whether to enable xrdp, the Remote Desktop Protocol server."; };
    package = mkOption {
      type = types.package;
      default = pkgs.xrdp;
      defaultText = lib.literalExpression "pkgs.xrdp";
      description = "The xrdp package (Debian's xrdp, with xorgxrdp for its Xorg sessions).";
    };
    audio = {
      enable = mkOption { type = types.bool; default = false; description = "Whether xrdp sessions have audio (PulseAudio's xrdp module)."; };
      package = mkOption {
        type = types.package;
        default = pkgs.pulseaudio-module-xrdp;
        defaultText = lib.literalExpression "pkgs.pulseaudio-module-xrdp";
        description = "The PulseAudio module for xrdp (not in Debian 12: audio.enable fails the build until it is).";
      };
    };
    port = mkOption {
      type = types.either types.port types.str;
      default = "tcp://:3389";
      example = 3390;
      description = "The port, or a listen string (tcp://ADDRESS:PORT, vsock://…), xrdp listens on.";
    };
    openFirewall = mkOption { type = types.bool; default = false; description = "Whether to open the RDP port in the firewall."; };
    sslKey = mkOption {
      type = types.str;
      default = "/etc/xrdp/key.pem";
      example = "/path/to/your/key.pem";
      description = "The TLS private key. A self-signed certificate is generated if the file does not exist.";
    };
    sslCert = mkOption {
      type = types.str;
      default = "/etc/xrdp/cert.pem";
      example = "/path/to/your/cert.pem";
      description = "The TLS certificate. A self-signed certificate is generated if the file does not exist.";
    };
    defaultWindowManager = mkOption {
      type = types.str;
      default = "xterm";
      example = "xfce4-session";
      description = "What a session runs when a user logs in, usually a window manager or a desktop's session (\"xfce4-session\", \"icewm\").";
    };
    confDir = mkOption {
      type = types.str;
      default = confDir;
      readOnly = true;
      internal = true;
      description = "The configuration folder of xrdp and sesman (made at every boot; change it through extraConfDirCommands).";
    };
    extraConfDirCommands = mkOption {
      type = types.lines;
      default = "";
      example = ''
        substituteInPlace $out/sesman.ini \
          --replace LogLevel=INFO LogLevel=DEBUG
      '';
      description = "Shell commands run on the configuration folder ($out) after it is made.";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [ {
      assertion = !cfg.audio.enable;
      message = "services.xrdp.audio.enable: PulseAudio's xrdp module (pulseaudio-module-xrdp) is not in Debian 12.";
    } {
      assertion = cfg.openFirewall -> tcpPort != null;
      message = "services.xrdp.openFirewall: port is \"${toString cfg.port}\", which has no TCP port to open.";
    } ];

    networking.firewall.allowedTCPPorts = lib.mkIf (cfg.openFirewall && tcpPort != null) [ tcpPort ];
    environment.systemPackages = [ cfg.package pkgs.xorgxrdp pkgs.openssl ];
    fonts.enableDefaultPackages = lib.mkDefault true;

    environment.etc."X11/xrdp/xorg.conf.d/README".text = ''
      The xorg.conf.d of xrdp's sessions (Xorg -configdir xrdp/xorg.conf.d): configuration
      for the Xorg of a remote session, instead of /etc/X11/xorg.conf.d.
    '';

    users.users.xrdp = { description = "xrdp daemon user"; isSystemUser = true; group = "xrdp"; };
    users.groups.xrdp = { };
    # xrdp writes its pid file here as xrdp, sesman as root.
    systemd.tmpfiles.rules = [ "d /run/xrdp 0755 xrdp xrdp -" ];

    systemd.services.xrdp-config = {
      description = "xrdp's configuration folder";
      before = [ "xrdp.service" "xrdp-sesman.service" ];
      serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
      script = ''
        out=${confDir}
        substituteInPlace() { # FILE --replace OLD NEW ..., as nixpkgs' (literal strings)
          local file=$1; shift
          while [ $# -ge 3 ]; do
            case $1 in --replace|--replace-fail|--replace-quiet|--replace-warn) ;; *) echo "substituteInPlace: unknown $1" >&2; return 1 ;; esac
            OLD=$2 NEW=$3 perl -0pi -e 's/\Q$ENV{OLD}\E/$ENV{NEW}/g' "$file"
            shift 3
          done
        }
        rm -rf "$out"
        mkdir -p "$out"
        cp -rL /etc/xrdp/. "$out"/
        # The keys made at the first start stay in /etc/xrdp, where xrdp reads them.
        rm -f "$out"/rsakeys.ini "$out"/cert.pem "$out"/key.pem
        chmod -R u+w "$out"
        cat > "$out"/startwm.sh <<'EOF'
        #!/bin/sh
        . /etc/profile
        ${cfg.defaultWindowManager}
        EOF
        chmod +x "$out"/startwm.sh
        substituteInPlace "$out"/xrdp.ini \
          --replace "certificate=" "certificate=${cfg.sslCert}" \
          --replace "key_file=" "key_file=${cfg.sslKey}" \
          --replace LogFile=xrdp.log LogFile=/dev/null \
          --replace EnableSyslog=true EnableSyslog=false
        substituteInPlace "$out"/sesman.ini \
          --replace LogFile=xrdp-sesman.log LogFile=/dev/null \
          --replace startwm.sh "$out"/startwm.sh \
          --replace reconnectwm.sh "$out"/reconnectwm.sh
        # A session's Xorg reads xorgxrdp's configuration, and a folder of its own in the place
        # of /etc/X11/xorg.conf.d, whose Device sections are for the machine's screen (with
        # them, Xorg loads modesetting too, which wants the console the user does not have).
        sed -i -e 's|^param=xrdp/xorg.conf$|param=xrdp/xorg.conf\nparam=-configdir\nparam=xrdp/xorg.conf.d|' "$out"/sesman.ini
        # Clipboard text that is not ASCII needs the locale in the session.
        sed -i -e '/^\[SessionVariables\]/a LANG=${config.i18n.defaultLocale}' "$out"/sesman.ini
        ${cfg.extraConfDirCommands}
      '';
    };

    systemd.services.xrdp = {
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" "xrdp-config.service" "xrdp-sesman.service" ];
      requires = [ "xrdp-config.service" "xrdp-sesman.service" ];
      description = "xrdp daemon";
      path = [ pkgs.openssl cfg.package ];
      preStart = ''
        # the folder of the sessions' sockets (each owned by its user, group xrdp)
        mkdir -p /tmp/.xrdp || true
        chown xrdp:xrdp /tmp/.xrdp
        chmod 3777 /tmp/.xrdp

        # a self-signed certificate, unless there is one
        if [ ! -s ${sh cfg.sslCert} -o ! -s ${sh cfg.sslKey} ]; then
          mkdir -p "$(dirname ${sh cfg.sslCert})" "$(dirname ${sh cfg.sslKey})"
          openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 365 \
            -subj /C=US/ST=CA/L=Sunnyvale/O=xrdp/CN=www.xrdp.org \
            -keyout ${sh cfg.sslKey} -out ${sh cfg.sslCert}
          chown root:xrdp ${sh cfg.sslKey} ${sh cfg.sslCert}
          chmod 440 ${sh cfg.sslKey} ${sh cfg.sslCert}
        fi
        # the keys of RDP's own security layer (Debian's xrdp reads them from /etc/xrdp)
        if [ ! -s /etc/xrdp/rsakeys.ini ]; then
          (umask 077 && xrdp-keygen xrdp /etc/xrdp/rsakeys.ini)
          chown xrdp /etc/xrdp/rsakeys.ini
        fi
      '';
      serviceConfig = {
        User = "xrdp";
        Group = "xrdp";
        PermissionsStartOnly = true;
        ExecStart = "/usr/sbin/xrdp --nodaemon --port ${toString cfg.port} --config ${confDir}/xrdp.ini";
      };
    };

    systemd.services.xrdp-sesman = {
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" "xrdp-config.service" ];
      requires = [ "xrdp-config.service" ];
      description = "xrdp session manager";
      # Like a display manager: its children are the users' sessions.
      restartIfChanged = false;
      serviceConfig = {
        ExecStart = "/usr/sbin/xrdp-sesman --nodaemon --config ${confDir}/sesman.ini";
        ExecStop = "/bin/kill -INT $MAINPID";
      };
    };
  };
}
