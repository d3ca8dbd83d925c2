/// The root filesystem's type (`fileSystems."/".fsType`), with what booting it needs.
public enum RootFilesystem: String, Codable, Sendable, CaseIterable {
    case ext4, btrfs

    /// The kernel modules stage 1 loads for it, after the storage drivers. crc32c_generic is a
    /// soft dependency of ext4 and btrfs that the modules' `depends=` does not name.
    public var kernelModules: [String] {
        switch self {
        case .ext4: return ["crc32c_generic", "crc16", "ext4"]
        case .btrfs: return ["crc32c_generic", "btrfs"]
        }
    }

    /// GRUB modules beyond the common set that read it.
    public var grubModules: [String] {
        switch self {
        case .ext4: return []
        case .btrfs: return ["btrfs"]
        }
    }

    /// fstab's sixth field: fsck order (btrfs has no boot-time fsck).
    public var fsckPass: Int { self == .btrfs ? 0 : 1 }
}
