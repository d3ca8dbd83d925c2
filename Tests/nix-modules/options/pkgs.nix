# The package set the option tests evaluate with: every name is a Debian package stand-in,
# { _type = "package"; pname; name; }, as Kiln's evaluator makes `pkgs` (ProfileEvaluator.swift).
# Names used as pkgs.NAME must be listed; real Kiln makes any name on demand.
let
  names = [
    "bash" "console-data" "coreutils" "curl" "dash" "fish" "hostname" "iproute2" "kbd" "kmod"
    "libpam-modules" "libpam-runtime" "linux-image-amd64" "linux-image-arm64" "locales-all"
    "login" "mksh" "nftables" "nginx" "openssh-client" "openssh-server" "sudo" "systemd" "tcsh"
    "tzdata" "udev" "util-linux" "vim" "zsh" "cloud-init" "linux-image-cloud-amd64" "wget" "tree" "bash-completion" "zsh-autosuggestions" "zsh-syntax-highlighting" "neovim" "git" "git-lfs" "tmux" "htop" "mtr-tiny" "gnupg" "gpg-agent" "pinentry-curses" "systemd-timesyncd" "cron" "logrotate" "redis-server" "redis-tools" "postgresql-15" "postgresql-client-15"
    "fail2ban" "python3-systemd" "mariadb-server"
    "prometheus" "prometheus-node-exporter" "mosquitto" "mosquitto-clients" "wireguard-tools"
    # environment.corePackages and defaultPackages, services.dbus, services.resolved
    "acl" "attr" "bsdutils" "bsdextrautils" "bzip2" "cpio" "diffutils" "findutils" "gawk" "libc-bin" "grep" "patch" "sed" "tar" "gzip"
    "xz-utils" "less" "libcap2-bin" "ncurses-bin" "netcat-openbsd" "whois" "procps" "mount" "time" "debianutils"
    "zstd" "iputils-ping" "passwd" "perl" "perl-base" "rsync" "strace" "dbus" "dbus-user-session" "systemd-resolved" "libpam-systemd"
    "postfix" "dovecot-core" "dovecot-imapd" "dovecot-pop3d" "dovecot-lmtpd" "samba" "samba-common-bin" "winbind" "nfs-kernel-server" "nfs-common" "rpcbind"
    "docker.io" "podman" "podman-docker" "apparmor" "lego" "openssl"
    "xserver-xorg-core" "xkb-data" "x11-xkb-utils" "x11-xserver-utils" "xauth" "fonts-dejavu-core" "fontconfig" "libglib2.0-bin"
    "shared-mime-info" "xserver-xorg-input-libinput" "xserver-xorg-video-fbdev" "lightdm" "lightdm-gtk-greeter" "xfce4"
    "borgbackup" "systemd-zram-generator" "direnv" "network-manager" "wpasupplicant" "iwd" "dnsmasq-base" "bind9-dnsutils" "iputils-ping"
    "php-cli" "php-fpm" "xfce4-terminal" "libgl1-mesa-dri" "libglx-mesa0" "libegl-mesa0"
    "pipewire" "wireplumber" "pipewire-alsa" "pipewire-pulse" "pipewire-jack" "pulseaudio" "rtkit" "alsa-utils" "cups"
    "printer-driver-gutenprint" "fonts-firacode" "fonts-noto-core" "fonts-liberation" "fonts-freefont-ttf" "fonts-noto-color-emoji"
    "firefox-esr" "firefox-esr-l10n-de" "firefox-esr-l10n-pt-br" "avahi-daemon" "libnss-mdns"
    "earlyoom" "plocate" "upower" "udisks2" "fwupd" "thermald" "tlp" "bluez" "blueman" "power-profiles-daemon" "qemu-guest-agent" "smartmontools" "flatpak" "xdg-desktop-portal" "xdg-desktop-portal-gtk" "restic" "polkitd" "dconf-service" "dconf-gsettings-backend" "dconf-cli" "ca-certificates" "caddy" "cryptsetup-bin" "rabbitmq-server" "erlang-base" "unbound" "dns-root-data" "bind9" "openvpn" "auditd" "apache2" "syncthing" "libxml2-utils" "jq" "iptables" "net-tools" "haproxy" "libnss-resolve" "man-db" "linuxPackages_latest" "opendoas" "mosh" "tshark" "wireshark-common" "gvfs" "gvfs-backends" "gvfs-fuse" "irqbalance" "memcached" "ntfs-3g" "exfatprogs" "udisks2" "chrony" "minidlna" "transmission-daemon" "tor" "tor-geoipdb" "obfs4proxy" "acpid" "influxdb" "netdata" "netdata-plugins-python" "python3-psycopg2" "libvirt-daemon-system" "libvirt-clients" "qemu-system-x86" "qemu-utils" "ovmf" "swtpm-tools" "clamav" "clamav-daemon" "clamdscan" "clamav-freshclam" "xrdp" "xorgxrdp" "pulseaudio-module-xrdp"
  ];
  pkg = n: { _type = "package"; pname = n; name = n; };
in builtins.listToAttrs (map (n: { name = n; value = pkg n; }) names)
  # A package set, as Kiln maps it: python3Packages.X is python3-X.
  // { python3Packages = { psycopg2 = pkg "python3-psycopg2"; }; }
