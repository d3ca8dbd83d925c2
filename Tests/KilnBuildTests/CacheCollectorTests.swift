import XCTest
import Foundation
@testable import KilnBuild
import KilnSupport

/// `kiln gc --max-size` on a fake cache of known sizes and ages: the least recently used go
/// first, and what is left fits the bound as du counts it.
final class CacheCollectorTests: XCTestCase {
    private var cache = ""
    private let day = 86_400.0
    /// One reference time per test, in whole seconds: files given the same age get the same
    /// time even when the test straddles a second.
    private var now = 0.0

    override func setUpWithError() throws {
        now = Date().timeIntervalSince1970.rounded(.down)
        cache = NSTemporaryDirectory() + "kiln-gc-\(UUID().uuidString)"
        for d in ["store/.locks", "debs", "apt-amd64/lists"] {
            try FileManager.default.createDirectory(atPath: cache + "/" + d, withIntermediateDirectories: true)
        }
    }

    override func tearDown() {
        _ = try? Tool.run(["chmod", "-R", "u+w", cache], check: false)
        try? FileManager.default.removeItem(atPath: cache)
    }

    // MARK: - A fake cache

    /// A file of `bytes` bytes of data (not sparse: du counts its blocks).
    private func file(_ path: String, bytes: Int, age: Double? = nil) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x5A, count: bytes)))
        if let age { try setAge(path, age) }
    }

    private func setAge(_ path: String, _ seconds: Double) throws {
        let t = now - seconds
        var times = [timespec(tv_sec: Int(t), tv_nsec: 0), timespec(tv_sec: Int(t), tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW), 0, path)
    }

    /// A store object as unpacked: a read-only folder with files, and its manifest, last used
    /// `age` seconds ago.
    private func object(_ name: String, bytes: Int, age: Double) throws {
        let folder = cache + "/store/" + name
        try file(folder + "/usr/bin/tool", bytes: bytes)
        try file(folder + "/usr/share/doc/README", bytes: 100)
        _ = try Tool.run(["chmod", "-R", "a-w", folder])
        try file(folder + ".manifest", bytes: 300, age: age)
    }

    private func deb(_ sha: String, bytes: Int, age: Double) throws {
        try file(cache + "/debs/\(sha).deb", bytes: bytes, age: age)
    }

    private func exists(_ rel: String) -> Bool { FileManager.default.fileExists(atPath: cache + "/" + rel) }

    /// What du -sB1 says of the folders --max-size bounds.
    private func du() throws -> Int64 {
        let dirs = ["store", "debs", "appliance"].map { cache + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
        let out = try Tool.run(["du", "-scB1"] + dirs).stdoutText
        guard let last = out.split(separator: "\n").last, let n = Int64(last.split(separator: "\t")[0]) else {
            XCTFail("du said: \(out)"); return -1
        }
        return n
    }

    // MARK: - Tests

    func testSizes() {
        XCTAssertEqual(ByteSize(parsing: "2G")?.bytes, 2 << 30)
        XCTAssertEqual(ByteSize(parsing: "500M")?.bytes, 500 << 20)
        XCTAssertEqual(ByteSize(parsing: "1024K")?.bytes, 1 << 20)
        XCTAssertEqual(ByteSize(parsing: "1024k")?.bytes, 1 << 20)
        XCTAssertEqual(ByteSize(parsing: "3GiB")?.bytes, 3 << 30)
        XCTAssertEqual(ByteSize(parsing: "12345")?.bytes, 12345)
        XCTAssertEqual(ByteSize(parsing: "0")?.bytes, 0)
        for bad in ["", "G", "-1G", "1.5G", "2X", "12 34", "99999999999T", "0x10"] {
            XCTAssertNil(ByteSize(parsing: bad), bad)
        }
        XCTAssertEqual(ByteSize(bytes: 2 << 30).description, "2G")
        XCTAssertEqual(ByteSize(bytes: 1536 << 20).description, "1536M")
        XCTAssertEqual(ByteSize(bytes: 1000).description, "1000")
    }

    func testLeastRecentlyUsedGoFirstUntilTheCacheFits() throws {
        // Oldest first: deb-a (9 days), obj-b (8), obj-c (5), deb-d (3), obj-e (1), deb-f (now).
        try deb("a", bytes: 200_000, age: 9 * day)
        try object("b-pkg-1", bytes: 300_000, age: 8 * day)
        try object("c-pkg-1", bytes: 250_000, age: 5 * day)
        try deb("d", bytes: 100_000, age: 3 * day)
        try object("e-pkg-1", bytes: 400_000, age: 1 * day)
        try deb("f", bytes: 150_000, age: 0)
        // Not counted, never deleted: APT's indexes, per-object locks.
        try file(cache + "/apt-amd64/lists/Packages", bytes: 2_000_000)
        try file(cache + "/store/.locks/b-pkg-1", bytes: 0)

        let collector = CacheCollector(cacheDirectory: cache)
        XCTAssertEqual(CacheCollector.leastRecentlyUsedFirst(collector.inventory()).map { collector.inventory()[$0].name },
                       ["a.deb", "b-pkg-1", "c-pkg-1", "d.deb", "e-pkg-1", "f.deb"])

        let before = try du()
        XCTAssertEqual(DiskUsage.of(collector.managedFolders).total, before, "Kiln counts as du does")
        // Room for only the newest three: the oldest three must go, and no more.
        let bound = before - 200_000 - 300_000 - 250_000
        let dry = try collector.collect(.init(maxBytes: bound, dryRun: true))
        XCTAssertEqual(try du(), before, "--dry-run deletes nothing")
        let r = try collector.collect(.init(maxBytes: bound))
        XCTAssertEqual(r.leastRecentlyUsed, dry.leastRecentlyUsed)
        XCTAssertEqual(r.leastRecentlyUsed.objects, 2)
        XCTAssertEqual(r.leastRecentlyUsed.debs, 1)
        XCTAssertEqual(r.unpinned, .init(), "no --roots: no lock decides")
        XCTAssertFalse(exists("debs/a.deb"))
        XCTAssertFalse(exists("store/b-pkg-1") || exists("store/b-pkg-1.manifest"))
        XCTAssertFalse(exists("store/c-pkg-1") || exists("store/c-pkg-1.manifest"))
        XCTAssertTrue(exists("debs/d.deb") && exists("store/e-pkg-1") && exists("store/e-pkg-1.manifest") && exists("debs/f.deb"))
        XCTAssertTrue(exists("apt-amd64/lists/Packages") && exists("store/.locks/b-pkg-1"))
        let after = try du()
        XCTAssertLessThanOrEqual(after, bound)
        XCTAssertEqual(r.remaining, after)
        XCTAssertEqual(r.leastRecentlyUsed.bytes, before - after, "the freed bytes are what du sees go")

        // Under the bound already: nothing goes.
        XCTAssertEqual(try collector.collect(.init(maxBytes: after)).leastRecentlyUsed, .init())
        // Zero: everything goes, the folders stay.
        let all = try collector.collect(.init(maxBytes: 0))
        XCTAssertEqual(all.leastRecentlyUsed.objects, 1)
        XCTAssertEqual(all.leastRecentlyUsed.debs, 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache + "/debs"), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache + "/store"), [".locks"])
    }

    func testABuildsUseMakesAnOldObjectRecent() throws {
        try object("old-pkg-1", bytes: 100_000, age: 9 * day)
        try object("new-pkg-1", bytes: 100_000, age: 1 * day)
        // What Store.realise does when a build reuses an object.
        KilnPaths.markUsed(cache + "/store/old-pkg-1.manifest")
        let collector = CacheCollector(cacheDirectory: cache)
        _ = try collector.collect(.init(maxBytes: try du() - 50_000))
        XCTAssertTrue(exists("store/old-pkg-1.manifest"))
        XCTAssertFalse(exists("store/new-pkg-1.manifest"))
    }

    func testAmongWhatOneBuildUsedObjectsGoBeforeDebs() throws {
        // A build marks all it used at one time (Pipeline.realise); an object can be unpacked
        // again from its .deb without the network.
        try deb("a", bytes: 1000, age: day)
        try object("z-pkg-1", bytes: 1000, age: day)
        try object("b-pkg-1", bytes: 1000, age: day)
        let entries = CacheCollector(cacheDirectory: cache).inventory()
        XCTAssertEqual(CacheCollector.leastRecentlyUsedFirst(entries).map { entries[$0].name }, ["b-pkg-1", "z-pkg-1", "a.deb"])
    }

    func testIncompleteObjectsGoFirstAndTheApplianceIsOneEntry() throws {
        try object("whole-pkg-1", bytes: 100_000, age: 9 * day)
        // Unpacked but never given a manifest (a killed run), and a manifest with no folder.
        try file(cache + "/store/half-pkg-1/usr/bin/x", bytes: 10_000)
        try file(cache + "/store/orphan-pkg-1.manifest", bytes: 300)
        // The appliance: used 2 days ago (its guestfs folder), holding a hard link to a store file.
        try file(cache + "/appliance/guestfs/.guestfs-0/appliance.d/root", bytes: 500_000)
        try file(cache + "/appliance/kernel/lib/modules/6.1/mod.ko", bytes: 1000)
        XCTAssertEqual(link(cache + "/store/whole-pkg-1/usr/bin/tool", cache + "/appliance/kernel/lib/modules/6.1/tool"), 0)
        for p in ["appliance/guestfs/.guestfs-0/appliance.d", "appliance/guestfs/.guestfs-0", "appliance/guestfs", "appliance/kernel/lib/modules/6.1",
                  "appliance/kernel/lib/modules", "appliance/kernel/lib", "appliance/kernel", "appliance"] {
            try setAge(cache + "/" + p, 2 * day)
        }
        let collector = CacheCollector(cacheDirectory: cache)
        let entries = collector.inventory()
        XCTAssertEqual(CacheCollector.leastRecentlyUsedFirst(entries).map { entries[$0].name },
                       ["half-pkg-1", "orphan-pkg-1", "whole-pkg-1", "appliance"])
        // The hard-linked file stays while the appliance does: deleting the object frees less.
        let whole = try XCTUnwrap(entries.first { $0.name == "whole-pkg-1" })
        XCTAssertLessThan(whole.bytes, 100_000)

        // Asked for: the appliance goes whatever its age, nothing else does.
        let r = try collector.collect(.init(appliance: true))
        XCTAssertTrue(r.asked.appliance)
        XCTAssertGreaterThanOrEqual(r.asked.bytes, 500_000)
        XCTAssertFalse(exists("appliance"))
        XCTAssertTrue(exists("store/whole-pkg-1/usr/bin/tool") && exists("store/half-pkg-1"))
    }

    func testTheSizeBoundComesAfterTheLocks() throws {
        // No lock under the roots: everything is unpinned, and the size has nothing left to do.
        try object("a-pkg-1", bytes: 100_000, age: 1 * day)
        try deb("a", bytes: 100_000, age: 1 * day)
        let roots = cache + "/roots"
        try FileManager.default.createDirectory(atPath: roots, withIntermediateDirectories: true)
        let r = try CacheCollector(cacheDirectory: cache).collect(.init(roots: [roots], maxBytes: 1 << 30, dryRun: true))
        XCTAssertEqual(r.unpinned.objects, 1)
        XCTAssertEqual(r.unpinned.debs, 1)
        XCTAssertEqual(r.leastRecentlyUsed, .init())
        XCTAssertTrue(exists("store/a-pkg-1"), "dry run")
    }
}
