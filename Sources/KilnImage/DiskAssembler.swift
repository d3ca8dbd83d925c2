import Foundation
import KilnSupport
import KilnPlan
import KilnPrimitives

/// What goes on a disk image: a fixed three-partition GPT layout.
///
///     LBA 0        protective MBR (with a BIOS loader's code when `biosBootCode` is set)
///     LBA 1-33     primary GPT header + entries
///     1 MiB        partition 1: BIOS boot, 1 MiB (the BIOS loader's core image)
///     2 MiB        partition 2: ESP, FAT32, `espSizeMiB`
///     ...          partition 3: root, the filesystem image rounded up to 1 MiB
///     last 1 MiB   (free) + backup GPT entries + backup header in the last sector
public struct DiskSpec: Sendable {
    /// What fills the root partition.
    public var root: RootPartition
    public var espSizeMiB: Int
    /// The root partition's type GUID and name come from it (Discoverable Partitions).
    public var architecture: Architecture
    /// Seed for the disk GUID, partition GUIDs and the ESP's volume serial.
    public var seed: [UInt8]
    /// A BIOS boot loader's code for the MBR and the BIOS boot partition.
    public var biosBootCode: BIOSBootCode?
    /// The ESP's contents (UEFI boot loaders, systemd-boot's entries, kernels); empty for a BIOS-only disk.
    public var espFiles: [ESPFile] = []
    /// SOURCE_DATE_EPOCH, for tools that stamp times (mtools when files are added to the ESP).
    public var timestamp: UInt32

    public init(root: RootPartition, espSizeMiB: Int = 64, architecture: Architecture = .x86_64, seed: [UInt8],
                biosBootCode: BIOSBootCode? = nil, espFiles: [ESPFile] = [], timestamp: UInt32) {
        self.espFiles = espFiles
        self.root = root
        self.espSizeMiB = espSizeMiB
        self.architecture = architecture
        self.seed = seed
        self.biosBootCode = biosBootCode
        self.timestamp = timestamp
    }
}

/// The root partition's filesystem.
public enum RootPartition: Sendable {
    /// A filesystem image file, copied into the partition.
    case image(String)
    /// A filesystem of `bytes` that `write(diskPath, offset)` writes straight into the disk
    /// file at the partition's offset. A root of a few GiB is then written once, not written
    /// to a file of its own and copied (the copy was most of the time of a big image's disk
    /// step, and twice its size in dirty pages that the kernel throttled).
    case inPlace(bytes: UInt64, write: @Sendable (_ diskPath: String, _ offset: UInt64) throws -> Void)
}

public enum DiskAssembler {
    static let mib: UInt64 = 1 << 20
    static let sectorsPerMiB: UInt64 = mib / 512
    /// Partition numbers in the fixed layout (GRUB's prefix names the root one).
    public static let biosBootPartition = 1, espPartition = 2, rootPartition = 3
    /// Where the BIOS boot partition starts and how big it is: a BIOS loader's core image is
    /// made for this place before the disk is assembled.
    public static let biosBootPartitionLBA: UInt64 = sectorsPerMiB
    public static let biosBootPartitionBytes = Int(mib)

