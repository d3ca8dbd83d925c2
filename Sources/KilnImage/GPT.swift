import Foundation
import KilnSupport
import KilnPlan
import KilnPrimitives

/// A GUID/UUID, kept in its text byte order ("4F68BCE3-E8CD-..." -> 4F 68 BC E3 E8 CD ...).
/// GPT stores the first three fields little-endian; `gptBytes` gives that form.
public struct GUID: Sendable, Hashable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) throws {
        guard bytes.count == 16 else { throw KilnError("a GUID has 16 bytes, got \(bytes.count)") }
        self.bytes = bytes
    }

    /// Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case).
    public init(_ text: String) throws {
        let hex = text.filter { $0 != "-" }
        let groups = text.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
        guard groups == [8, 4, 4, 4, 12], hex.count == 32, hex.allSatisfy(\.isHexDigit) else {
            throw KilnError("'\(text)' is not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
        }
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { throw KilnError("'\(text)' is not a GUID") }
            out.append(byte)
            index = next
        }
        bytes = out
    }

    /// Upper-case text form.
    public var description: String { SeededUUID.string(bytes).uppercased() }

    /// From the on-disk GPT form.
    init(gptBytes b: [UInt8]) throws {
        guard b.count == 16 else { throw KilnError("a GUID has 16 bytes, got \(b.count)") }
        bytes = [b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]] + b[8..<16]
    }

    /// The on-disk GPT form: first three fields little-endian.
    var gptBytes: [UInt8] {
        [bytes[3], bytes[2], bytes[1], bytes[0], bytes[5], bytes[4], bytes[7], bytes[6]] + bytes[8..<16]
    }

    // Discoverable Partitions Specification / UEFI type GUIDs.
    public static let biosBoot = fixed("21686148-6449-6E6F-744E-656564454649")
    public static let esp = fixed("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")

    private static func fixed(_ text: String) -> GUID {
        // Only called with the literals above, which parse; fall back to zeros rather than trap.
        (try? GUID(text)) ?? GUID(unchecked: [UInt8](repeating: 0, count: 16))
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }
}

/// CRC-32 (IEEE 802.3, as zlib and the UEFI GPT use).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// A GPT partition table for 512-byte sectors with 128 entries of 128 bytes.
struct GPTTable {
    struct Partition {
        var type: GUID
        var guid: GUID
        var firstLBA: UInt64
        var lastLBA: UInt64 // inclusive
        var attributes: UInt64 = 0
        var name: String
    }

    static let sectorSize = 512
    static let entryCount = 128
    static let entrySize = 128
    static let entrySectors = entryCount * entrySize / sectorSize // 32

    var diskGUID: GUID
    var totalSectors: UInt64
    var partitions: [Partition]

    var firstUsableLBA: UInt64 { 2 + UInt64(Self.entrySectors) }
    var lastUsableLBA: UInt64 { totalSectors - 2 - UInt64(Self.entrySectors) }
    var backupHeaderLBA: UInt64 { totalSectors - 1 }
    var backupEntriesLBA: UInt64 { totalSectors - 1 - UInt64(Self.entrySectors) }

    /// The 16 KiB partition entry array.
    func entryArray() throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.entryCount * Self.entrySize)
        guard partitions.count <= Self.entryCount else { throw KilnError("too many partitions: \(partitions.count)") }
        for (i, p) in partitions.enumerated() {
            let base = i * Self.entrySize
            let name = Array(p.name.utf16)
            guard name.count <= 36 else { throw KilnError("partition name '\(p.name)' is longer than 36 UTF-16 units") }
            guard p.firstLBA >= firstUsableLBA, p.lastLBA <= lastUsableLBA, p.firstLBA <= p.lastLBA else {
                throw KilnError("partition '\(p.name)' (LBA \(p.firstLBA)-\(p.lastLBA)) lies outside the usable area")
            }
            out.replaceSubrange(base..<base + 16, with: p.type.gptBytes)
            out.replaceSubrange(base + 16..<base + 32, with: p.guid.gptBytes)
            put64(&out, base + 32, p.firstLBA)
            put64(&out, base + 40, p.lastLBA)
            put64(&out, base + 48, p.attributes)
            for (j, unit) in name.enumerated() { put16(&out, base + 56 + j * 2, unit) }
        }
        return out
    }

    /// One 512-byte header sector (primary when `primary`, else backup).
    func header(primary: Bool, entriesCRC: UInt32) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: Self.sectorSize)
        h.replaceSubrange(0..<8, with: Array("EFI PART".utf8))
        put32(&h, 8, 0x0001_0000)
        put32(&h, 12, 92)
        put64(&h, 24, primary ? 1 : backupHeaderLBA)
        put64(&h, 32, primary ? backupHeaderLBA : 1)
        put64(&h, 40, firstUsableLBA)
        put64(&h, 48, lastUsableLBA)
        h.replaceSubrange(56..<72, with: diskGUID.gptBytes)
        put64(&h, 72, primary ? 2 : backupEntriesLBA)
        put32(&h, 80, UInt32(Self.entryCount))
        put32(&h, 84, UInt32(Self.entrySize))
        put32(&h, 88, entriesCRC)
        put32(&h, 16, CRC32.checksum(h[0..<92]))
        return h
    }

    /// The protective MBR: one 0xEE partition over the whole disk; `bootCode` fills bytes 0..<440.
    func protectiveMBR(bootCode: [UInt8]?) -> [UInt8] {
        var m = [UInt8](repeating: 0, count: Self.sectorSize)
        if let bootCode { m.replaceSubrange(0..<440, with: bootCode.prefix(440)) }
        let e = 446
        m[e + 0] = 0x00                        // not active
        m[e + 1] = 0x00; m[e + 2] = 0x02; m[e + 3] = 0x00 // CHS of LBA 1
        m[e + 4] = 0xEE
        m[e + 5] = 0xFF; m[e + 6] = 0xFF; m[e + 7] = 0xFF
        put32(&m, e + 8, 1)
        put32(&m, e + 12, UInt32(min(totalSectors - 1, 0xFFFF_FFFF)))
        m[510] = 0x55; m[511] = 0xAA
        return m
    }
}

