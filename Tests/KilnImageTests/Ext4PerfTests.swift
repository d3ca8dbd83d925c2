import Foundation
import XCTest
@testable import KilnImage

/// Speed check over a real host tree; runs only with KILN_PERF_TREE=/some/dir (e.g. /usr).
final class Ext4PerfTests: XCTestCase {
    func testWriteHostTree() throws {
        guard let root = ProcessInfo.processInfo.environment["KILN_PERF_TREE"] else {
            throw XCTSkip("set KILN_PERF_TREE to a directory to measure ext4 writing speed")
        }
        let limit = Int(ProcessInfo.processInfo.environment["KILN_PERF_LIMIT"] ?? "") ?? 10_000
        var entries: [FSEntry] = [FSEntry(path: "/tree", kind: .directory, mode: 0o755)]
        var bytes: UInt64 = 0
        var stack = [root]
        var files = 0
        outer: while let dir = stack.popLast() {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for name in names.sorted() {
                let host = dir + "/" + name
                let path = "/tree" + host.dropFirst(root.count)
                var st = stat()
                guard lstat(host, &st) == 0 else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFDIR:
                    entries.append(FSEntry(path: path, kind: .directory, mode: UInt16(st.st_mode & 0o7777)))
                    stack.insert(host, at: 0)
                case S_IFREG:
                    guard access(host, R_OK) == 0 else { continue }
                    entries.append(FSEntry(path: path, kind: .file(source: host), mode: UInt16(st.st_mode & 0o7777)))
                    bytes += UInt64(st.st_size); files += 1
                case S_IFLNK:
                    if let t = try? FileManager.default.destinationOfSymbolicLink(atPath: host), !t.isEmpty {
                        entries.append(FSEntry(path: path, kind: .symlink(target: t), mode: 0o777))
                    }
                default: continue
                }
                if files >= limit { break outer }
            }
        }
        // Breadth-first with insert(at: 0) keeps parents before children.
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let size = ImageSizing.ext4Size(forContentBytes: bytes, entryCount: entries.count)
        let options = Ext4Options(sizeBytes: size, label: "perf", uuid: [UInt8](repeating: 1, count: 16),
                                  hashSeed: [UInt8](repeating: 2, count: 16), timestamp: 1)
        let start = Date()
        try Ext4Writer.write(entries, to: dir + "/perf.ext4", options: options, progress: nil)
        let secs = Date().timeIntervalSince(start)
        print(String(format: "PERF: %d entries (%d files), %.1f MB in %.2f s: %.0f files/s, %.1f MB/s; image %d MiB",
                     entries.count, files, Double(bytes) / 1e6, secs, Double(files) / secs, Double(bytes) / 1e6 / secs, size >> 20))
        let fsck = try runTool(["e2fsck", "-fn", dir + "/perf.ext4"])
        XCTAssertEqual(fsck.status, 0, fsck.text)
    }

    /// One directory with KILN_PERF_FLAT small files (ext2fs_link scans the directory linearly).
    func testWriteFlatDirectory() throws {
        guard let n = Int(ProcessInfo.processInfo.environment["KILN_PERF_FLAT"] ?? "") else {
            throw XCTSkip("set KILN_PERF_FLAT=20000 to measure a large flat directory")
        }
        var entries = [FSEntry(path: "/d", kind: .directory, mode: 0o755)]
        for i in 0..<n { entries.append(FSEntry(path: "/d/module-\(i).ko", kind: .data(Array("x\(i)".utf8)), mode: 0o644)) }
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let options = Ext4Options(sizeBytes: ImageSizing.ext4Size(forContentBytes: 0, entryCount: n), label: "flat",
                                  uuid: [UInt8](repeating: 1, count: 16), hashSeed: [UInt8](repeating: 2, count: 16), timestamp: 1)
        let start = Date()
        try Ext4Writer.write(entries, to: dir + "/flat.ext4", options: options, progress: nil)
        print(String(format: "PERF-FLAT: %d entries in one directory: %.2f s", n, Date().timeIntervalSince(start)))
        XCTAssertEqual(try runTool(["e2fsck", "-fn", dir + "/flat.ext4"]).status, 0)
    }
}
