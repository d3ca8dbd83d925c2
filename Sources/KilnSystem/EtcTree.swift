import KilnPlan
import KilnStore

/// The generation's /etc: the packages' own /etc files, Kiln's base policy (what Debian's
/// maintainer scripts and base-files would set up), and `environment.etc`; then how the
/// running system's /etc links into it.
enum EtcTree {
    static func make(plan: SystemPlan, identity: ImageIdentity, packages: [StoreObject], previous: PreviousAccounts? = nil) throws -> GeneratedObject {
        var etc = GeneratedObject(name: "etc")
        for obj in packages {
            for e in obj.manifest.entries where e.path.hasPrefix("etc/") {
                let rel = String(e.path.dropFirst(4))
                switch e.kind {
                case .directory: if !etc.has(rel) { etc.directory(rel) }
                case .file, .symlink: if !etc.has(rel) { etc.symlink(rel, obj.storeFile(e.path)) }
                }
            }
        }
        // An empty host name (networking.hostName = "", as cloud-init wants) leaves
        // /etc/hostname to whoever names the machine at run time.
        let host = plan.hostName
        if !host.isEmpty { etc.data("hostname", host + "\n") }
        etc.data("hosts", "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n" + (host.isEmpty ? "" : "127.0.1.1 \(host)\n"))
        etc.data("os-release", """
            NAME="Kiln"
            ID=kiln
            ID_LIKE=debian
            PRETTY_NAME="Kiln (\(plan.architecture.nixSystem))"
            HOME_URL="https://example.invalid/kiln"

            """)
        // The root is the one file system Kiln itself makes: its line comes first, then the
        // entries of fileSystems and swapDevices (the modules' fstab).
        // A live system's root is stage 1's overlay, and it has no ESP.
        let fs = plan.rootFilesystem
        var lines = plan.isoImage != nil ? "" : "UUID=\(identity.rootUUID) / \(fs.rawValue) rw,relatime 0 \(fs.fsckPass)\n"
        // systemd-boot reads its entries and the kernels from the ESP: the running system
        // keeps it at /boot to write them for every generation (no fsck: dosfstools is not
        // part of every system).
        if plan.bootLoader == .systemdBoot && plan.isoImage == nil {
            lines += "PARTUUID=\(identity.espPartitionUUID) /boot vfat umask=0077 0 0\n"
        }
        etc.data("fstab", lines + (plan.etc.first { $0.path == "fstab" }?.text ?? ""))
        etc.data("environment", "")
        etc.data("default/locale", "")
        etc.data("shells", "/bin/sh\n/bin/bash\n/usr/bin/bash\n")
        etc.data("pam.d/common-auth", "auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\nauth required pam_permit.so\n")
        etc.data("pam.d/common-account", "account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so\naccount requisite pam_deny.so\naccount required pam_permit.so\n")
        etc.data("pam.d/common-password", "password [success=1 default=ignore] pam_unix.so obscure yescrypt\npassword requisite pam_deny.so\npassword required pam_permit.so\n")
        // Interactive sessions register with logind (loginctl, XDG_RUNTIME_DIR), as NixOS's
        // startSession does; cron-like ones (noninteractive) do not.
        etc.data("pam.d/common-session", "session [default=1] pam_permit.so\nsession requisite pam_deny.so\nsession required pam_permit.so\nsession required pam_unix.so\nsession optional pam_systemd.so\n")
        etc.data("pam.d/common-session-noninteractive", "session [default=1] pam_permit.so\nsession requisite pam_deny.so\nsession required pam_permit.so\nsession required pam_unix.so\n")
        let accounts = try Accounts(users: plan.users, groups: plan.groups, seed: identity.seed, previous: previous)
        for f in plan.etc where f.path != "fstab" {
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

    /// The account files activation copies (the system's tools rewrite them), with their
    /// modes and groups; everything else in /etc is a link into /etc/static.
    static let copiedFiles: [String: (mode: UInt16, gid: UInt32)] = [
        "passwd": (0o644, 0), "group": (0o644, 0), "shadow": (0o640, 42), "gshadow": (0o640, 42),
    ]

    /// The directories and the linked files of the generated /etc, sorted.
    static func layout(_ etc: GeneratedObject) -> (dirs: [String], links: [String]) {
        var dirs: [String] = [], links: [String] = []
        for (rel, node) in etc.entries.sorted(by: { $0.key < $1.key }) where copiedFiles[rel] == nil {
            if case .directory = node.kind { dirs.append(rel) } else { links.append(rel) }
        }
        return (dirs, links)
    }

    /// /etc as activation of this generation leaves it, so an image's first boot finds it done.
    static func activatedNodes(_ etc: GeneratedObject, toplevel: StorePath) -> [FileNode] {
        var n = [FileNode(path: "/etc/static", kind: .symlink(target: toplevel.path + "/etc"), mode: 0o777),
                 FileNode(path: "/etc/mtab", kind: .symlink(target: "/proc/self/mounts"), mode: 0o777)]
        let (dirs, links) = layout(etc)
        n += dirs.map { FileNode(path: "/etc/" + $0, kind: .directory, mode: etc.entries[$0]?.mode ?? 0o755) }
        n += links.map { FileNode(path: "/etc/" + $0, kind: .symlink(target: "/etc/static/" + $0), mode: 0o777) }
        // What the activation of the next generation removes if that one lacks it.
        n.append(FileNode(path: "/etc/.kiln-links", kind: .data(Array((links.joined(separator: "\n") + "\n").utf8)), mode: 0o644))
        for (rel, meta) in copiedFiles.sorted(by: { $0.key < $1.key }) {
            if let node = etc.entries[rel] { n.append(FileNode(path: "/etc/" + rel, kind: node.kind, mode: meta.mode, gid: meta.gid)) }
        }
        // An empty machine-id: systemd writes a new random one on the first boot, so every
        // machine made from the image gets its own, but the boot is not a "first boot" (only a
        // missing file or "uninitialized" is). A first boot applies the presets to every unit
        // file on the unit path, which Kiln's 00-kiln.preset turns into nothing and which cost
        // 5.4 s of PID 1's time under TCG (systemd resolves each unit's symlink chain itself).
        if etc.entries["machine-id"] == nil {
            n.append(FileNode(path: "/etc/machine-id", kind: .data([]), mode: 0o444))
        }
        return n
    }
}
