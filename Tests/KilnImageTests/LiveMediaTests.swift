import Foundation
import XCTest
@testable import KilnImage
import KilnStore
import KilnSupport

/// The live ISO's writers, checked with the field's own readers: libsquashfs' images with
/// squashfs-tools (unsquashfs) and squashfs-tools-ng (rdsquashfs), the ISO with xorriso.
final class LiveMediaTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws { dir = try makeTempDir("kilnimage-live") }
    override func tearDownWithError() throws {
        if ProcessInfo.processInfo.environment["KILN_TEST_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// Directories, a big file (several blocks), small ones (fragments), an empty one, a
    /// setuid binary owned by root, a file owned by someone else, symlinks, names that sort
    /// differently by bytes than by locale.
    func sampleNodes() throws -> (nodes: [FileNode], big: [UInt8]) {
        let big = pseudoRandomBytes(count: 2_500_000, seed: 7)
        let source = dir + "/big.bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: source, contents: Data(big)))
        let nodes = [
            FileNode(path: "/", kind: .directory, mode: 0o755),
            FileNode(path: "/B", kind: .directory, mode: 0o700, uid: 1000, gid: 100),
            FileNode(path: "/B/secret", kind: .data(Array("only for 1000\n".utf8)), mode: 0o600, uid: 1000, gid: 100),
            FileNode(path: "/a", kind: .directory, mode: 0o755),
            FileNode(path: "/a/big.bin", kind: .file(source: source), mode: 0o644),
            FileNode(path: "/a/empty", kind: .data([]), mode: 0o644),
            FileNode(path: "/a/link", kind: .symlink(target: "../B/secret"), mode: 0o777),
            FileNode(path: "/a/su", kind: .data(Array("#!/bin/sh\n".utf8)), mode: 0o4755),
            FileNode(path: "/empty-dir", kind: .directory, mode: 0o1777),
        ]
        return (nodes, big)
    }

    func testSquashfsReadsBackWithOwnersModesAndBytes() throws {
        let (nodes, big) = try sampleNodes()
        let image = dir + "/root.sqfs"
        try SquashfsWriter.write(nodes, to: image, options: SquashfsOptions(zstdLevel: 3, timestamp: 1_700_000_000, workers: 2), progress: nil)
        let listing = try runTool(["unsquashfs", "-lln", "-d", "", image])
        XCTAssertEqual(listing.status, 0, listing.stderr)
        let lines = listing.text.split(separator: "\n").map(String.init)
        func line(_ path: String) -> String? { lines.first { $0.hasSuffix(" " + path) || $0.contains(" " + path + " -> ") } }
        XCTAssertTrue(line("/B")?.hasPrefix("drwx------ 1000/100") ?? false, lines.joined(separator: "\n"))
        XCTAssertTrue(line("/a/su")?.hasPrefix("-rwsr-xr-x 0/0") ?? false)
        XCTAssertTrue(line("/empty-dir")?.hasPrefix("drwxrwxrwt 0/0") ?? false)
        XCTAssertTrue(line("/a/link")?.contains("/a/link -> ../B/secret") ?? false)
        XCTAssertTrue(line("/a/empty")?.contains(" 0 2023-11-14") ?? false, line("/a/empty") ?? "")
        // Contents through the other implementation.
        let cat = try runTool(["rdsquashfs", "-c", "/a/big.bin", image])
        XCTAssertEqual(cat.status, 0, cat.stderr)
        XCTAssertEqual([UInt8](cat.stdout), big)
        XCTAssertEqual(try runTool(["rdsquashfs", "-c", "/B/secret", image]).text, "only for 1000\n")
        let info = try runTool(["unsquashfs", "-s", image]).text
        XCTAssertTrue(info.contains("Compression zstd"), info)
        XCTAssertTrue(info.contains("Number of inodes 9"), info)
    }

    func testSquashfsIsTheSameBytesEveryTime() throws {
        let (nodes, _) = try sampleNodes()
        try SquashfsWriter.write(nodes, to: dir + "/one.sqfs", options: SquashfsOptions(zstdLevel: 3, timestamp: 1, workers: 1), progress: nil)
        try SquashfsWriter.write(nodes.reversed().sorted { $0.path < $1.path }, to: dir + "/two.sqfs",
                                 options: SquashfsOptions(zstdLevel: 3, timestamp: 1, workers: 4), progress: nil)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/one.sqfs"), FileManager.default.contents(atPath: dir + "/two.sqfs"))
    }

    func testSquashfsRefusesAFileWhoseBytesAreNotTheManifests() throws {
        var (nodes, _) = try sampleNodes()
        nodes[4].sha256 = String(repeating: "0", count: 64)
        XCTAssertThrowsError(try SquashfsWriter.write(nodes, to: dir + "/bad.sqfs", options: SquashfsOptions(zstdLevel: 1, timestamp: 1), progress: nil)) {
            XCTAssertTrue($0 is ContentMismatch, "\($0)")
        }
    }

    func testSquashfsRefusesAnOrphan() {
        let nodes = [FileNode(path: "/missing/child", kind: .data([1]), mode: 0o644)]
        XCTAssertThrowsError(try SquashfsWriter.write(nodes, to: dir + "/x.sqfs", options: SquashfsOptions(zstdLevel: 1, timestamp: 1), progress: nil)) {
            XCTAssertTrue("\($0)".contains("/missing/child"), "\($0)")
        }
    }

    /// A UEFI-only ISO (as for aarch64): one El Torito entry for platform 0xEF, the FAT
    /// image appended as a GPT EFI system partition, and the same bytes from the same tree.
    func testISOWithAUEFIEntryIsReproducible() throws {
        let tree = dir + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/kiln", withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: tree + "/kiln/hello", contents: Data("hello\n".utf8)))
        let efi = dir + "/efi.img"
        try DiskAssembler.makeEFIImage(efi, files: [ESPFile("EFI/BOOT/BOOTAA64.EFI", .data(pseudoRandomBytes(count: 100_000, seed: 3)))],
                                       seed: Array("s".utf8), timestamp: 1_700_000_000, workDirectory: dir)
        let spec = ISOSpec(volumeID: "KILN_TEST", tree: tree, biosBoot: nil, efiImage: efi, timestamp: 1_700_000_000)
        try ISOWriter.write(spec, to: dir + "/a.iso", progress: nil)
        // A later write, other file times on the host: the same bytes.
        sleep(1)
        XCTAssertTrue(FileManager.default.createFile(atPath: tree + "/kiln/hello", contents: Data("hello\n".utf8)))
        try ISOWriter.write(spec, to: dir + "/b.iso", progress: nil)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/a.iso"), FileManager.default.contents(atPath: dir + "/b.iso"))
        let report = try runTool(["xorriso", "-indev", dir + "/a.iso", "-report_el_torito", "plain"])
        XCTAssertTrue((report.text + report.stderr).contains("Volume id    : 'KILN_TEST'"), report.text + report.stderr)
        XCTAssertEqual(report.text.split(separator: "\n").filter { $0.hasPrefix("El Torito boot img :") && $0.contains("UEFI") }.count, 1, report.text)
        XCTAssertFalse(report.text.contains(" BIOS "), report.text)
        let gpt = try runTool(["sgdisk", "-p", dir + "/a.iso"]).text
        XCTAssertTrue(gpt.contains("EF00"), gpt)
        XCTAssertEqual(try runTool(["sgdisk", "-v", dir + "/a.iso"]).status, 0)
        XCTAssertEqual(try runTool(["fsck.vfat", "-n", efi]).status, 0)
        let hello = try runTool(["osirrox", "-indev", dir + "/a.iso", "-extract", "/kiln/hello", dir + "/hello"])
        XCTAssertEqual(hello.status, 0, hello.stderr)
        XCTAssertEqual(String(decoding: FileManager.default.contents(atPath: dir + "/hello") ?? Data(), as: UTF8.self), "hello\n")
    }

    func testISORefusesAVolumeIDLongerThanISO9660Allows() {
        let spec = ISOSpec(volumeID: String(repeating: "A", count: 33), tree: dir, biosBoot: nil, efiImage: nil, timestamp: 1)
        XCTAssertThrowsError(try ISOWriter.arguments(spec, output: dir + "/x.iso")) {
            XCTAssertTrue("\($0)".contains("32"), "\($0)")
        }
    }
}
