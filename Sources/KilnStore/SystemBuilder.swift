import Foundation
import KilnSupport
import KilnPackages
import KilnModules

/// What makes one image differ from another built from the same inputs: nothing random.
public struct ImageIdentity: Sendable {
    /// Seed for every UUID, GUID and salt (HMAC-SHA256 over a purpose string).
    public var seed: [UInt8]
    /// The root filesystem's UUID, text form.
    public var rootUUID: String
    /// SOURCE_DATE_EPOCH: every timestamp in the image.
    public var timestamp: UInt32

    public init(seed: [UInt8], rootUUID: String, timestamp: UInt32) {
        self.seed = seed; self.rootUUID = rootUUID; self.timestamp = timestamp
    }
}

/// One boot menu entry: a generation's kernel, initrd and command line.
public struct BootEntry: Sendable {
    public var generation: Int
    public var title: String
    /// Paths inside the root filesystem.
    public var kernel: String
    public var initrd: String
    /// Where the bytes come from, for boot loaders that need copies on the ESP.
    public var kernelSource: String
    public var initrdData: [UInt8]
    /// Store base names ("<hash>-linux-6.1..."), unique per content: names for ESP copies.
    public var kernelName: String
    public var initrdName: String
    /// The full kernel command line (with init=).
    public var commandLine: String
}

/// A built system generation and the root filesystem that holds it.
public struct SystemBuild: Sendable {
    public var toplevel: StorePath
    /// Paths inside the image of the generation's kernel and initrd.
    public var kernel: String
    public var initrd: String
    /// The kernel command line of the boot entry (with init=).
    public var kernelCommandLine: String
    /// Every entry of the root filesystem, parents before children.
    public var nodes: [FileNode]
    /// Store paths in the image, sorted.
    public var closure: [StorePath]
    /// One entry per generation, the newest first (it is the default).
    public var bootEntries: [BootEntry] = []
}

/// Turns the evaluated configuration and the realised packages into the system generation
/// (sw, etc, initrd, kernel, toplevel) and the root filesystem's entries.
public struct SystemBuilder {
    public let config: SystemConfig
    public let identity: ImageIdentity
    /// Store objects of the system's runtime closure (no kernel package, no initrd-only tools).
    public let packages: [String: StoreObject]
    public let kernelPackage: StoreObject
    public let busybox: StoreObject

    public init(config: SystemConfig, identity: ImageIdentity, packages: [String: StoreObject], kernelPackage: StoreObject, busybox: StoreObject) {
        self.config = config; self.identity = identity; self.packages = packages
        self.kernelPackage = kernelPackage; self.busybox = busybox
    }

