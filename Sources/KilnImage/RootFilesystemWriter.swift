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

    /// The root partition for `nodes` (sorted, parents first): a filesystem sized for them with
    /// room to spare, or `exactBytes` big (`--disk-size`) if that holds them. ext4 is written
    /// straight into the disk (`.inPlace`); btrfs, which mkfs.btrfs makes in a file of its own,
    /// is written now to `workDirectory`/root.img and copied in.
    public static func partition(_ type: RootFilesystem, _ nodes: [FileNode], uuid: String, seed: [UInt8],
                                 timestamp: UInt32, exactBytes: UInt64? = nil, workDirectory: String,
                                 progress: KilnSupport.Progress?) throws -> RootPartition {
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
        let estimate = ImageSizing.ext4Size(forContentBytes: contentBytes, entryCount: nodes.count)
        // btrfs: DUP metadata and the minimum chunk sizes need more room than ext4's estimate.
        let needed = type == .btrfs ? max(estimate + estimate / 4, 384 << 20) : estimate
        if let exactBytes, exactBytes < needed {
            throw KilnError("--disk-size is too small: the root filesystem needs \(needed >> 20) MiB and would get \(exactBytes >> 20) MiB",
                            hint: "give at least \((needed >> 20) + 200) MiB, or leave --disk-size out for a disk just big enough")
        }
        let size = exactBytes ?? needed
        switch type {
        case .ext4:
            guard let uuidBytes = SeededUUID.bytes(uuid) else { throw KilnError("the root filesystem UUID '\(uuid)' is not a UUID") }
            let options = Ext4Options(sizeBytes: size, label: label, uuid: uuidBytes,
                                      hashSeed: SeededUUID.make(seed: seed, purpose: "ext4-hash-seed"), timestamp: timestamp)
            return .inPlace(bytes: size) { disk, offset in
                try Ext4Writer.write(nodes, into: disk, at: offset, options: options, progress: progress)
            }
        case .btrfs:
            let path = workDirectory + "/root.img"
            try BtrfsWriter.write(nodes, to: path, options: BtrfsOptions(
                sizeBytes: size, label: label, uuid: uuid, timestamp: timestamp),
                progress: progress)
            return .image(path)
        }
    }
}
