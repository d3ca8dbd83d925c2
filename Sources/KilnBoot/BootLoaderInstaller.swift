import KilnImage
import KilnPlan
import KilnStore
import KilnSupport
import KilnSystem

/// What every boot loader does for an image, one file per loader (Grub.swift,
/// SystemdBoot.swift), fed the same list of generations (NixOS's bootspecs). Adding a loader
/// is a case of `BootLoader` (KilnPlan) plus one file here, and its case in `installer`.
public protocol BootLoaderInstaller: Sendable {
    /// Debian packages of the target architecture it is made from: pinned in the lock file,
    /// never installed in the root filesystem.
    var packages: [String] { get }
    /// The option that chose those packages, for messages about them.
    var packagesOption: String { get }
    /// Its files in the root filesystem (GRUB reads its menu from there).
    func rootFiles(_ generations: [Bootspec]) -> [FileNode]
    /// Its files on the EFI system partition (none when it does not boot on UEFI).
    func espFiles(_ generations: [Bootspec], context: BootContext) throws -> [ESPFile]
    /// Its code in the MBR and the BIOS boot partition (nil when it does not boot on BIOS).
    func biosBootCode(context: BootContext) throws -> BIOSBootCode?
}

/// What loaders read besides the generations: where the root is and what was fetched.
public struct BootContext: Sendable {
    public var rootUUID: String
    /// The store objects of the lock file, by package name (the loaders' own packages among them).
    public var packages: [String: StoreObject]
    /// A private folder for intermediate files.
    public var workDirectory: String

    public init(rootUUID: String, packages: [String: StoreObject], workDirectory: String) {
        self.rootUUID = rootUUID; self.packages = packages; self.workDirectory = workDirectory
    }

    /// A package the loader is made from, every file checked against its manifest (the
    /// loader's tools read them directly, so no writer would check them later).
    func package(_ name: String) throws -> StoreObject {
        guard let o = packages[name] else {
            throw KilnError("the lock file lacks \(name), which the boot loader is made from")
        }
        try o.verify()
        return o
    }
}

extension SystemPlan {
    /// The installer of the plan's boot loader.
    public var bootLoaderInstaller: any BootLoaderInstaller {
        switch bootLoader {
        case .grub(let platforms):
            return Grub(platforms: platforms, architecture: architecture, rootFilesystem: rootFilesystem, timeout: bootLoaderTimeout)
        case .systemdBoot:
            return SystemdBoot(architecture: architecture, timeout: bootLoaderTimeout)
        }
    }
}
