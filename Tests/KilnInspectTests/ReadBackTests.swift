import Foundation
import XCTest
import Crypto
@testable import KilnImage
@testable import KilnInspect
import KilnPrimitives
import KilnStore

final class ReadBackTests: XCTestCase {
    /// Kiln's ext4 reader gives back exactly what its writer wrote: kinds, modes (setuid
    /// included), owners above 16 bits, sizes, content hashes, short and long link targets.
    func testExt4ReaderReadsWhatTheWriterWrote() throws {
        let dir = NSTemporaryDirectory() + "kiln-readback-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
        let long = "/nix/store/" + String(repeating: "x", count: 52) + "-pkg/" + String(repeating: "d/", count: 40) + "README"
        let nodes = [
            FileNode(path: "/", kind: .directory, mode: 0o755),
            FileNode(path: "/bin", kind: .directory, mode: 0o755),
            FileNode(path: "/bin/su", kind: .data(Array("su\n".utf8)), mode: 0o4755),
            FileNode(path: "/bin/big", kind: .data(big), mode: 0o644, uid: 70000, gid: 70001),
            FileNode(path: "/bin/sh", kind: .symlink(target: "su"), mode: 0o777),
            FileNode(path: "/etc", kind: .directory, mode: 0o755),
            FileNode(path: "/etc/long", kind: .symlink(target: long), mode: 0o777),
            FileNode(path: "/etc/link-to-bin", kind: .symlink(target: "/bin"), mode: 0o777),
            FileNode(path: "/tmp", kind: .directory, mode: 0o1777),
        ]
        let image = dir + "/root.ext4"
        try Ext4Writer.write(nodes, to: image, options: Ext4Options(sizeBytes: 32 << 20, label: "t", uuid: [UInt8](repeating: 1, count: 16),
                                                                  hashSeed: [UInt8](repeating: 2, count: 16), timestamp: 1), progress: nil)
        XCTAssertTrue(Ext4Reader.isExt4(image: image, offset: 0))
        let reader = try Ext4Reader(image: image, offset: 0)
        let entries = Dictionary(try reader.entries(under: "/", hashing: { _ in true }).map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(entries["/bin/su"]?.mode, 0o4755)
        XCTAssertEqual(entries["/bin/su"]?.kind, .file)
        XCTAssertEqual(entries["/bin/big"]?.uid, 70000)
        XCTAssertEqual(entries["/bin/big"]?.gid, 70001)
        XCTAssertEqual(entries["/bin/big"]?.size, Int64(big.count))
        XCTAssertEqual(entries["/bin/big"]?.sha256, Hex.encode(SHA256.hash(data: big)))
        XCTAssertEqual(entries["/bin/sh"]?.target, "su")
        XCTAssertEqual(entries["/etc/long"]?.target, long)
        XCTAssertEqual(entries["/tmp"]?.mode, 0o1777)
        XCTAssertNil(entries["/lost+found/x"])
        XCTAssertEqual(try reader.readFile("/etc/link-to-bin/su"), Array("su\n".utf8))
        XCTAssertEqual(try reader.resolve("/etc/link-to-bin/sh"), "/bin/su")
        XCTAssertThrowsError(try reader.readFile("/nope"))
    }

    func testDiffListsAddedRemovedAndChanged() {
        func p(_ n: String, _ v: String, _ s: Int64) -> PackageInfo { PackageInfo(name: n, version: v, architecture: "amd64", size: s, storePath: "/nix/store/x-" + n) }
        let d = ClosureDiff([p("bash", "5.2-1", 1000), p("nano", "7.2-1", 2048), p("libc6", "2.36", 10)],
                            [p("bash", "5.2-2", 1100), p("curl", "7.88", 4096), p("libc6", "2.36", 10)])
        XCTAssertEqual(d.changes.map(\.name), ["bash", "curl", "nano"])
        XCTAssertEqual(d.text.split(separator: "\n").first, "bash: 5.2-1 → 5.2-2, +100 B")
        XCTAssertTrue(d.text.contains("curl: ∅ → 7.88, +4.0 KiB"))
        XCTAssertTrue(d.text.contains("nano: 7.2-1 → ∅, -2.0 KiB"))
        XCTAssertTrue(d.text.contains("1 added, 1 removed, 1 changed"))
    }
}