    /// Writes a raw GPT disk image to `output` (via a temporary file renamed into place).
    /// - Throws: `KilnError` naming the step (mkfs.vfat, grub-mkimage, I/O) that failed.
    public static func assemble(_ spec: DiskSpec, output: String, progress: KilnSupport.Progress?) throws {
        guard spec.espSizeMiB >= 33 else {
            throw KilnError("ESP size \(spec.espSizeMiB) MiB is too small for FAT32 (at least 33 MiB)")
        }
        guard !spec.seed.isEmpty else { throw KilnError("disk assembly needs a non-empty seed for its GUIDs") }
        let rootImage: OpenFile?, rootBytes: UInt64
        switch spec.root {
        case .image(let path):
            let file = try OpenFile(path, flags: O_RDONLY)
            rootImage = file
            rootBytes = try file.size
            guard rootBytes > 0 else { throw KilnError("root filesystem image '\(path)' is empty") }
        case .inPlace(let bytes, _):
            guard bytes > 0, bytes % 512 == 0 else { throw KilnError("internal: a root filesystem of \(bytes) bytes is not whole sectors") }
            rootImage = nil
            rootBytes = bytes
        }

        let table = try layout(spec, rootBytes: rootBytes)
        let rootOffset = table.partitions[rootPartition - 1].firstLBA * 512
        let work = try KilnPaths.makeTemporaryDirectory("kiln-disk")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let out = try AtomicOutput(output)
        do {
            try createSparseFile(out.temporaryPath, size: table.totalSectors * 512)
            // The root first: its writer shows its own progress.
            if case .inPlace(_, let write) = spec.root { try write(out.temporaryPath, rootOffset) }
            progress?.begin("assembling disk")
            let esp = work + "/esp.img"
            try makeESP(esp, sizeMiB: spec.espSizeMiB, seed: spec.seed, timestamp: spec.timestamp,
                        files: spec.espFiles, workDirectory: work)

            let bios = table.partitions[biosBootPartition - 1]
            if let code = spec.biosBootCode {
                guard bios.firstLBA == biosBootPartitionLBA, code.core.count <= Int(bios.lastLBA - bios.firstLBA + 1) * 512,
                      code.mbrCode.count <= 440 else {
                    throw KilnError("the BIOS boot code does not fit the disk layout (MBR code \(code.mbrCode.count) bytes, core \(code.core.count) bytes)")
                }
            }

            let disk = try OpenFile(out.temporaryPath, flags: O_RDWR)
            let entries = try table.entryArray()
            let entriesCRC = CRC32.checksum(entries)
            try disk.write(table.protectiveMBR(bootCode: spec.biosBootCode?.mbrCode), at: 0)
            try disk.write(table.header(primary: true, entriesCRC: entriesCRC), at: 512)
            try disk.write(entries, at: 2 * 512)
            try disk.write(entries, at: table.backupEntriesLBA * 512)
            try disk.write(table.header(primary: false, entriesCRC: entriesCRC), at: table.backupHeaderLBA * 512)
            if let code = spec.biosBootCode {
                try disk.write(code.core, at: bios.firstLBA * 512)
            }
            try copySparse(from: OpenFile(esp, flags: O_RDONLY), to: disk, at: table.partitions[espPartition - 1].firstLBA * 512)
            let copied = try rootImage.map { try copySparse(from: $0, to: disk, at: rootOffset) }
            guard fsync(disk.fd) == 0 else { throw KilnError("cannot flush '\(out.temporaryPath)': \(String(cString: strerror(errno)))") }
            try out.commit()
            progress?.end("\(table.totalSectors / sectorsPerMiB) MiB disk" + (copied.map { ", \($0 >> 20) MiB of root data copied in" } ?? ""))
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
            .init(type: .esp, guid: try guid(SeededUUID.Purpose.espPartition), firstLBA: espStart, lastLBA: rootStart - 1, name: "ESP"),
            .init(type: try GUID(spec.architecture.rootPartitionType), guid: try guid("partition-root"), firstLBA: rootStart,
                  lastLBA: rootStart + rootSectors - 1, name: spec.architecture.rootPartitionName),
        ])
    }

    /// The root filesystem's size that makes the whole disk `diskBytes` (rounded down to whole
    /// MiB): the disk less the first MiB, the BIOS boot partition, the ESP and the last MiB.
    public static func rootBytes(diskBytes: UInt64, espSizeMiB: Int) throws -> UInt64 {
        let overhead = UInt64(3 + espSizeMiB) * mib
        let disk = diskBytes / mib * mib
        guard disk > overhead + 64 * mib else {
            throw KilnError("--disk-size \(diskBytes >> 20) MiB leaves no room for a root filesystem: the boot partitions take \(overhead >> 20) MiB")
        }
        return disk - overhead
    }

    /// The ESP's FAT volume serial (8 hex digits) for `seed`.
    static func espSerial(seed: [UInt8]) -> String {
        Hex.encode(SeededUUID.make(seed: seed, purpose: "esp-serial").prefix(4)).uppercased()
    }

    /// A FAT image just big enough for `files`, for an ISO's UEFI boot entry (made as a disk's
    /// ESP is: mkfs.vfat --invariant and mtools, dates from `timestamp`).
    public static func makeEFIImage(_ path: String, files: [ESPFile], seed: [UInt8], timestamp: UInt32, workDirectory: String) throws {
        let bytes = files.reduce(UInt64(0)) { $0 + ($1.size + 4095) / 4096 * 4096 }
        try makeESP(path, sizeMiB: Int((bytes + (1 << 20) + mib - 1) / mib), seed: seed, timestamp: timestamp, files: files,
                    fatBits: nil, label: "KILN_EFI", workDirectory: workDirectory)
    }

    /// The ESP size for `files`: room for them twice over (a new generation's kernel beside the
    /// old one) plus 16 MiB, at least 64 MiB, in whole MiB.
    public static func espSizeMiB(for files: [ESPFile]) -> Int {
        let bytes = files.reduce(UInt64(0)) { $0 + ($1.size + 4095) / 4096 * 4096 }
        return max(64, Int((2 * bytes + (16 << 20) + mib - 1) / mib))
    }

    /// A FAT32 filesystem, reproducible: --invariant fixes everything mkfs.vfat would otherwise
    /// take from the clock, the serial comes from the seed, and mtools stamps the files it adds
    /// with SOURCE_DATE_EPOCH (in UTC). Files are added in sorted order, directories first.
    /// - Parameter fatBits: 32 for a disk's ESP; nil lets mkfs.vfat pick for the size (an
    ///   ISO's small EFI image gets FAT12 or FAT16).
    static func makeESP(_ path: String, sizeMiB: Int, seed: [UInt8], timestamp: UInt32, files: [ESPFile] = [],
                        fatBits: Int? = 32, label: String = "ESP", workDirectory: String) throws {
        try Tool.run(["mkfs.vfat", "--invariant"] + (fatBits.map { ["-F", String($0)] } ?? []) + ["-i", espSerial(seed: seed), "-n", label,
                      "-C", path, String(sizeMiB * 1024)],
                     environment: ["SOURCE_DATE_EPOCH": String(timestamp)])
        guard !files.isEmpty else { return }
        // FAT cannot store times before 1980 (mtools wraps them to 2098): clamp to its epoch.
        let fatTime = max(timestamp, 315_532_800)
        let env = ["SOURCE_DATE_EPOCH": String(fatTime), "TZ": "UTC", "MTOOLS_SKIP_CHECK": "1"]
        var dirs = Set<String>()
        for f in files {
            guard !f.path.hasPrefix("/"), !f.path.split(separator: "/").contains("..") else {
                throw KilnError("ESP file path '\(f.path)' must be relative and stay inside the ESP")
            }
            var parts = f.path.split(separator: "/").dropLast()
            while !parts.isEmpty { dirs.insert(parts.joined(separator: "/")); parts = parts.dropLast() }
        }
        if !dirs.isEmpty { try Tool.run(["mmd", "-i", path] + dirs.sorted().map { "::/" + $0 }, environment: env) }
        for (i, f) in files.sorted(by: { $0.path < $1.path }).enumerated() {
            let source: String
            switch f.content {
            case .file(let p): source = p
            case .data(let d):
                source = workDirectory + "/esp-data-\(i)"
                guard FileManager.default.createFile(atPath: source, contents: Data(d)) else {
                    throw KilnError("cannot write '\(source)'")
                }
            }
            try Tool.run(["mcopy", "-i", path, "-D", "o", source, "::/" + f.path], environment: env)
        }
    }
}

