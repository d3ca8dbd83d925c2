/// What Kiln builds from an evaluated configuration: the modules' `system.build.plan`
/// (Sources/KilnModules/modules/system/plan.nix) decoded as is. The modules and their
/// assertions decide what is valid; these types only make the result impossible to misread.
/// `kiln config PROFILE` prints it.
public struct SystemPlan: Codable, Sendable {
    public var hostName: String
    public var architecture: Architecture
    /// The boot firmware the machine has (`hardware.firmware`).
    public var firmware: [Firmware]
    public var bootLoader: BootLoader
    /// Seconds the boot menu waits before booting the default entry.
    public var bootLoaderTimeout: Int
    /// How many generations the boot menu lists, newest first (`configurationLimit`); nil: all.
    public var bootLoaderLimit: Int?
    public var rootFilesystem: RootFilesystem
    public var kernel: Kernel
    /// `users.users`, sorted by name.
    public var users: [User]
    /// `users.mutableUsers`: a switch keeps the passwords and accounts changed on the machine.
    public var mutableUsers: Bool = true
    /// `users.groups`, sorted by name (Debian's base groups are declared by the modules too).
    public var groups: [Group]
    /// `environment.etc`, including the units `systemd.services` generates.
    public var etc: [EtcFile]
    /// Every package a module asked for, with the module that asked.
    public var packages: [PackageWant]
    /// `image.formats`: what the machine's provider imports, the usual one first; empty: any.
    public var imageFormats: [OutputFormat] = []
    /// `specialisation.<name>`: variants of this system, each a whole plan.
    public var specialisations: [String: SystemPlan] = [:]
    /// `isoImage.*`, when the configuration imports the ISO module (installer/cd-dvd/iso-image.nix):
    /// only such a system can be written as an ISO, and it boots as a live system.
    public var isoImage: ISOImage?
    /// The store objects its strings name that its own Nix code made (`WrittenObject`),
    /// gathered from the plan's string context when it is read; sorted by path.
    public var writtenObjects: [WrittenObject]?
    /// `environment.systemPackages` entries that are written objects (`pkgs.writeShellScriptBin`
    /// & co.): their store paths, linked into the system path as packages are.
    public var systemObjects: [String] = []

    public init(hostName: String, architecture: Architecture, firmware: [Firmware], bootLoader: BootLoader,
                bootLoaderTimeout: Int = 1, rootFilesystem: RootFilesystem = .ext4, kernel: Kernel,
                users: [User] = [], groups: [Group] = [], etc: [EtcFile] = [], packages: [PackageWant] = []) {
        self.hostName = hostName; self.architecture = architecture; self.firmware = firmware
        self.bootLoader = bootLoader; self.bootLoaderTimeout = bootLoaderTimeout; self.bootLoaderLimit = nil
        self.rootFilesystem = rootFilesystem
        self.kernel = kernel; self.users = users; self.groups = groups; self.etc = etc; self.packages = packages
    }

    /// Every package the system's closure starts from (the kernel's and the variants'
    /// included), sorted and unique.
    public var packageNames: [String] {
        Array(Set(packages.map(\.name) + [kernel.package] + specialisations.values.flatMap(\.packageNames))).sorted()
    }
}

/// A live ISO's settings (`isoImage.*`, NixOS's names) and the system an installer carries.
public struct ISOImage: Codable, Sendable, Hashable {
    /// The ISO 9660 volume label, which stage 1 finds the medium by (at most 32 characters).
    public var volumeID: String
    /// The file name NixOS would give it (`kiln build` writes where --output says).
    public var isoName: String
    /// Extra files on the ISO: `source` on the build host, `target` absolute on the ISO.
    public var contents: [ISOContent]
    /// Packages whose store paths go into the live system's store beside the system's own.
    public var storeContents: [String]
    /// zstd's level for the squashfs (`isoImage.squashfsCompression`, "zstd -Xcompression-level N").
    public var zstdLevel: Int
    /// `installer.system`: the profile whose image the ISO carries for kiln-install.
    public var installerSystem: String?

    public init(volumeID: String, isoName: String, contents: [ISOContent] = [], storeContents: [String] = [],
                zstdLevel: Int = 6, installerSystem: String? = nil) {
        self.volumeID = volumeID; self.isoName = isoName; self.contents = contents; self.storeContents = storeContents
        self.zstdLevel = zstdLevel; self.installerSystem = installerSystem
    }
}

public struct ISOContent: Codable, Sendable, Hashable {
    public var source: String
    public var target: String
}

/// The kernel and what stage 1 loads.
public struct Kernel: Codable, Sendable, Hashable {
    /// The Debian kernel image package (`boot.kernelPackage`).
    public var package: String
    /// `boot.kernelParams`, after Kiln's own root= and rw.
    public var params: [String]
    /// Modules the initrd loads, in order (each after its dependencies), without repeats.
    public var initrdModules: [String]
    /// Modules systemd-modules-load loads in stage 2 (`boot.kernelModules`).
    public var modules: [String]
    /// The part of the module tree the running system carries (`boot.kernelModulesTree`):
    /// paths below lib/modules/<version>/kernel/ or module names; nil: the whole tree.
    public var modulesTree: [String]?
    /// The serial console device (`boot.console`).
    public var console: String

    public init(package: String, params: [String] = [], initrdModules: [String] = [], modules: [String] = [],
                modulesTree: [String]? = nil, console: String) {
        self.package = package; self.params = params; self.initrdModules = initrdModules; self.modules = modules
        self.modulesTree = modulesTree; self.console = console
    }
}

/// A user account (`users.users.<name>`), with the modules' defaults applied.
public struct User: Codable, Sendable, Hashable {
    public var name: String
    /// nil: allocated (system users below 1000, normal ones from 1000).
    public var uid: Int?
    public var group: String
    public var home: String
    public var shell: String
    public var isNormalUser: Bool
    public var isSystemUser: Bool
    /// Whether activation creates the home directory.
    public var createHome: Bool
    public var description: String
    public var extraGroups: [String]
    public var initialPassword: String?
    public var hashedPassword: String?
    /// A file on the machine holding the hash, read at every activation.
    public var hashedPasswordFile: String?

    public init(name: String, uid: Int? = nil, group: String, home: String, shell: String, isNormalUser: Bool = false,
                isSystemUser: Bool = false, createHome: Bool = false, description: String = "", extraGroups: [String] = [],
                initialPassword: String? = nil, hashedPassword: String? = nil) {
        self.name = name; self.uid = uid; self.group = group; self.home = home; self.shell = shell
        self.isNormalUser = isNormalUser; self.isSystemUser = isSystemUser; self.createHome = createHome
        self.description = description; self.extraGroups = extraGroups
        self.initialPassword = initialPassword; self.hashedPassword = hashedPassword
    }
}

/// A group (`users.groups.<name>`).
public struct Group: Codable, Sendable, Hashable {
    public var name: String
    /// nil: allocated below 1000.
    public var gid: Int?
    public var members: [String]

    public init(name: String, gid: Int? = nil, members: [String] = []) {
        self.name = name; self.gid = gid; self.members = members
    }
}

/// A package a module wants, with the option and file that asked for it.
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
    /// Permission bits of a generated file.
    public var mode: UInt16
    /// Owner and group of a generated file: a name, or "+N" for id N (NixOS's form).
    public var user: String
    public var group: String

    public init(path: String, text: String? = nil, source: String? = nil, mode: UInt16 = 0o644,
                user: String = "+0", group: String = "+0") {
        self.path = path; self.text = text; self.source = source; self.mode = mode; self.user = user; self.group = group
    }
}
