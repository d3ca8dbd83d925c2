/// Parameters of an ext4 image. Everything that would otherwise be random or taken from the
/// clock is given here, so the same inputs give a bit-identical image.
public struct Ext4Options: Sendable {
    /// Size of the image file; a multiple of 4096 (see `ImageSizing.ext4Size`).
    public var sizeBytes: UInt64
    /// Volume label, at most 16 bytes of UTF-8.
    public var label: String
    /// Filesystem UUID (16 bytes, e.g. from `SeededUUID.make`).
    public var uuid: [UInt8]
    /// Directory-hash seed (16 bytes).
    public var hashSeed: [UInt8]
    /// Every timestamp in the image (inodes and superblock): the build's SOURCE_DATE_EPOCH.
    public var timestamp: UInt32

    public init(sizeBytes: UInt64, label: String, uuid: [UInt8], hashSeed: [UInt8], timestamp: UInt32) {
        self.sizeBytes = sizeBytes
        self.label = label
        self.uuid = uuid
        self.hashSeed = hashSeed
        self.timestamp = timestamp
    }
}

/// How big to make filesystems.
public enum ImageSizing {
    /// An ext4 size for `contentBytes` of file data in `entryCount` entries: room for the
    /// data rounded up to whole blocks, directory blocks, inode tables, the journal and group
    /// metadata, plus 25% + 64 MiB of free space; a multiple of 1 MiB.
    public static func ext4Size(forContentBytes contentBytes: UInt64, entryCount: Int) -> UInt64 {
        let entries = UInt64(max(entryCount, 0))
        // Each entry wastes up to one partial block; directories take about one block per 40 entries.
        let data = contentBytes + entries * 2048 + (entries / 40 + 1) * 4096
        let inodes = Ext4Layout.inodeCount(entryCount: entryCount, sizeBytes: data) * 256
        let journal: UInt64 = data < 512 << 20 ? 16 << 20 : (data < 4 << 30 ? 64 << 20 : 256 << 20)
        let metadata = data / 64 // bitmaps, group descriptors, extent blocks
        let raw = data + inodes + journal + metadata
        let total = raw + raw / 4 + (64 << 20)
        let mib: UInt64 = 1 << 20
        return (total + mib - 1) / mib * mib
    }
}

enum Ext4Layout {
    /// Inodes for the listed entries plus room for the running system's next generations
    /// (one per 16 KiB like mke2fs, at least twice the entries + 8192): a kiln switch brings
    /// a new system path, a forest of one link per package file, nearly as many entries as
    /// the first generation's; with only a quarter spare, a switch ran out of inodes while
    /// the disk had 100 MB free.
    static func inodeCount(entryCount: Int, sizeBytes: UInt64) -> UInt64 {
        let entries = UInt64(max(entryCount, 0))
        return max(sizeBytes / 16384, 2 * entries + 8192)
    }
}

/// A file whose bytes, read to be written into an image, do not hash to what its manifest
/// says: the writer stops, and the pipeline repairs the store object and writes again.
public struct ContentMismatch: Error, Sendable {
    /// The file's path in the image and on the build host.
    public var path: String
    public var source: String
    public var expected: String
    public var actual: String
}