/// What a finished disk image says about how to boot it: read back from its GPT and MBR.
public struct DiskInfo: Sendable, Equatable {
    /// From the root partition's Discoverable Partitions type.
    public var architecture: Architecture
    /// The MBR carries boot code (GRUB's boot.img): the disk boots by BIOS.
    public var biosBootable: Bool

    public init(architecture: Architecture, biosBootable: Bool) {
        self.architecture = architecture; self.biosBootable = biosBootable
    }

    /// Reads the first sectors of `path` (any format qemu-img reads; raw directly).
    public static func inspect(_ path: String, format: String = "raw") throws -> DiskInfo {
        let head: [UInt8]
        let sectors = 2 + GPTTable.entrySectors
        if format == "raw" {
            head = try OpenFile(path, flags: O_RDONLY).read(count: sectors * 512, at: 0)
        } else {
            let dir = try KilnPaths.makeTemporaryDirectory("kiln-inspect")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try Tool.run(["qemu-img", "dd", "-f", format, "-O", "raw", "bs=512", "count=\(sectors)", "if=\(path)", "of=\(dir)/head"])
            head = try OpenFile(dir + "/head", flags: O_RDONLY).read(count: sectors * 512, at: 0)
        }
        guard head.count == sectors * 512, Array(head[512..<520]) == Array("EFI PART".utf8) else {
            throw KilnError("'\(path)' has no GPT (is it a Kiln disk image, and is --format right?)")
        }
        for i in 0..<GPTTable.entryCount {
            let at = 1024 + i * GPTTable.entrySize
            for a in Architecture.allCases where Array(head[at..<at + 16]) == (try GUID(a.rootPartitionType)).gptBytes {
                return DiskInfo(architecture: a, biosBootable: head[0..<440].contains { $0 != 0 })
            }
        }
        throw KilnError("'\(path)' has no root partition of a type Kiln knows (\(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
    }

    /// One partition of a raw disk image's GPT.
    public struct Partition: Sendable, Equatable {
        /// 1-based, as Linux numbers them (sda3).
        public var number: Int
        /// Its type GUID as text, upper case.
        public var type: String
        /// Byte offset and length in the image.
        public var offset: UInt64
        public var size: UInt64
        /// A Discoverable Partitions root type of an architecture Kiln knows.
        public var isRoot: Bool {
            Architecture.allCases.contains { $0.rootPartitionType.uppercased() == type }
        }
    }

    /// The partitions a raw image's GPT lists, in table order.
    public static func partitions(_ path: String) throws -> [Partition] {
        let sectors = 2 + GPTTable.entrySectors
        let head = try OpenFile(path, flags: O_RDONLY).read(count: sectors * 512, at: 0)
        guard head.count == sectors * 512, Array(head[512..<520]) == Array("EFI PART".utf8) else {
            throw KilnError("'\(path)' has no GPT (is it a disk image Kiln wrote?)")
        }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(head[at + $1]) << (8 * UInt64($1)) } }
        var out: [Partition] = []
        for i in 0..<GPTTable.entryCount {
            let at = 1024 + i * GPTTable.entrySize
            let typeBytes = Array(head[at..<at + 16])
            guard typeBytes.contains(where: { $0 != 0 }), let type = try? GUID(gptBytes: typeBytes) else { continue }
            let first = u64(at + 32), last = u64(at + 40)
            guard last >= first else { continue }
            out.append(Partition(number: i + 1, type: type.description, offset: first * 512, size: (last - first + 1) * 512))
        }
        return out
    }
}