public enum FormatConverter {
    /// Converts a raw disk image to `format` at `output` (temporary file + rename).
    ///
    /// Reproducibility: qcow2 (uncompressed) and fixed VHD from `qemu-img convert` are
    /// deterministic. streamOptimized VMDK is too except for the descriptor's CID, which
    /// qemu-img draws at random; Kiln rewrites it from `seed` (the descriptor is plain text
    /// at a fixed place, padded, so the file's size does not change). The GCE tarball is GNU
    /// tar with fixed owner and mtime and gzip -n (no name, no time in the header).
    /// - Parameter name: the file name the image will have (a VMDK's descriptor names its extent).
    public static func convert(raw: String, to format: OutputFormat, output: String, timestamp: UInt32 = 1,
                               seed: [UInt8] = Array("kiln".utf8), name: String? = nil) throws {
        let out = try AtomicOutput(output)
        do {
            let source = try OpenFile(raw, flags: O_RDONLY)
            let size = try source.size
            switch format {
            case .raw:
                try createSparseFile(out.temporaryPath, size: size)
                try copySparse(from: source, to: OpenFile(out.temporaryPath, flags: O_RDWR), at: 0)
            case .qcow2:
                try Tool.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, out.temporaryPath])
            case .vhd:
                guard size % DiskAssembler.mib == 0 else {
                    throw KilnError("a VHD for Azure needs a size in whole MiB; the raw disk has \(size) bytes")
                }
                try Tool.run(["qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on",
                              raw, out.temporaryPath])
                try fixVHDFooter(out.temporaryPath, timestamp: timestamp, seed: seed)
            case .vmdk:
                try Tool.run(["qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                              raw, out.temporaryPath])
                try fixVMDKDescriptor(out.temporaryPath, seed: seed,
                                      extentName: name ?? URL(fileURLWithPath: output).lastPathComponent)
            case .iso:
                throw KilnError("an ISO is written from the system, not converted from a disk image")
            case .gce:
                let dir = try KilnPaths.makeTemporaryDirectory("kiln-gce")
                defer { try? FileManager.default.removeItem(atPath: dir) }
                let disk = dir + "/disk.raw"
                if link(raw, disk) != 0 {
                    try createSparseFile(disk, size: size)
                    try copySparse(from: source, to: OpenFile(disk, flags: O_RDWR), at: 0)
                }
                try Tool.run(["tar", "--format=oldgnu", "--sparse", "--sort=name", "--mtime=@\(timestamp)",
                              "--owner=0", "--group=0", "--numeric-owner", "--use-compress-program=gzip -n -6",
                              "-C", dir, "-cf", out.temporaryPath, "disk.raw"])
            }
            try out.commit()
        } catch {
            out.discard()
            throw error
        }
    }

