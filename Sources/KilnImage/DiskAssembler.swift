import Foundation
import KilnSupport

/// What goes on a disk image: a fixed three-partition GPT layout.
///
///     LBA 0        protective MBR (with GRUB's boot.img code when `grubBIOS` is set)
///     LBA 1-33     primary GPT header + entries
///     1 MiB        partition 1: BIOS boot, 1 MiB (GRUB's core.img)
///     2 MiB        partition 2: ESP, FAT32, `espSizeMiB`
///     ...          partition 3: root, the filesystem image rounded up to 1 MiB
///     last 1 MiB   (free) + backup GPT entries + backup header in the last sector
public struct DiskSpec: Sendable {
    public var rootFilesystemImage: String
    public var espSizeMiB: Int
    public var rootPartitionTypeGUID: GUID
    /// GPT name of the root partition (systemd-repart style).
    public var rootPartitionName: String
    /// Seed for the disk GUID, partition GUIDs and the ESP's volume serial.
    public var seed: [UInt8]
    public var grubBIOS: GrubBIOSSpec?
    /// SOURCE_DATE_EPOCH, for tools that stamp times (mtools when files are added to the ESP).
    public var timestamp: UInt32

    public init(rootFilesystemImage: String, espSizeMiB: Int = 64, rootPartitionTypeGUID: GUID = .rootX86_64,
                rootPartitionName: String = "root-x86-64", seed: [UInt8], grubBIOS: GrubBIOSSpec? = nil, timestamp: UInt32) {
        self.rootFilesystemImage = rootFilesystemImage
        self.espSizeMiB = espSizeMiB
        self.rootPartitionTypeGUID = rootPartitionTypeGUID
        self.rootPartitionName = rootPartitionName
        self.seed = seed
        self.grubBIOS = grubBIOS
        self.timestamp = timestamp
    }
}

public enum DiskAssembler {
    static let mib: UInt64 = 1 << 20
    static let sectorsPerMiB: UInt64 = mib / 512
    /// Partition numbers in the fixed layout (GRUB's prefix names the root one).
    public static let biosBootPartition = 1, espPartition = 2, rootPartition = 3

    /// Writes a raw GPT disk image to `output` (via a temporary file renamed into place).
    /// - Throws: `KilnError` naming the step (mkfs.vfat, grub-mkimage, I/O) that failed.
    public static func assemble(_ spec: DiskSpec, output: String, progress: KilnSupport.Progress?) throws {
        guard spec.espSizeMiB >= 33 else {
            throw KilnError("ESP size \(spec.espSizeMiB) MiB is too small for FAT32 (at least 33 MiB)")
        }
        guard !spec.seed.isEmpty else { throw KilnError("disk assembly needs a non-empty seed for its GUIDs") }
        progress?.begin("assembling disk")
        let root = try OpenFile(spec.rootFilesystemImage, flags: O_RDONLY)
        let rootBytes = try root.size
        guard rootBytes > 0 else { throw KilnError("root filesystem image '\(spec.rootFilesystemImage)' is empty") }

        let table = try layout(spec, rootBytes: rootBytes)
        let work = try KilnPaths.makeTemporaryDirectory("kiln-disk")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let out = try AtomicOutput(output)
        do {
            let esp = work + "/esp.img"
            try makeESP(esp, sizeMiB: spec.espSizeMiB, seed: spec.seed, timestamp: spec.timestamp)

            var grub: GrubBIOS.Images?
            if let g = spec.grubBIOS {
                let bios = table.partitions[biosBootPartition - 1]
                grub = try GrubBIOS.makeImages(g, coreLBA: bios.firstLBA, rootPartition: rootPartition,
                                               maxCoreBytes: Int(bios.lastLBA - bios.firstLBA + 1) * 512, workDirectory: work)
            }

            try createSparseFile(out.temporaryPath, size: table.totalSectors * 512)
            let disk = try OpenFile(out.temporaryPath, flags: O_RDWR)
            let entries = try table.entryArray()
            let entriesCRC = CRC32.checksum(entries)
            try disk.write(table.protectiveMBR(bootCode: grub?.mbrCode), at: 0)
            try disk.write(table.header(primary: true, entriesCRC: entriesCRC), at: 512)
            try disk.write(entries, at: 2 * 512)
            try disk.write(entries, at: table.backupEntriesLBA * 512)
            try disk.write(table.header(primary: false, entriesCRC: entriesCRC), at: table.backupHeaderLBA * 512)
            if let grub {
                try disk.write(grub.core, at: table.partitions[biosBootPartition - 1].firstLBA * 512)
            }
            try copySparse(from: OpenFile(esp, flags: O_RDONLY), to: disk, at: table.partitions[espPartition - 1].firstLBA * 512)
            let written = try copySparse(from: root, to: disk, at: table.partitions[rootPartition - 1].firstLBA * 512)
            guard fsync(disk.fd) == 0 else { throw KilnError("cannot flush '\(out.temporaryPath)': \(String(cString: strerror(errno)))") }
            try out.commit()
            progress?.end("\(table.totalSectors / sectorsPerMiB) MiB disk, \(written >> 20) MiB of root data")
        } catch {
            out.discard()
            throw error
        }
    }