    public func build() throws -> SystemBuild {
        let progress = Progress.shared
        progress.begin("building the system generation")
        let sortedPackages = packages.values.sorted { $0.storePath.name < $1.storePath.name }

        // The kernel alone: the package's 400 MB of modules stay on the host; the initrd
        // carries the ones the hardware needs.
        guard let vmlinuz = kernelPackage.manifest.entries.first(where: { $0.kind == .file && $0.path.hasPrefix("boot/vmlinuz-") }) else {
            throw KilnError("kernel package \(kernelPackage.storePath.name) has no boot/vmlinuz-*",
                            hint: "boot.kernelPackage must be a Debian kernel image package such as linux-image-amd64")
        }
        let kmods = try KernelModules(kernel: kernelPackage)
        var kernel = GeneratedObject(name: "linux-\(kmods.version)")
        kernel.file("vmlinuz", source: kernelPackage.hostPath + "/" + vmlinuz.path, sha256: vmlinuz.sha256 ?? "", mode: 0o644)

        let (initrd, initrdBytes) = try makeInitrd(kmods)
        let sw = makeSystemPath(sortedPackages)
        let etc = try makeEtc(sortedPackages)

        let bash = try storeFile("bash", ["bin/bash", "usr/bin/bash"])
        let systemd = try storeFile("systemd", ["lib/systemd/systemd", "usr/lib/systemd/systemd"])
        let kernelParams = (["root=UUID=\(identity.rootUUID)", "rw"] + config.kernelParams).joined(separator: " ")

        var top = GeneratedObject(name: "kiln-system-\(config.hostName)")
        top.symlink("kernel", kernel.storePath.path + "/vmlinuz")
        top.symlink("initrd", initrd.storePath.path + "/initrd")
        top.symlink("sw", sw.storePath.path)
        top.symlink("etc", etc.storePath.path)
        top.data("kernel-params", kernelParams + "\n")
        top.data("system", config.hostPlatform + "\n")
        top.data("init", stage2Init(bash: bash, systemd: systemd), mode: 0o755)
        top.data("activate", activateScript(bash: bash, etc: etc), mode: 0o755)
        let toplevel = top.storePath

        let entry = BootEntry(generation: 1, title: "Kiln \(config.hostName) - generation 1",
                              kernel: kernel.storePath.path + "/vmlinuz", initrd: initrd.storePath.path + "/initrd",
                              kernelSource: kernelPackage.hostPath + "/" + vmlinuz.path, initrdData: initrdBytes,
                              kernelName: kernel.storePath.baseName, initrdName: initrd.storePath.baseName,
                              commandLine: "init=\(toplevel.path)/init " + kernelParams)
        var nodes = rootSkeleton(toplevel: toplevel) + etcNodes(etc, toplevel: toplevel)
        if config.bootLoader.kind == .grub {
            nodes.append(FileNode("/boot/grub", .directory, mode: 0o755))
            nodes.append(FileNode("/boot/grub/grub.cfg", .data(Array(grubConfig([entry]).utf8)), mode: 0o644))
        }
        var closure: [StorePath] = []
        for obj in sortedPackages {
            closure.append(obj.storePath)
            for e in obj.manifest.entries {
                let path = e.path.isEmpty ? obj.storePath.path : obj.storePath.path + "/" + e.path
                switch e.kind {
                case .directory: nodes.append(FileNode(path, .directory, mode: e.mode, uid: e.uid, gid: e.gid))
                case .file: nodes.append(FileNode(path, .file(source: obj.hostPath + "/" + e.path), mode: e.mode, uid: e.uid, gid: e.gid))
                case .symlink: nodes.append(FileNode(path, .symlink(e.target ?? ""), mode: 0o777, uid: e.uid, gid: e.gid))
                }
            }
        }
        for g in [kernel, initrd, sw, etc, top] {
            closure.append(g.storePath)
            nodes.append(contentsOf: g.nodes())
        }
        nodes.sort { $0.path < $1.path }
        progress.end("\(toplevel.path)")
        return SystemBuild(toplevel: toplevel, kernel: kernel.storePath.path + "/vmlinuz", initrd: initrd.storePath.path + "/initrd",
                           kernelCommandLine: entry.commandLine, nodes: nodes, closure: closure.sorted(), bootEntries: [entry])
    }

    // MARK: - Pieces of the generation

    /// The store path of a file of a package, trying the merged-/usr alternatives.
    private func storeFile(_ package: String, _ candidates: [String]) throws -> String {
        guard let obj = packages[package] else { throw KilnError("the system closure lacks package '\(package)', which Kiln's boot needs") }
        let paths = Set(obj.manifest.entries.map(\.path))
        guard let rel = candidates.first(where: paths.contains) else {
            throw KilnError("package '\(package)' has none of \(candidates.joined(separator: ", "))")
        }
        return obj.storePath.path + "/" + rel
    }