    /// A VHD footer's creation time (seconds since 2000-01-01) and unique id are the clock and
    /// random in qemu-img's output: set them from SOURCE_DATE_EPOCH and the seed, and
    /// recompute the checksum (ones' complement of the byte sum, VHD specification 1.0).
    static func fixVHDFooter(_ path: String, timestamp: UInt32, seed: [UInt8]) throws {
        let file = try OpenFile(path, flags: O_RDWR)
        let size = try file.size
        guard size >= 512 else { throw KilnError("VHD '\(path)' is shorter than its footer") }
        var footer = try file.read(count: 512, at: size - 512)
        guard footer.count == 512, Array(footer[0..<8]) == Array("conectix".utf8) else {
            throw KilnError("VHD '\(path)': no footer where qemu-img should have written it")
        }
        let vhdTime = timestamp > 946_684_800 ? timestamp - 946_684_800 : 0
        for i in 0..<4 { footer[24 + i] = UInt8(truncatingIfNeeded: vhdTime >> (24 - 8 * UInt32(i))) }
        footer.replaceSubrange(68..<84, with: SeededUUID.make(seed: seed, purpose: "vhd-unique-id"))
        for i in 64..<68 { footer[i] = 0 }
        let sum = ~footer.reduce(UInt32(0)) { $0 &+ UInt32($1) }
        for i in 0..<4 { footer[64 + i] = UInt8(truncatingIfNeeded: sum >> (24 - 8 * UInt32(i))) }
        try file.write(footer, at: size - 512)
    }

    /// qemu-img's VMDK descriptor holds a random CID and names the extent after the file it
    /// wrote (a temporary name): set the CID from `seed` and the extent's name to `extentName`.
    /// The descriptor is NUL-padded text in a fixed area, so the file's layout does not change.
    static func fixVMDKDescriptor(_ path: String, seed: [UInt8], extentName: String) throws {
        let file = try OpenFile(path, flags: O_RDWR)
        let header = try file.read(count: 512, at: 0)
        guard header.count == 512, Array(header[0..<4]) == Array("KDMV".utf8) else {
            throw KilnError("VMDK '\(path)': not a VMDK sparse extent")
        }
        func u64(_ o: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(header[o + $1]) << (8 * UInt64($1)) } }
        let start = u64(28) * 512, length = Int(u64(36) * 512)
        guard start > 0, length > 0, length <= 1 << 20 else { throw KilnError("VMDK '\(path)': no embedded descriptor") }
        let area = try file.read(count: length, at: start)
        let text = String(decoding: area.prefix { $0 != 0 }, as: UTF8.self)
        let cid = Hex.encode(SeededUUID.make(seed: seed, purpose: "vmdk-cid").prefix(4))
        guard !extentName.contains("\""), !extentName.contains("\n") else {
            throw KilnError("VMDK extent name '\(extentName)' cannot hold quotes or newlines")
        }
        var sawCID = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("CID=") { sawCID = true; return "CID=" + cid }
            if line.hasPrefix("RW ") || line.hasPrefix("RDONLY "), let q = line.firstIndex(of: "\"") {
                return String(line[..<q]) + "\"" + extentName + "\""
            }
            return String(line)
        }
        guard sawCID else { throw KilnError("VMDK '\(path)': no CID in the descriptor qemu-img wrote") }
        let bytes = Array(lines.joined(separator: "\n").utf8)
        guard bytes.count < length else { throw KilnError("VMDK '\(path)': the descriptor does not fit its area") }
        try file.write(bytes + [UInt8](repeating: 0, count: length - bytes.count), at: start)
    }
}
