/// A user account as the configuration declares it.
public struct UserConfig: Codable, Sendable, Hashable {
    public var name: String
    public var uid: Int?
    public var group: String?
    public var home: String?
    public var shell: String?
    public var isNormalUser: Bool?
    /// A system account: its uid is allocated below 1000 and it gets no home directory.
    public var isSystemUser: Bool?
    /// Whether activation creates the home directory (default: for normal users).
    public var createHome: Bool?
    public var description: String?
    public var extraGroups: [String]?
    public var initialPassword: String?
    public var hashedPassword: String?
}

/// A group the configuration declares (`users.groups.<name>`), beyond Debian's base groups.
public struct GroupConfig: Codable, Sendable, Hashable {
    public var name: String
    public var gid: Int?
    public var members: [String]?

    public init(name: String, gid: Int? = nil, members: [String]? = nil) {
        self.name = name; self.gid = gid; self.members = members
    }
}

/// A package the configuration wants, with the file and option that asked for it.
public struct PackageWant: Codable, Sendable, Hashable {
    public var name: String
    public var option: String
    public var file: String

    public init(name: String, option: String, file: String) {
        self.name = name; self.option = option; self.file = file
    }
}

/// A file of the generated /etc: its text, or a link to `source`.
public struct EtcFile: Codable, Sendable, Hashable {
    /// Relative to /etc.
    public var path: String
    public var text: String?
    public var source: String?
    public var mode: UInt16
    /// Owner and group of a generated file: a name, or "+N" for id N (NixOS's form).
    public var user: String = "+0"
    public var group: String = "+0"
}

/// The boot loader the configuration chose (`boot.loader.*`).
public struct BootLoaderConfig: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case grub, systemdBoot = "systemd-boot" }
    /// `boot.loader.systemd-boot.enable` gives systemd-boot; otherwise `boot.loader.grub.enable`.
    public var kind: Kind = .grub
    /// GRUB: `boot.loader.grub.efiSupport` (a removable-media EFI loader on the ESP).
    public var grubEFI: Bool = false
    /// GRUB: `boot.loader.grub.device` is not "nodev": GRUB for BIOS in the MBR and BIOS boot partition.
    public var grubBIOS: Bool = true

    public init(kind: Kind = .grub, grubEFI: Bool = false, grubBIOS: Bool = true) {
        self.kind = kind; self.grubEFI = grubEFI; self.grubBIOS = grubBIOS
    }

    /// Whether the image boots with UEFI firmware.
    public var uefi: Bool { kind == .systemdBoot || grubEFI }
}

/// The evaluated system, typed: everything later stages need, nothing Nix-specific.
/// `kiln eval --json PROFILE` prints it.
public struct SystemConfig: Codable, Sendable {
    public var hostName: String
    /// Nix system double, "x86_64-linux" or "aarch64-linux".
    public var hostPlatform: String
    public var kernelPackage: String
    public var console: String
    public var initrdKernelModules: [String]
    public var kernelParams: [String]
    public var bootLoaderTimeout: Int
    public var users: [UserConfig]
    /// `users.groups`: declared groups (Debian's base groups are always there).
    public var groups: [GroupConfig] = []
    public var packages: [PackageWant]
    /// `environment.etc`, including the units `systemd.services` generates.
    public var etc: [EtcFile]
    /// `boot.loader.*`: which loader, for which firmware.
    public var bootLoader = BootLoaderConfig()
    /// `hardware.firmware`: what the machine's firmware can boot, "bios" and/or "uefi".
    public var firmware = ["bios", "uefi"]
    /// `fileSystems."/".fsType`: "ext4" or "btrfs".
    public var rootFSType = "ext4"

    /// Debian's name for the target architecture.
    public var debianArchitecture: String {
        hostPlatform.hasPrefix("aarch64") ? "arm64" : "amd64"
    }

    /// Every package the system's closure starts from, sorted and unique.
    public var packageNames: [String] {
        Array(Set(packages.map(\.name) + [kernelPackage])).sorted()
    }
}