    /// The symlink forest of every package in the closure, in the merged-/usr layout that
    /// `/usr`, `/bin`, `/lib` ... point to. On a clash the first package by name wins.
    private func makeSystemPath(_ objs: [StoreObject]) -> GeneratedObject {
        var sw = GeneratedObject(name: "system-path")
        let skipTop: Set<String> = ["etc", "var", "run", "boot", "dev", "proc", "sys", "tmp", "home", "root", "srv", "mnt", "media", "opt"]
        var symlinkDirs = Set<String>()
        for obj in objs {
            for e in obj.manifest.entries where !e.path.isEmpty && e.path != "usr" {
                var rel = e.path
                if rel.hasPrefix("usr/") { rel.removeFirst(4) }
                guard let top = rel.split(separator: "/").first, !skipTop.contains(String(top)) else { continue }
                // Below a path another package made a link, nothing more can go.
                var parent = Substring(rel)
                var blocked = false
                while let slash = parent.lastIndex(of: "/") {
                    parent = parent[..<slash]
                    if symlinkDirs.contains(String(parent)) { blocked = true; break }
                }
                if blocked { continue }
                switch e.kind {
                case .directory:
                    if !sw.has(rel) { sw.directory(rel) }
                case .file, .symlink:
                    if sw.has(rel) { continue }
                    sw.symlink(rel, obj.storePath.path + "/" + e.path)
                    if e.kind == .symlink { symlinkDirs.insert(rel) }
                }
            }
        }
        return sw
    }

    private func makeEtc(_ objs: [StoreObject]) throws -> GeneratedObject {
        var etc = GeneratedObject(name: "etc")
        for obj in objs {
            for e in obj.manifest.entries where e.path.hasPrefix("etc/") {
                let rel = String(e.path.dropFirst(4))
                switch e.kind {
                case .directory: if !etc.has(rel) { etc.directory(rel) }
                case .file, .symlink: if !etc.has(rel) { etc.symlink(rel, obj.storePath.path + "/" + e.path) }
                }
            }
        }
        let host = config.hostName
        etc.data("hostname", host + "\n")
        etc.data("hosts", "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n127.0.1.1 \(host)\n")
        etc.data("os-release", """
            NAME="Kiln"
            ID=kiln
            ID_LIKE=debian
            PRETTY_NAME="Kiln (\(config.hostPlatform))"
            HOME_URL="https://example.invalid/kiln"

            """)
        // The root is the one file system Kiln itself makes: its line comes first, then the
        // entries of fileSystems and swapDevices (the modules' fstab).
        let rootLine = "UUID=\(identity.rootUUID) / \(config.rootFSType) rw,relatime 0 \(config.rootFSType == "btrfs" ? 0 : 1)\n"
        etc.data("fstab", rootLine + (config.etc.first { $0.path == "fstab" }?.text ?? ""))
        etc.data("nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n")
        etc.data("environment", "")
        etc.data("default/locale", "")
        etc.data("shells", "/bin/sh\n/bin/bash\n/usr/bin/bash\n")
        etc.data("pam.d/common-auth", "auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\nauth required pam_permit.so\n")
        etc.data("pam.d/common-account", "account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so\naccount requisite pam_deny.so\naccount required pam_permit.so\n")
        etc.data("pam.d/common-password", "password [success=1 default=ignore] pam_unix.so obscure yescrypt\npassword requisite pam_deny.so\npassword required pam_permit.so\n")
        etc.data("pam.d/common-session", "session [default=1] pam_permit.so\nsession requisite pam_deny.so\nsession required pam_permit.so\nsession required pam_unix.so\n")
        etc.data("pam.d/common-session-noninteractive", "session [default=1] pam_permit.so\nsession requisite pam_deny.so\nsession required pam_permit.so\nsession required pam_unix.so\n")
        let accounts = try Accounts(users: config.users, groups: config.groups, seed: identity.seed)
        for f in config.etc where f.path != "fstab" {
            if let text = f.text {
                let uid = try accounts.id(f.user, in: accounts.uids, option: "environment.etc.\"\(f.path)\".user")
                let gid = try accounts.id(f.group, in: accounts.gids, option: "environment.etc.\"\(f.path)\".group")
                etc.data(f.path, text, mode: f.mode, uid: uid, gid: gid)
            } else if let source = f.source { etc.symlink(f.path, source) }
        }
        // systemd-firstboot would prompt on the console: the configuration already answers it.
        etc.symlink("systemd/system/systemd-firstboot.service", "/dev/null")
        etc.data("passwd", accounts.passwd)
        etc.data("group", accounts.group)
        etc.data("shadow", accounts.shadow, mode: 0o640, gid: 42)
        etc.data("gshadow", accounts.gshadow, mode: 0o640, gid: 42)
        return etc
    }

