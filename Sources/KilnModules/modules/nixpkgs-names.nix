# nixpkgs attribute names people write in configuration.nix, and the Debian package each
# means (`pkgs.NAME` is otherwise Debian's package NAME). Most differ; the common ones that
# are the same are listed too, so the suite's check below catches Debian renaming them. Sets of
# packages: pkgs.python3Packages.X is python3-X, pkgs.perlPackages.X is libX-perl,
# pkgs.nodePackages.X is node-X (ProfileEvaluator.swift). The integration suite checks that
# every Debian name here is in the host's APT indexes.
{
  # Shells, editors, core tools
  bashInteractive = "bash"; zsh-powerlevel10k = "zsh-theme-powerlevel9k"; nano = "nano";
  neovim-unwrapped = "neovim"; vim-full = "vim"; vimHugeX = "vim-gtk3"; emacs = "emacs"; emacs-nox = "emacs-nox";
  coreutils-full = "coreutils"; gnugrep = "grep"; gnused = "sed"; gnutar = "tar"; gawk = "gawk"; gzip = "gzip";
  xz = "xz-utils"; zstd = "zstd"; bzip2 = "bzip2"; p7zip = "p7zip-full"; unrar = "unrar-free"; zip = "zip"; unzip = "unzip";
  findutils = "findutils"; diffutils = "diffutils"; which = "debianutils"; file = "file"; tree = "tree";
  util-linux = "util-linux"; procps = "procps"; psmisc = "psmisc"; lsof = "lsof"; strace = "strace"; ltrace = "ltrace";
  gdb = "gdb"; htop = "htop"; btop = "btop"; iotop = "iotop"; ncdu = "ncdu"; pv = "pv"; bc = "bc"; man = "man-db";
  man-pages = "manpages"; getent = "libc-bin"; shadow = "passwd"; su = "login"; sudo = "sudo"; doas = "doas";
  tmux = "tmux"; screen = "screen"; moreutils = "moreutils"; parallel = "parallel"; jq = "jq"; yq-go = "yq";
  ripgrep = "ripgrep"; fd = "fd-find"; bat = "bat"; fzf = "fzf"; silver-searcher = "silversearcher-ag";
  # Networking
  inetutils = "inetutils-tools"; nettools = "net-tools"; iproute = "iproute2"; iproute2 = "iproute2";
  iputils = "iputils-ping"; dig = "bind9-dnsutils"; dnsutils = "bind9-dnsutils"; bind = "bind9"; host = "bind9-host";
  whois = "whois"; traceroute = "traceroute"; mtr = "mtr-tiny"; nmap = "nmap"; tcpdump = "tcpdump"; wireshark-cli = "tshark";
  iperf = "iperf3"; iperf3 = "iperf3"; socat = "socat"; netcat = "netcat-openbsd"; netcat-gnu = "netcat-traditional";
  curl = "curl"; wget = "wget"; aria2 = "aria2"; rsync = "rsync"; openssh = "openssh-client"; mosh = "mosh";
  wireguard-tools = "wireguard-tools"; openvpn = "openvpn"; ethtool = "ethtool"; bridge-utils = "bridge-utils";
  iptables = "iptables"; nftables = "nftables"; conntrack-tools = "conntrack"; dhcpcd = "dhcpcd-base";
  networkmanager = "network-manager"; wpa_supplicant = "wpasupplicant"; iw = "iw"; avahi = "avahi-daemon";
  # Disks and filesystems
  e2fsprogs = "e2fsprogs"; btrfs-progs = "btrfs-progs"; xfsprogs = "xfsprogs"; dosfstools = "dosfstools";
  ntfs3g = "ntfs-3g"; exfatprogs = "exfatprogs"; parted = "parted"; gptfdisk = "gdisk"; cryptsetup = "cryptsetup";
  lvm2 = "lvm2"; mdadm = "mdadm"; smartmontools = "smartmontools"; hdparm = "hdparm"; nvme-cli = "nvme-cli";
  sshfs = "sshfs"; nfs-utils = "nfs-common"; cifs-utils = "cifs-utils";
  # Hardware
  pciutils = "pciutils"; usbutils = "usbutils"; lm_sensors = "lm-sensors"; dmidecode = "dmidecode"; lshw = "lshw";
  acpi = "acpi"; powertop = "powertop"; cpufrequtils = "cpufrequtils";
  # Development
  git = "git"; gitFull = "git"; git-lfs = "git-lfs"; gh = "gh"; tig = "tig"; mercurial = "mercurial";
  gnumake = "make"; cmake = "cmake"; ninja = "ninja-build"; meson = "meson"; autoconf = "autoconf"; automake = "automake";
  pkg-config = "pkg-config"; pkgconfig = "pkg-config"; gcc = "gcc"; clang = "clang"; llvm = "llvm"; binutils = "binutils";
  go = "golang"; rustc = "rustc"; cargo = "cargo"; nodejs = "nodejs"; nodejs_20 = "nodejs"; yarn = "yarnpkg";
  python3 = "python3"; python311 = "python3.11"; python3Full = "python3-full"; pypy3 = "pypy3"; perl = "perl";
  ruby = "ruby"; php = "php-cli"; lua = "lua5.4"; openjdk = "default-jdk"; jdk = "default-jdk"; jre = "default-jre";
  shellcheck = "shellcheck"; sqlite = "sqlite3"; sqlite-interactive = "sqlite3"; postgresql = "postgresql";
  openssl = "openssl"; gnupg = "gnupg"; pinentry = "pinentry-curses"; pass = "pass";
  # Services and their tools
  nginx = "nginx"; apacheHttpd = "apache2"; caddy = "caddy"; haproxy = "haproxy"; certbot = "certbot";
  mariadb = "mariadb-server"; mysql = "mariadb-server"; redis = "redis-server"; memcached = "memcached";
  docker = "docker.io"; docker-compose = "docker-compose"; podman = "podman"; buildah = "buildah"; skopeo = "skopeo";
  qemu = "qemu-system-x86"; qemu_kvm = "qemu-system-x86"; libvirt = "libvirt-daemon-system";
  samba = "samba"; borgbackup = "borgbackup"; restic = "restic"; rclone = "rclone"; syncthing = "syncthing";
  prometheus = "prometheus"; prometheus-node-exporter = "prometheus-node-exporter";
  postfix = "postfix"; dovecot = "dovecot-core"; fail2ban = "fail2ban"; mosquitto = "mosquitto"; cron = "cron";
  logrotate = "logrotate"; chrony = "chrony"; ntp = "ntpsec";
  # Desktop
  firefox = "firefox-esr"; firefox-esr = "firefox-esr"; chromium = "chromium"; thunderbird = "thunderbird";
  libreoffice = "libreoffice"; vlc = "vlc"; mpv = "mpv"; gimp = "gimp"; inkscape = "inkscape";
  alacritty = "alacritty"; kitty = "kitty"; xterm = "xterm"; keepassxc = "keepassxc"; xclip = "xclip";
}
