import CParted
import Foundation
import KilnSupport

/// `kiln resize IMAGE SIZE`: grows a raw disk image Kiln wrote, offline and without root.
/// The file is made longer (sparse), libparted moves the backup GPT to the new end and
/// extends the root partition (the last one) to the last MiB, keeping every GUID, and
/// resize2fs grows an ext4 root (on a sparse copy of the partition). A btrfs root
/// cannot grow unmounted (btrfs-progs resizes only mounted filesystems): its partition grows
/// here and the filesystem at the next boot with `fileSystems."/".autoResize`.
public enum DiskResizer {
    public enum Filesystem: String, Sendable { case ext4, btrfs }

    public struct Result: Sendable {
        public var oldBytes: UInt64, newBytes: UInt64
        public var rootBytes: UInt64
        public var filesystem: Filesystem
        /// Whether the filesystem itself grew now (ext4), or waits for the next boot (btrfs).
        public var filesystemGrown: Bool
    }

    static let mib: UInt64 = 1 << 20

    public static func grow(_ image: String, to requested: UInt64, progress: KilnSupport.Progress?) throws -> Result {
        var st = stat()
        guard stat(image, &st) == 0 else { throw KilnError.posix("cannot read '\(image)'") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw KilnError("'\(image)' is not a regular file: kiln resize grows raw image files") }
        let old = UInt64(st.st_size)
        let new = requested / mib * mib
        let parts = try DiskInfo.partitions(image)   // also: "has no GPT" for qcow2 and the like
        guard let root = parts.last, root.isRoot else {
            throw KilnError("'\(image)': its last partition is not a root partition Kiln wrote; kiln resize grows only that one")
        }
        guard new > old else {
            throw KilnError("'\(image)' is \(old >> 20) MiB; kiln resize only grows an image, and \(new >> 20) MiB is not bigger",
                            hint: "give a size above \(old >> 20) MiB, e.g. \((old >> 20) + 1024)M")
        }
        let fs = try filesystem(image, at: root.offset)
        progress?.begin("growing \(image) from \(old >> 20) to \(new >> 20) MiB")
        guard truncate(image, off_t(new)) == 0 else { throw KilnError.posix("cannot make '\(image)' \(new >> 20) MiB") }
        let rootBytes: UInt64
        do {
            rootBytes = try growLastPartition(image, number: root.number, firstByte: root.offset, diskBytes: new)
        } catch {
            // The table was not written: give the file its old length back.
            _ = truncate(image, off_t(old))
            throw error
        }
        var grown = false
        if fs == .ext4 {
            try growExt4(image, offset: root.offset, oldBytes: root.size, newBytes: rootBytes)
            grown = true
        }
        progress?.end("\(rootBytes >> 20) MiB root partition")
        return Result(oldBytes: old, newBytes: new, rootBytes: rootBytes, filesystem: fs, filesystemGrown: grown)
    }

    /// resize2fs on the partition copied out (sparse) to a file of its own: on an image file with
    /// `?offset=` it would cut the file to the filesystem's length at the end. The partition's
    /// range is then punched to zeros and the grown filesystem copied back skipping zero blocks,
    /// so the image stays sparse and holds exactly the new filesystem.
    static func growExt4(_ image: String, offset: UInt64, oldBytes: UInt64, newBytes: UInt64) throws {
        let work = try KilnPaths.makeTemporaryDirectory("kiln-resize")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let part = work + "/root.ext4"
        try Tool.run(["dd", "if=\(image)", "of=\(part)", "bs=1M", "iflag=skip_bytes,count_bytes", "skip=\(offset)",
                      "count=\(oldBytes)", "conv=sparse", "status=none"])
        guard truncate(part, off_t(newBytes)) == 0 else { throw KilnError.posix("cannot grow the copy of the root filesystem") }
        // Only a clean filesystem is grown (e2fsck exits non-zero on any error, and nothing has
        // been changed in the image's root yet); -f then spares resize2fs its own check.
        do { try Tool.run(["e2fsck", "-fn", part]) } catch {
            throw KilnError("the root filesystem of '\(image)' is not clean, so kiln resize leaves it as it is: \(error)",
                            hint: "boot the image once (or run e2fsck on its root partition), then resize")
        }
        try Tool.run(["resize2fs", "-f", part, String(newBytes / 4096)])
        try Tool.run(["fallocate", "--punch-hole", "--offset", String(offset), "--length", String(newBytes), image])
        try Tool.run(["dd", "if=\(part)", "of=\(image)", "bs=1M", "oflag=seek_bytes", "seek=\(offset)",
                      "conv=sparse,notrunc", "status=none"])
    }

    /// ext4 by its superblock magic (0xEF53 at 1080), btrfs by its ("_BHRfS_M" at 64 KiB + 64).
    static func filesystem(_ image: String, at offset: UInt64) throws -> Filesystem {
        let f = try OpenFile(image, flags: O_RDONLY)
        if try f.read(count: 2, at: offset + 1080) == [0x53, 0xEF] { return .ext4 }
        if try f.read(count: 8, at: offset + 0x10040) == Array("_BHRfS_M".utf8) { return .btrfs }
        throw KilnError("'\(image)': the root partition holds neither ext4 nor btrfs")
    }

    /// libparted: the backup GPT to the end ("Fix"), the partition's end to the last MiB
    /// boundary but one (Kiln's layout), committed. Returns the partition's new size in bytes.
    static func growLastPartition(_ image: String, number: Int, firstByte: UInt64, diskBytes: UInt64) throws -> UInt64 {
        CParted_install_unattended_handler()
        guard let dev = ped_device_get(image) else { throw KilnError("libparted cannot open '\(image)'") }
        defer { ped_device_destroy(dev) }
        guard ped_device_open(dev) != 0 else { throw KilnError("libparted cannot open '\(image)' for writing") }
        defer { ped_device_close(dev) }
        guard let disk = ped_disk_new(dev) else { throw KilnError("libparted cannot read the partition table of '\(image)'") }
        defer { ped_disk_destroy(disk) }
        guard let part = ped_disk_get_partition(disk, Int32(number)) else {
            throw KilnError("libparted finds no partition \(number) in '\(image)'")
        }
        let sector = UInt64(dev.pointee.sector_size)
        let start = PedSector(firstByte / sector)
        let end = PedSector((diskBytes / mib - 1) * (mib / sector) - 1)
        guard let geom = ped_geometry_new(dev, start, end - start + 1) else { throw KilnError("libparted: no geometry for the new root partition") }
        defer { ped_geometry_destroy(geom) }
        guard let exact = ped_constraint_exact(geom) else { throw KilnError("libparted: no constraint for the new root partition") }
        defer { ped_constraint_destroy(exact) }
        guard ped_disk_set_partition_geom(disk, part, exact, start, end) != 0 else {
            throw KilnError("libparted cannot extend partition \(number) of '\(image)' to sector \(end)")
        }
        guard ped_disk_commit_to_dev(disk) != 0 else { throw KilnError("libparted cannot write the partition table of '\(image)'") }
        return UInt64(end - start + 1) * sector
    }
}