    /// The root filesystem's kernel modules, after the hardware's storage drivers. crc32c_generic
    /// is a soft dependency of ext4 and btrfs that the modules' `depends=` does not name.
    static func filesystemModules(_ fsType: String) -> [String] {
        switch fsType {
        case "btrfs": return ["crc32c_generic", "btrfs"]
        default: return ["crc32c_generic", "crc16", "ext4"]
        }
    }

    private func makeInitrd(_ kmods: KernelModules) throws -> (GeneratedObject, [UInt8]) {
        guard let bb = busybox.manifest.entries.first(where: { $0.path == "bin/busybox" || $0.path == "usr/bin/busybox" }) else {
            throw KilnError("package busybox-static has no bin/busybox")
        }
        let order = try kmods.closure(config.initrdKernelModules + Self.filesystemModules(config.rootFSType))
        var cpio = CpioWriter(mtime: identity.timestamp)
        for d in ["bin", "dev", "proc", "sys", "run", "mnt-root", "lib", "lib/modules"] { cpio.add(d, .directory, mode: 0o755) }
        cpio.add("dev/console", .charDevice(major: 5, minor: 1), mode: 0o600)
        guard let bbData = FileManager.default.contents(atPath: busybox.hostPath + "/" + bb.path) else {
            throw KilnError("cannot read \(busybox.hostPath)/\(bb.path)")
        }
        cpio.add("bin/busybox", .file([UInt8](bbData)), mode: 0o755)
        cpio.add("bin/sh", .symlink("busybox"), mode: 0o777)
        for m in order {
            guard let p = kmods.path(of: m), let d = FileManager.default.contents(atPath: p) else { throw KilnError("cannot read kernel module \(m)") }
            cpio.add("lib/modules/\(m).ko", .file([UInt8](d)), mode: 0o644)
        }
        cpio.add("init", .file(Array(stage1Init(modules: order).utf8)), mode: 0o755)
        cpio.finish()
        var obj = GeneratedObject(name: "initrd-linux-\(kmods.version)")
        obj.data("initrd", [UInt8](cpio.data))
        return (obj, [UInt8](cpio.data))
    }

    // MARK: - Scripts

    private func stage1Init(modules: [String]) -> String {
        """
        #!/bin/sh
        # Kiln stage 1: load the storage drivers, mount the root by UUID, hand over to stage 2.
        export PATH=/bin
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        echo "kiln stage 1: loading \(modules.count) kernel modules"
        \(modules.map { "insmod /lib/modules/\($0).ko || echo \"kiln stage 1: insmod \($0) failed\"" }.joined(separator: "\n"))
        root=; init=
        for arg in $(cat /proc/cmdline); do
          case "$arg" in
            root=*) root="${arg#root=}" ;;
            init=*) init="${arg#init=}" ;;
          esac
        done
        fail() { echo "kiln stage 1: $*"; echo "kiln stage 1: starting a rescue shell"; exec sh; }
        [ -n "$root" ] || fail "no root= on the kernel command line"
        [ -n "$init" ] || fail "no init= on the kernel command line"
        dev=
        i=0
        while [ $i -lt 300 ]; do
          dev=$(findfs "$root" 2>/dev/null) && break
          sleep 0.1; i=$((i + 1))
        done
        [ -n "$dev" ] || fail "root device $root did not appear"
        mount -t \(config.rootFSType) -o rw "$dev" /mnt-root || fail "cannot mount $dev"
        mount -t tmpfs -o mode=0755,nosuid,nodev,size=20% tmpfs /mnt-root/run
        ln -sfn "${init%/init}" /mnt-root/run/current-system
        ln -sfn "${init%/init}" /mnt-root/run/booted-system
        mount --move /dev /mnt-root/dev
        umount /proc /sys
        echo "kiln stage 1: switching to $init"
        exec switch_root /mnt-root "$init"

        """
    }

    private func stage2Init(bash: String, systemd: String) -> String {
        """
        #!\(bash)
        # Kiln stage 2: activate this generation, then run systemd as PID 1.
        systemConfig="${0%/*}"
        export PATH=/run/current-system/sw/bin:/run/current-system/sw/sbin
        echo "kiln stage 2: activating $systemConfig"
        "$systemConfig/activate" || echo "kiln stage 2: activation failed"
        exec \(systemd) "$@"

        """
    }

