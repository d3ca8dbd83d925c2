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
  ripgrep = "ripgrep"; fd = "fd-find"; yq = "yq"; bat = "bat"; fzf = "fzf"; silver-searcher = "silversearcher-ag";
  # Networking
  inetutils = "inetutils-tools"; nettools = "net-tools"; iproute = "iproute2"; iproute2 = "iproute2";
  iputils = "iputils-ping"; dig = "bind9-dnsutils"; dnsutils = "bind9-dnsutils"; bind = "bind9"; host = "bind9-host";
  whois = "whois"; traceroute = "traceroute"; mtr = "mtr-tiny"; nmap = "nmap"; tcpdump = "tcpdump"; wireshark-cli = "tshark";
  iperf = "iperf3"; iperf3 = "iperf3"; socat = "socat"; netcat = "netcat-openbsd"; netcat-gnu = "netcat-traditional";
  curl = "curl"; wget = "wget"; aria2 = "aria2"; rsync = "rsync"; openssh = "openssh-client"; mosh = "mosh";
  wireguard-tools = "wireguard-tools"; openvpn = "openvpn"; ethtool = "ethtool"; bridge-utils = "bridge-utils";
  iptables = "iptables"; nftables = "nftables"; conntrack-tools = "conntrack"; dhcpcd = "dhcpcd-base";
  networkmanager = "network-manager"; wpa_supplicant = "wpasupplicant"; iw = "iw"; avahi = "avahi-daemon"; nssmdns = "libnss-mdns";
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
  pkg-config = "pkg-config"; pkgconfig = "pkg-config";
  # nixpkgs' gcc compiles C and C++ against glibc's headers; Debian's gcc only recommends
  # libc6-dev, and g++ brings it (through libstdc++-12-dev) with gcc.
  gcc = "g++"; clang = "clang"; llvm = "llvm"; binutils = "binutils";
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
  # Shells and command-line tools
  fish = "fish"; dash = "dash"; direnv = "direnv"; exa = "exa"; duf = "duf"; zoxide = "zoxide";
  glances = "glances"; neofetch = "neofetch"; hyperfine = "hyperfine"; ranger = "ranger"; mc = "mc";
  nnn = "nnn"; vifm = "vifm"; micro = "micro"; kakoune = "kakoune"; joe = "joe"; ed = "ed"; less = "less";
  most = "most"; watch = "procps"; killall = "psmisc"; age = "age"; pwgen = "pwgen"; xxd = "xxd";
  hexyl = "hexyl"; gron = "gron"; miller = "miller"; dos2unix = "dos2unix"; rename = "rename"; entr = "entr";
  inotify-tools = "inotify-tools"; at = "at"; cowsay = "cowsay"; figlet = "figlet"; lolcat = "lolcat";
  fortune = "fortune-mod"; asciinema = "asciinema"; byobu = "byobu";
  # Networking
  ncat = "ncat"; arp-scan = "arp-scan"; arping = "arping"; bmon = "bmon"; iftop = "iftop";
  nethogs = "nethogs"; vnstat = "vnstat"; speedtest-cli = "speedtest-cli"; httpie = "httpie";
  sshpass = "sshpass"; autossh = "autossh"; openconnect = "openconnect"; dnsmasq = "dnsmasq";
  unbound = "unbound"; knot-dns = "knot"; ldns = "ldnsutils"; nload = "nload"; ipcalc = "ipcalc";
  sipcalc = "sipcalc"; lftp = "lftp"; tftp-hpa = "tftp-hpa"; stunnel = "stunnel4"; squid = "squid";
  privoxy = "privoxy"; tor = "tor"; torsocks = "torsocks"; proxychains = "proxychains4";
  lighttpd = "lighttpd";
  # Disks, filesystems and images
  ddrescue = "gddrescue"; testdisk = "testdisk"; f2fs-tools = "f2fs-tools"; mergerfs = "mergerfs";
  snapper = "snapper"; btrbk = "btrbk"; duperemove = "duperemove"; compsize = "btrfs-compsize";
  gparted = "gparted"; fio = "fio"; rmlint = "rmlint"; fdupes = "fdupes"; jdupes = "jdupes";
  squashfsTools = "squashfs-tools"; cdrkit = "genisoimage"; xorriso = "xorriso"; libisoburn = "xorriso";
  mtools = "mtools";
  # Languages and development
  nodejs_18 = "nodejs"; nim = "nim"; elixir = "elixir"; erlang = "erlang"; ghc = "ghc";
  cabal-install = "cabal-install"; stack = "haskell-stack"; ocaml = "ocaml"; opam = "opam"; sbcl = "sbcl";
  racket = "racket"; guile = "guile-3.0"; tcl = "tcl"; R = "r-base"; octave = "octave";
  gfortran = "gfortran"; clang-tools = "clangd"; lldb = "lldb"; valgrind = "valgrind"; ccache = "ccache";
  bear = "bear"; cppcheck = "cppcheck"; universal-ctags = "universal-ctags"; global = "global";
  doxygen = "doxygen"; graphviz = "graphviz"; pandoc = "pandoc"; hugo = "hugo"; sassc = "sassc";
  maven = "maven"; gradle = "gradle"; ant = "ant"; kotlin = "kotlin"; scala = "scala";
  leiningen = "leiningen"; clojure = "clojure"; composer = "composer"; gopls = "gopls"; delve = "delve";
  protobuf = "protobuf-compiler"; mariadb-client = "mariadb-client"; postgresql_15 = "postgresql-15";
  pgcli = "pgcli"; mycli = "mycli"; bison = "bison"; flex = "flex"; m4 = "m4"; libtool = "libtool";
  gettext = "gettext"; patchelf = "patchelf"; nasm = "nasm"; yasm = "yasm"; dtc = "device-tree-compiler";
  ubootTools = "u-boot-tools"; openocd = "openocd"; minicom = "minicom"; picocom = "picocom";
  avrdude = "avrdude";
  # Containers, virtual machines, cloud
  podman-compose = "podman-compose"; lxc = "lxc"; virt-manager = "virt-manager"; virt-viewer = "virt-viewer";
  libguestfs = "libguestfs-tools"; vagrant = "vagrant"; ansible = "ansible";
  cloud-utils = "cloud-image-utils"; cloud-init = "cloud-init"; awscli2 = "awscli";
  # Monitoring and security
  collectd = "collectd"; netdata = "netdata"; monit = "monit"; sysstat = "sysstat"; atop = "atop";
  nmon = "nmon"; lnav = "lnav"; goaccess = "goaccess"; lynis = "lynis"; clamav = "clamav"; aide = "aide";
  audit = "auditd"; apparmor-parser = "apparmor"; apparmor-utils = "apparmor-utils"; sshguard = "sshguard"; yubikey-manager = "yubikey-manager"; pcsclite = "pcscd";
  opensc = "opensc"; tpm2-tools = "tpm2-tools"; mkcert = "mkcert";
  # Desktop: sound, Wayland and X tools, applications
  pavucontrol = "pavucontrol"; pulseaudio = "pulseaudio"; pipewire = "pipewire"; wireplumber = "wireplumber";
  alsa-utils = "alsa-utils"; alsaUtils = "alsa-utils"; gutenprint = "printer-driver-gutenprint"; brlaser = "printer-driver-brlaser";
  splix = "printer-driver-splix"; freefont_ttf = "fonts-freefont-ttf"; brightnessctl = "brightnessctl"; feh = "feh"; zathura = "zathura";
  evince = "evince"; okular = "okular"; rofi = "rofi"; dmenu = "suckless-tools"; i3 = "i3-wm"; sway = "sway";
  waybar = "waybar"; foot = "foot"; wofi = "wofi"; grim = "grim"; slurp = "slurp";
  wl-clipboard = "wl-clipboard"; xdotool = "xdotool"; scrot = "scrot"; flameshot = "flameshot";
  redshift = "redshift"; picom = "picom"; dunst = "dunst"; libnotify = "libnotify-bin"; arandr = "arandr";
  obs-studio = "obs-studio"; audacity = "audacity"; kdenlive = "kdenlive"; blender = "blender";
  krita = "krita"; darktable = "darktable"; shotwell = "shotwell"; qbittorrent = "qbittorrent";
  gedit = "gedit"; kate = "kate"; geany = "geany"; filezilla = "filezilla"; remmina = "remmina";
  gnome-tweaks = "gnome-tweaks"; dconf-editor = "dconf-editor";
  networkmanagerapplet = "network-manager-gnome"; blueman = "blueman"; bluez = "bluez";
  # Fonts
  dejavu_fonts = "fonts-dejavu-core"; noto-fonts = "fonts-noto-core";
  noto-fonts-emoji = "fonts-noto-color-emoji"; liberation_ttf = "fonts-liberation";
  fira-code = "fonts-firacode"; font-awesome = "fonts-font-awesome"; hack-font = "fonts-hack";
  jetbrains-mono = "fonts-jetbrains-mono";
  # Nix itself (Debian's nix-bin: a user's tool on the machine; Kiln does not use it), Git helpers
  nix = "nix-bin"; git-crypt = "git-crypt"; pre-commit = "pre-commit"; hub = "hub";
  # Mail, web, chat and media
  mutt = "mutt"; neomutt = "neomutt"; aerc = "aerc"; isync = "isync"; msmtp = "msmtp"; notmuch = "notmuch"; w3m = "w3m";
  lynx = "lynx"; elinks = "elinks"; irssi = "irssi"; weechat = "weechat"; newsboat = "newsboat";
  yt-dlp = "yt-dlp"; ffmpeg = "ffmpeg"; imagemagick = "imagemagick"; ghostscript = "ghostscript";
  poppler_utils = "poppler-utils"; qpdf = "qpdf"; exiftool = "libimage-exiftool-perl";
  mediainfo = "mediainfo"; sox = "sox"; lame = "lame"; flac = "flac"; poetry = "python3-poetry";
  pipx = "pipx"; black = "black";
}
