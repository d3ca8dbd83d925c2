import Foundation
import KilnPlan
import KilnPrimitives
import KilnStore
import KilnSupport

/// The root filesystem of a disk image, in the plan's type: the one place that chooses a
/// writer (Ext4Writer in process, BtrfsWriter through mkfs.btrfs). A new root filesystem is a
/// case of `RootFilesystem` and its writer here.
public enum RootFilesystemWriter {
    /// The label every Kiln root carries.
    public static let label = "kiln-root"

    /// Writes `nodes` (sorted, parents first) into a new filesystem image at `path`, sized
    /// for them with room to spare.
    public static func write(_ type: RootFilesystem, _ nodes: [FileNode], to path: String, uuid: String, seed: [UInt8],
                             timestamp: UInt32, progress: KilnSupport.Progress?) throws {
        let contentBytes = try nodes.reduce(UInt64(0)) { sum, n in
            switch n.kind {
            case .file(let src):
                var st = stat()
                guard stat(src, &st) == 0 else { throw KilnError("cannot stat store file \(src)") }
                return sum + UInt64(st.st_size)
            case .data(let d): return sum + UInt64(d.count)
            default: return sum
            }
        }
        let size = ImageSizing.ext4Size(forContentBytes: contentBytes, entryCount: nodes.count)
        switch type {
        case .ext4:
            guard let uuidBytes = SeededUUID.bytes(uuid) else { throw KilnError("the root filesystem UUID '\(uuid)' is not a UUID") }
            try Ext4Writer.write(nodes, to: path, options: Ext4Options(
                sizeBytes: size, label: label, uuid: uuidBytes,
                hashSeed: SeededUUID.make(seed: seed, purpose: "ext4-hash-seed"), timestamp: timestamp),
                progress: progress)
        case .btrfs:
            // DUP metadata and the minimum chunk sizes need more room than ext4's estimate.
            try BtrfsWriter.write(nodes, to: path, options: BtrfsOptions(
                sizeBytes: max(size + size / 4, 384 << 20), label: label, uuid: uuid, timestamp: timestamp),
                progress: progress)
        }
    }
}