    /// Makes the running system match the generation: /etc links, account files, directories.
    private func activateScript(bash: String, etc: GeneratedObject) -> String {
        var s = """
        #!\(bash)
        # Kiln activation: make / match the generation this script belongs to.
        set -e
        systemConfig="${0%/*}"
        export PATH=/run/current-system/sw/bin:/run/current-system/sw/sbin
        umask 022
        mkdir -p /etc /var/log /var/lib /var/cache /var/spool /root /home /tmp /var/tmp
        chmod 1777 /tmp /var/tmp
        chmod 0700 /root
        ln -sfn "$systemConfig" /run/current-system
        ln -sfn /proc/self/mounts /etc/mtab
        # Links into the generation's /etc (through /etc/static, so a switch swaps one link).

        """
        let (dirs, links) = Self.etcLayout(etc)
        // The image is written with /etc already linked to its own generation: a boot of the
        // generation the disk was made with skips the hundreds of `ln` (seconds under TCG).
        s += "if [ \"$(readlink /etc/static)\" != \"$systemConfig/etc\" ]; then\n"
        s += "ln -sfn \"$systemConfig/etc\" /etc/static\n"
        s += "mkdir -p " + dirs.map { "'/etc/\($0)'" }.joined(separator: " ") + "\n"
        for rel in links {
            s += "ln -sfn '/etc/static/\(rel)' '/etc/\(rel)'\n"
        }
        s += """
        # Account files are copied: passwd and friends must be writable by the system's tools.
        for f in passwd group; do cp --remove-destination "/etc/static/$f" "/etc/$f"; chmod 0644 "/etc/$f"; done
        for f in shadow gshadow; do cp --remove-destination "/etc/static/$f" "/etc/$f"; chown 0:42 "/etc/$f"; chmod 0640 "/etc/$f"; done
        fi

        """
        for u in config.users where u.createHome ?? (u.isNormalUser == true) {
            let home = u.home ?? "/home/\(u.name)"
            s += "if [ ! -d '\(home)' ]; then mkdir -p '\(home)'; chown '\(u.name):' '\(home)'; chmod 0700 '\(home)'; fi\n"
        }
        return s
    }

    /// One grub.cfg for BIOS and UEFI GRUB: on BIOS the menu goes to the serial port too; on
    /// UEFI the firmware's console already reaches it.
    private func grubConfig(_ entries: [BootEntry]) -> String {
        var s = """
        # Generated by Kiln: one entry per generation, the newest first and default.
        if [ "$grub_platform" = "pc" ]; then
          serial --unit=0 --speed=115200
          terminal_input serial console
          terminal_output serial console
        fi
        set default=0
        set timeout=\(config.bootLoaderTimeout)

        """
        for e in entries.sorted(by: { $0.generation > $1.generation }) {
            s += """
            menuentry "\(e.title)" --id kiln-generation-\(e.generation) {
              linux \(e.kernel) \(e.commandLine)
              initrd \(e.initrd)
            }

            """
        }
        return s
    }

    /// The account files activation copies (the system's tools rewrite them), with their
    /// modes and groups; everything else in /etc is a link into /etc/static.
    static let copiedEtcFiles: [String: (mode: UInt16, gid: UInt32)] = [
        "passwd": (0o644, 0), "group": (0o644, 0), "shadow": (0o640, 42), "gshadow": (0o640, 42),
    ]

    /// The directories and the linked files of the generated /etc, sorted.
    static func etcLayout(_ etc: GeneratedObject) -> (dirs: [String], links: [String]) {
        var dirs: [String] = [], links: [String] = []
        for (rel, node) in etc.entries.sorted(by: { $0.key < $1.key }) where copiedEtcFiles[rel] == nil {
            if case .directory = node.kind { dirs.append(rel) } else { links.append(rel) }
        }
        return (dirs, links)
    }

