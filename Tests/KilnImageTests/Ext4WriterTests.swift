import Foundation
import XCTest
@testable import KilnImage
import KilnStore
import KilnPrimitives

final class Ext4WriterTests: XCTestCase {
    var dir = ""
    var bigFile = ""
    let bigBytes = pseudoRandomBytes(count: 5 * 1024 * 1024 + 123, seed: 42)
    let longTarget = "/nix/store/" + String(repeating: "x", count: 52) + "-some-package-with-a-long-name-1.0/share/doc/" + String(repeating: "d/", count: 40) + "README"

    override func setUpWithError() throws {
        dir = try makeTempDir()
        bigFile = dir + "/big.src"
        try Data(bigBytes).write(to: URL(fileURLWithPath: bigFile))
    }

    override func tearDownWithError() throws {
        // KILN_TEST_KEEP=1 keeps the images for inspection.
        if ProcessInfo.processInfo.environment["KILN_TEST_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }

    static let options = Ext4Options(sizeBytes: 64 << 20, label: "kiln-root",
                                     uuid: SeededUUID.make(seed: Array("test".utf8), purpose: "root-fs"),
                                     hashSeed: SeededUUID.make(seed: Array("test".utf8), purpose: "root-fs-hash"),
                                     timestamp: 1_700_000_000)

    func sampleTree() -> [FileNode] {
        var e: [FileNode] = [
            FileNode(path: "/", kind: .directory, mode: 0o755),
            FileNode(path: "/bin", kind: .directory, mode: 0o755),
            FileNode(path: "/bin/su", kind: .data(Array("#!/bin/sh\necho su\n".utf8)), mode: 0o4755, uid: 0, gid: 0),
            FileNode(path: "/bin/big", kind: .file(source: bigFile), mode: 0o644, uid: 1000, gid: 100),
            FileNode(path: "/bin/empty", kind: .data([]), mode: 0o600, uid: 70000, gid: 70001),
            FileNode(path: "/bin/sh", kind: .symlink(target: "su"), mode: 0o777),
            FileNode(path: "/etc", kind: .directory, mode: 0o755),
            FileNode(path: "/etc/long", kind: .symlink(target: longTarget), mode: 0o777),
            FileNode(path: "/tmp", kind: .directory, mode: 0o1777),
            FileNode(path: "/boot", kind: .directory, mode: 0o755),
            FileNode(path: "/boot/grub", kind: .directory, mode: 0o755),
            FileNode(path: "/boot/grub/grub.cfg", kind: .data(Array("echo hi\n".utf8)), mode: 0o644),
            FileNode(path: "/many", kind: .directory, mode: 0o755),
        ]
        for i in 0..<3000 {
            e.append(FileNode(path: String(format: "/many/file-%05d-with-a-longish-name", i), kind: .data(Array("\(i)\n".utf8)), mode: 0o644))
        }
        return e
    }

    func debugfs(_ image: String, _ request: String) throws -> Run {
        try runTool(["debugfs", "-R", request, image])
    }

    func testTreeIsCleanAndExact() throws {
        let image = dir + "/root.ext4"
        try Ext4Writer.write(sampleTree(), to: image, options: Self.options, progress: nil)

        let fsck = try runTool(["e2fsck", "-fn", image])
        XCTAssertEqual(fsck.status, 0, "e2fsck -fn:\n\(fsck.text)\n\(fsck.stderr)")

        let su = try debugfs(image, "stat /bin/su").text
        XCTAssertTrue(su.contains("Mode:  04755"), su)
        XCTAssertTrue(su.contains("User:     0   Group:     0"), su)
        XCTAssertTrue(su.contains("Type: regular"), su)
        XCTAssertTrue(su.contains("ctime: 0x6553f100:00000000"), su)
        XCTAssertTrue(su.contains("crtime: 0x6553f100:00000000"), su)
        XCTAssertEqual(try debugfs(image, "cat /bin/su").text, "#!/bin/sh\necho su\n")

        let big = try debugfs(image, "stat /bin/big").text
        XCTAssertTrue(big.contains("User:  1000   Group:   100"), big)
        XCTAssertTrue(big.contains("Size: \(bigBytes.count)"), big)
        XCTAssertEqual(try debugfs(image, "cat /bin/big").stdout, Data(bigBytes))

        let empty = try debugfs(image, "stat /bin/empty").text
        XCTAssertTrue(empty.contains("User: 70000   Group: 70001"), empty)
        XCTAssertTrue(empty.contains("Mode:  0600"), empty)

        let tmp = try debugfs(image, "stat /tmp").text
        XCTAssertTrue(tmp.contains("Mode:  01777") && tmp.contains("Type: directory"), tmp)

        let short = try debugfs(image, "stat /bin/sh").text
        XCTAssertTrue(short.contains("Type: symlink") && short.contains("Fast link dest: \"su\""), short)
        let long = try debugfs(image, "stat /etc/long").text
        XCTAssertTrue(long.contains("Type: symlink") && long.contains("Size: \(longTarget.utf8.count)"), long)
        XCTAssertEqual(try debugfs(image, "cat /etc/long").text, longTarget)

        let many = try debugfs(image, "ls -p /many").text
        XCTAssertEqual(many.split(separator: "\n").filter { $0.contains("file-") }.count, 3000)
        XCTAssertEqual(try debugfs(image, "cat /many/file-02999-with-a-longish-name").text, "2999\n")

        let sb = try runTool(["dumpe2fs", "-h", image]).text
        for line in ["Filesystem volume name:   kiln-root",
                     "Filesystem UUID:          \(SeededUUID.string(Self.options.uuid))",
                     "Block size:               4096", "Inode size:\t          256",
                     "Filesystem created:       Tue Nov 14 22:13:20 2023",
                     "Last write time:          Tue Nov 14 22:13:20 2023"] {
            XCTAssertTrue(sb.contains(line), "missing '\(line)' in:\n\(sb)")
        }
        for feature in ["has_journal", "extent", "64bit", "flex_bg", "dir_index", "filetype", "sparse_super",
                        "large_file", "huge_file", "dir_nlink", "extra_isize", "metadata_csum"] {
            XCTAssertTrue(sb.contains(" \(feature)"), "feature \(feature) missing")
        }
    }

    func testTwoWritesAreByteIdentical() throws {
        let a = dir + "/a.ext4", b = dir + "/b.ext4"
        try Ext4Writer.write(sampleTree(), to: a, options: Self.options, progress: nil)
        sleep(1)
        try Ext4Writer.write(sampleTree(), to: b, options: Self.options, progress: nil)
        let ha = try runTool(["sha256sum", a]).text.prefix(64), hb = try runTool(["sha256sum", b]).text.prefix(64)
        XCTAssertEqual(ha, hb)
        if ha != hb { print(try runTool(["cmp", "-l", a, b]).text.prefix(2000)) }
    }

    func testBadInputFailsCleanlyAndLeavesNothing() throws {
        let image = dir + "/bad.ext4"
        let entries = [FileNode(path: "/a/b", kind: .directory, mode: 0o755)]
        XCTAssertThrowsError(try Ext4Writer.write(entries, to: image, options: Self.options, progress: nil)) { error in
            XCTAssertTrue("\(error)".contains("parent directory '/a'"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("bad") }, [])
        let missing = [FileNode(path: "/x", kind: .file(source: dir + "/nope"), mode: 0o644)]
        XCTAssertThrowsError(try Ext4Writer.write(missing, to: image, options: Self.options, progress: nil)) { error in
            XCTAssertTrue("\(error)".contains("cannot open source"), "\(error)")
        }
        var tiny = Self.options
        tiny.sizeBytes = 16 << 20
        let tooBig = [FileNode(path: "/big", kind: .file(source: bigFile), mode: 0o644),
                      FileNode(path: "/big2", kind: .file(source: bigFile), mode: 0o644),
                      FileNode(path: "/big3", kind: .file(source: bigFile), mode: 0o644)]
        XCTAssertThrowsError(try Ext4Writer.write(tooBig, to: image, options: tiny, progress: nil)) { error in
            XCTAssertTrue("\(error)".contains("ext2fs_fallocate"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: image))
    }
    /// `kiln mkfs`'s reader: a host tree comes back parents first, siblings sorted, with its
    /// modes and links, and what the writer makes of it passes e2fsck.
    func testHostTreeIsReadInOrderAndWritesCleanly() throws {
        let root = dir + "/tree"
        try FileManager.default.createDirectory(atPath: root + "/b/c", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/a", withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: root + "/b/c/file"))
        chmod(root + "/b/c/file", 0o4750)
        try FileManager.default.createSymbolicLink(atPath: root + "/a/link", withDestinationPath: "../b/c/file")
        let (entries, bytes) = try FileNode.hostTree(root)
        XCTAssertEqual(entries.map(\.path), ["/", "/a", "/b", "/a/link", "/b/c", "/b/c/file"])
        XCTAssertEqual(bytes, 6)
        XCTAssertEqual(entries.first { $0.path == "/b/c/file" }?.mode, 0o4750)
        XCTAssertEqual(entries.first { $0.path == "/a/link" }?.kind, .symlink(target: "../b/c/file"))
        let image = dir + "/tree.ext4"
        try Ext4Writer.write(entries, to: image, options: Self.options, progress: nil)
        XCTAssertEqual(try runTool(["e2fsck", "-fn", image]).status, 0)
        XCTAssertThrowsError(try FileNode.hostTree(dir + "/missing"))
    }
}