    /// The partition table for `spec` with a root filesystem of `rootBytes`.
    static func layout(_ spec: DiskSpec, rootBytes: UInt64) throws -> GPTTable {
        let rootSectors = (rootBytes + mib - 1) / mib * sectorsPerMiB
        let biosStart = sectorsPerMiB
        let espStart = biosStart + sectorsPerMiB
        let rootStart = espStart + UInt64(spec.espSizeMiB) * sectorsPerMiB
        let total = rootStart + rootSectors + sectorsPerMiB
        func guid(_ purpose: String) throws -> GUID { try GUID(bytes: SeededUUID.make(seed: spec.seed, purpose: purpose)) }
        return GPTTable(diskGUID: try guid("disk"), totalSectors: total, partitions: [
            .init(type: .biosBoot, guid: try guid("partition-bios-boot"), firstLBA: biosStart, lastLBA: espStart - 1, name: "BIOS boot"),
            .init(type: .esp, guid: try guid("partition-esp"), firstLBA: espStart, lastLBA: rootStart - 1, name: "ESP"),
            .init(type: spec.rootPartitionTypeGUID, guid: try guid("partition-root"), firstLBA: rootStart,
                  lastLBA: rootStart + rootSectors - 1, name: spec.rootPartitionName),
        ])
    }

    /// The ESP's FAT volume serial (8 hex digits) for `seed`.
    static func espSerial(seed: [UInt8]) -> String {
        SeededUUID.make(seed: seed, purpose: "esp-serial").prefix(4).map { String(format: "%02X", $0) }.joined()
    }

    /// An empty FAT32 filesystem, reproducible: --invariant fixes everything mkfs.vfat would
    /// otherwise take from the clock, and the serial comes from the seed.
    static func makeESP(_ path: String, sizeMiB: Int, seed: [UInt8], timestamp: UInt32) throws {
        try Tool.run(["mkfs.vfat", "--invariant", "-F", "32", "-i", espSerial(seed: seed), "-n", "ESP",
                      "-C", path, String(sizeMiB * 1024)],
                     environment: ["SOURCE_DATE_EPOCH": String(timestamp)])
    }
}

/// Disk image output formats besides raw.
public enum OutputFormat: String, Sendable, CaseIterable {
    case raw, qcow2
}

public enum FormatConverter {
    /// Converts a raw disk image to `format` at `output` (temporary file + rename). qcow2 is
    /// written by `qemu-img convert` without compression, which is deterministic.
    public static func convert(raw: String, to format: OutputFormat, output: String) throws {
        let out = try AtomicOutput(output)
        do {
            switch format {
            case .raw:
                let source = try OpenFile(raw, flags: O_RDONLY)
                try createSparseFile(out.temporaryPath, size: try source.size)
                try copySparse(from: source, to: OpenFile(out.temporaryPath, flags: O_RDWR), at: 0)
            case .qcow2:
                try Tool.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, out.temporaryPath])
            }
            try out.commit()
        } catch {
            out.discard()
            throw error
        }
    }
}