    /// /etc as activation of this generation leaves it, so the image's first boot finds it done.
    private func etcNodes(_ etc: GeneratedObject, toplevel: StorePath) -> [FileNode] {
        var n = [FileNode("/etc/static", .symlink(toplevel.path + "/etc"), mode: 0o777),
                 FileNode("/etc/mtab", .symlink("/proc/self/mounts"), mode: 0o777)]
        let (dirs, links) = Self.etcLayout(etc)
        n += dirs.map { FileNode("/etc/" + $0, .directory, mode: etc.entries[$0]?.mode ?? 0o755) }
        n += links.map { FileNode("/etc/" + $0, .symlink("/etc/static/" + $0), mode: 0o777) }
        for (rel, meta) in Self.copiedEtcFiles.sorted(by: { $0.key < $1.key }) {
            if let node = etc.entries[rel] { n.append(FileNode("/etc/" + rel, node.kind, mode: meta.mode, gid: meta.gid)) }
        }
        return n
    }

    private func rootSkeleton(toplevel: StorePath) -> [FileNode] {
        var n: [FileNode] = [FileNode("/", .directory, mode: 0o755)]
        for d in ["/boot", "/dev", "/etc", "/home", "/mnt", "/nix", "/nix/store", "/nix/var", "/nix/var/kiln",
                  "/nix/var/kiln/profiles", "/proc", "/run", "/sys", "/var", "/var/lib", "/var/log", "/var/cache"] {
            n.append(FileNode(d, .directory, mode: 0o755))
        }
        n.append(FileNode("/root", .directory, mode: 0o700))
        n.append(FileNode("/tmp", .directory, mode: 0o1777))
        n.append(FileNode("/var/tmp", .directory, mode: 0o1777))
        for (link, dir) in [("/bin", "bin"), ("/sbin", "sbin"), ("/lib", "lib"), ("/lib64", "lib64")] {
            n.append(FileNode(link, .symlink("/run/current-system/sw/\(dir)"), mode: 0o777))
        }
        n.append(FileNode("/usr", .symlink("/run/current-system/sw"), mode: 0o777))
        n.append(FileNode("/nix/var/kiln/profiles/system-1-link", .symlink(toplevel.path), mode: 0o777))
        n.append(FileNode("/nix/var/kiln/profiles/system", .symlink("system-1-link"), mode: 0o777))
        return n
    }
}

/// passwd, group, shadow and gshadow from the declared users, over Debian's base accounts.
struct Accounts {
    var passwd = "", group = "", shadow = "", gshadow = ""
    /// Every account's and group's id by name.
    var uids: [String: Int] = [:], gids: [String: Int] = [:]

    /// An owner as NixOS writes it: "+N" for id N, or a name from `table`.
    func id(_ owner: String, in table: [String: Int], option: String) throws -> UInt32 {
        if owner.hasPrefix("+"), let n = UInt32(owner.dropFirst()) { return n }
        guard let n = table[owner] else {
            throw KilnError("the option '\(option)' is '\(owner)', which is neither \"+N\" nor a declared name")
        }
        return UInt32(n)
    }

    static let baseGroups: [(String, Int)] = [
        ("root", 0), ("daemon", 1), ("bin", 2), ("sys", 3), ("adm", 4), ("tty", 5), ("disk", 6), ("lp", 7), ("mail", 8),
        ("news", 9), ("uucp", 10), ("man", 12), ("proxy", 13), ("kmem", 15), ("dialout", 20), ("fax", 21), ("voice", 22),
        ("cdrom", 24), ("floppy", 25), ("tape", 26), ("sudo", 27), ("audio", 29), ("dip", 30), ("www-data", 33),
        ("backup", 34), ("operator", 37), ("list", 38), ("irc", 39), ("src", 40), ("shadow", 42), ("utmp", 43),
        ("video", 44), ("sasl", 45), ("plugdev", 46), ("staff", 50), ("games", 60), ("users", 100), ("nogroup", 65534),
    ]

    /// Users and groups without a given id get one in a stable order (by name, as the
    /// configuration lists them): normal users from 1000 up, system users and groups from
    /// 999 down, as NixOS allocates them.
    init(users: [UserConfig], groups declared: [GroupConfig] = [], seed: [UInt8]) throws {
        var members: [String: [String]] = [:]
        var allGroups = Self.baseGroups
        var usedGIDs = Set(allGroups.map(\.1))
        var nextSystemGID = 999
        for g in declared.sorted(by: { $0.name < $1.name }) {
            for m in g.members ?? [] { members[g.name, default: []].append(m) }
            if let i = allGroups.firstIndex(where: { $0.0 == g.name }) {
                if let gid = g.gid, gid != allGroups[i].1 {
                    throw KilnError("users.groups.\(g.name).gid is \(gid), but \(g.name) is a Debian base group with gid \(allGroups[i].1)")
                }
                continue
            }
            let gid: Int
            if let given = g.gid { gid = given } else {
                while usedGIDs.contains(nextSystemGID) { nextSystemGID -= 1 }
                gid = nextSystemGID
            }
            guard !usedGIDs.contains(gid) else {
                throw KilnError("users.groups.\(g.name).gid is \(gid), which another group already has")
            }
            usedGIDs.insert(gid)
            allGroups.append((g.name, gid))
        }
        allGroups.sort { $0.1 < $1.1 }
        var lines: [(Int, String, String)] = [  // uid, passwd line, shadow line
            (1, "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin", "daemon:*:1:0:99999:7:::"),
            (2, "bin:x:2:2:bin:/bin:/usr/sbin/nologin", "bin:*:1:0:99999:7:::"),
            (3, "sys:x:3:3:sys:/dev:/usr/sbin/nologin", "sys:*:1:0:99999:7:::"),
            (65534, "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin", "nobody:*:1:0:99999:7:::"),
        ]
        let groupIDs = Dictionary(allGroups, uniquingKeysWith: { a, _ in a })
        var usedUIDs = Set(lines.map(\.0) + users.compactMap(\.uid))
        var nextUID = 1000, nextSystemUID = 999
        for u in users {
            let uid: Int
            if let given = u.uid { uid = given } else if u.name == "root" { uid = 0 } else if u.isSystemUser == true {
                while usedUIDs.contains(nextSystemUID) { nextSystemUID -= 1 }
                uid = nextSystemUID; usedUIDs.insert(uid)
            } else {
                while usedUIDs.contains(nextUID) { nextUID += 1 }
                uid = nextUID; usedUIDs.insert(uid)
            }
            let normal = u.isNormalUser == true
            let groupName = u.group ?? (normal ? "users" : u.name == "root" ? "root" : "nogroup")
            guard let gid = groupIDs[groupName] else {
                throw KilnError("users.users.\(u.name).group is '\(groupName)', which is not a known group")
            }
            for g in u.extraGroups ?? [] { members[g, default: []].append(u.name) }
            let home = u.home ?? (normal ? "/home/\(u.name)" : u.name == "root" ? "/root" : "/var/empty")
            let shell = u.shell ?? (normal || u.name == "root" ? "/bin/bash" : "/usr/sbin/nologin")
            let hash: String
            if let h = u.hashedPassword { hash = h } else if let p = u.initialPassword {
                hash = try PasswordHash.hash(p, user: u.name, seed: seed)
            } else { hash = "!" }
            lines.append((uid, "\(u.name):x:\(uid):\(gid):\(u.description ?? ""):\(home):\(shell)", "\(u.name):\(hash):1:0:99999:7:::"))
        }
        lines.sort { $0.0 < $1.0 }
        for (uid, line, _) in lines { uids[String(line.prefix { $0 != ":" })] = uid }
        gids = groupIDs
        // A user named in both extraGroups and the group's members is listed once.
        members = members.mapValues { names in var seen = Set<String>(); return names.filter { seen.insert($0).inserted } }
        passwd = lines.map(\.1).joined(separator: "\n") + "\n"
        shadow = lines.map(\.2).joined(separator: "\n") + "\n"
        group = allGroups.map { "\($0.0):x:\($0.1):\((members[$0.0] ?? []).joined(separator: ","))" }.joined(separator: "\n") + "\n"
        gshadow = allGroups.map { "\($0.0):*::\((members[$0.0] ?? []).joined(separator: ","))" }.joined(separator: "\n") + "\n"
    }
}
