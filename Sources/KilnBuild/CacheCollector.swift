import Foundation
import KilnPackages
import KilnStore
import KilnSupport

/// `kiln gc` on the build host: the cache's store objects and .debs that no lock file under
/// the given roots pins go (nix-collect-garbage for Kiln's cache, with lock files as the GC
/// roots), and, with a size bound, the least recently used of the rest until the store, the
/// .debs and libguestfs' appliance fit in it. Builds hold the cache's gc lock shared while
/// they use the store (and kiln verify while it starts the appliance), and this takes it
/// exclusively, so nothing a running build uses is removed under it.
public struct CacheCollector {
    public let cacheDirectory: String
    public init(cacheDirectory: String = KilnPaths.cacheDirectory) { self.cacheDirectory = cacheDirectory }

    public static func gcLockPath(_ cache: String) -> String { cache + "/gc.lock" }

    /// What to collect.
    public struct Request: Sendable {
        /// The folders (or lock files) whose *.nix.lock files pin packages; nil: no package is
        /// deleted for being unpinned.
        public var roots: [String]?
        /// Then delete the least recently used objects, .debs and appliance until the store,
        /// the .debs and the appliance take at most this many bytes (on disk, as du counts).
        public var maxBytes: Int64?
        /// Delete libguestfs' appliance whatever its age.
        public var appliance: Bool
        public var dryRun: Bool

        public init(roots: [String]? = nil, maxBytes: Int64? = nil, appliance: Bool = false, dryRun: Bool = false) {
            self.roots = roots; self.maxBytes = maxBytes; self.appliance = appliance; self.dryRun = dryRun
        }
    }

    /// What one reason for deleting deleted (or would, with dryRun).
    public struct Counts: Sendable, Equatable {
        public var objects = 0, debs = 0
        public var appliance = false
        /// Bytes on disk freed (blocks, a file with links elsewhere not counted).
        public var bytes: Int64 = 0
    }

    public struct Result: Sendable {
        /// What no lock under the roots pins.
        public var unpinned = Counts()
        /// The appliance, when asked for.
        public var asked = Counts()
        /// The least recently used, beyond the size bound.
        public var leastRecentlyUsed = Counts()
        /// The lock files read under the roots.
        public var locks = 0
        /// With a size bound: the bytes the store, the .debs and the appliance take afterwards.
        public var remaining: Int64?
    }

    /// The *.lock files under `roots` (build and VCS folders skipped); each must be a Kiln lock.
    public static func lockFiles(under roots: [String]) throws -> [String] {
        var out: [String] = []
        for root in roots {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir) else { throw KilnError("gc root '\(root)' does not exist") }
            if !isDir.boolValue { out.append(root); continue }
            guard let e = FileManager.default.enumerator(atPath: root) else { continue }
            while let rel = e.nextObject() as? String {
                let name = (rel as NSString).lastPathComponent
                if [".build", ".git", "node_modules"].contains(name) { e.skipDescendants(); continue }
                if name.hasSuffix(".nix.lock") { out.append(root + "/" + rel) }
            }
        }
        return out.sorted()
    }

    /// The store objects and .debs no lock under `roots` pins.
    public func collect(roots: [String], dryRun: Bool) throws -> Result {
        try collect(Request(roots: roots, dryRun: dryRun))
    }

    /// Deletes, in this order of reasons, what no lock under the roots pins, the appliance if
    /// asked, then the least recently used until the size bound holds.
    public func collect(_ request: Request) throws -> Result {
        var result = Result()
        var keep: (objects: Set<String>, debs: Set<String>)?
        if let roots = request.roots {
            let locks = try Self.lockFiles(under: roots)
            var objects = Set<String>(), debs = Set<String>()
            for path in locks {
                for p in try LockFile.read(path).packages {
                    objects.insert(Store.path(for: p).baseName)
                    debs.insert(p.sha256 + ".deb")
                }
            }
            keep = (objects, debs)
            result.locks = locks.count
        }
        // No cache folder, nothing to collect (and no folder to make just to hold the lock).
        var st = stat()
        guard stat(cacheDirectory, &st) == 0 else {
            if errno == ENOENT {
                if request.maxBytes != nil { result.remaining = 0 }
                return result
            }
            throw KilnError.posix("cannot use Kiln's cache '\(cacheDirectory)'")
        }
        let guardLock = try FileLock(Self.gcLockPath(cacheDirectory), .exclusive, waiting: "waiting for the builds using \(cacheDirectory) to finish")
        defer { withExtendedLifetime(guardLock) {} }

        let entries = inventory()
        var doomed = [Bool](repeating: false, count: entries.count)
        for (i, e) in entries.enumerated() {
            if let keep, e.kind != .appliance, !(e.kind == .object ? keep.objects : keep.debs).contains(e.name) {
                doomed[i] = true
                result.unpinned.add(e)
            } else if request.appliance && e.kind == .appliance {
                doomed[i] = true
                result.asked.add(e)
            }
        }
        if let maxBytes = request.maxBytes {
            var remaining = DiskUsage.of(managedFolders).total - result.unpinned.bytes - result.asked.bytes
            for i in Self.leastRecentlyUsedFirst(entries) where !doomed[i] && remaining > maxBytes {
                doomed[i] = true
                result.leastRecentlyUsed.add(entries[i])
                remaining -= entries[i].bytes
            }
            result.remaining = max(remaining, 0)
        }
        if !request.dryRun {
            for (i, e) in entries.enumerated() where doomed[i] { try delete(e) }
        }
        return result
    }

    // MARK: - What the cache holds

    /// Something `kiln gc` deletes as a whole: a store object with its manifest, a .deb, or
    /// libguestfs' appliance (the folder it builds it in, and the kernel modules beside it).
    struct Entry: Equatable {
        enum Kind: Int, Comparable {
            case object, deb, appliance
            static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
        }
        var kind: Kind
        /// The object's base name, the .deb's file name, "appliance".
        var name: String
        var paths: [String]
        /// When a build last used it (seconds since 1970): the manifest's, the .deb's or the
        /// appliance's modification time, which builds and kiln verify set (KilnPaths.markUsed).
        /// 0 for an object with a folder but no manifest or the other way round: garbage.
        var lastUse: Double
        /// What deleting it frees.
        var bytes: Int64
    }

    /// The folders `--max-size` bounds: what Kiln fetched, unpacked or built and can make again.
    /// (APT's indexes, the checked-lock stamps and the VM tests' folders are not counted.)
    var managedFolders: [String] { ["store", "debs", "appliance"].map { cacheDirectory + "/" + $0 } }

    func inventory() -> [Entry] {
        let fm = FileManager.default
        let storeDir = cacheDirectory + "/store", debDir = cacheDirectory + "/debs", appliance = cacheDirectory + "/appliance"
        var out: [Entry] = []
        var bases = Set<String>()
        for name in (try? fm.contentsOfDirectory(atPath: storeDir)) ?? [] {
            // Hidden: the per-object locks. Leftovers of killed unpacks are the sweep's.
            guard !name.hasPrefix("."), KilnPaths.leftoverPID(name) == nil else { continue }
            bases.insert(name.hasSuffix(".manifest") ? String(name.dropLast(".manifest".count)) : name)
        }
        for base in bases.sorted() {
            let folder = storeDir + "/" + base, manifest = folder + ".manifest"
            let paths = [folder, manifest].filter { Self.modificationTime($0) != nil }
            let complete = paths.count == 2
            out.append(Entry(kind: .object, name: base, paths: paths,
                             lastUse: complete ? Self.modificationTime(manifest) ?? 0 : 0, bytes: DiskUsage.of(paths).freed))
        }
        for name in ((try? fm.contentsOfDirectory(atPath: debDir)) ?? []).sorted() where name.hasSuffix(".deb") && !name.hasPrefix(".") {
            let path = debDir + "/" + name
            out.append(Entry(kind: .deb, name: name, paths: [path], lastUse: Self.modificationTime(path) ?? 0, bytes: DiskUsage.of([path]).freed))
        }
        if let own = Self.modificationTime(appliance) {
            // Its last use: kiln verify marks the folder libguestfs builds in when it starts the
            // appliance; the kernel's module tree beside it is made when it is first needed.
            let inside = ((try? fm.contentsOfDirectory(atPath: appliance)) ?? []).compactMap { Self.modificationTime(appliance + "/" + $0) }
            out.append(Entry(kind: .appliance, name: "appliance", paths: [appliance], lastUse: inside.reduce(own, max),
                             bytes: DiskUsage.of([appliance]).freed))
        }
        return out
    }

    /// Indexes of `entries`, least recently used first. Among what one build used (one
    /// time), objects go before .debs: an object is unpacked again from its .deb without
    /// the network, a .deb must be fetched again. Then by name, so the order is fixed.
    static func leastRecentlyUsedFirst(_ entries: [Entry]) -> [Int] {
        entries.indices.sorted { a, b in
            let x = entries[a], y = entries[b]
            if x.lastUse != y.lastUse { return x.lastUse < y.lastUse }
            if x.kind != y.kind { return x.kind < y.kind }
            return x.name < y.name
        }
    }

    static func modificationTime(_ path: String) -> Double? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }

    private func delete(_ e: Entry) throws {
        for path in e.paths {
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                // Store objects are read-only, as unpacked; supermin's appliance may be too.
                _ = try? Tool.run(["chmod", "-R", "u+w", path], check: false)
            }
            do { try FileManager.default.removeItem(atPath: path) } catch { throw KilnError.file("cannot delete '\(path)'", error) }
        }
    }
}

extension CacheCollector.Counts {
    mutating func add(_ e: CacheCollector.Entry) {
        switch e.kind {
        case .object: objects += 1
        case .deb: debs += 1
        case .appliance: appliance = true
        }
        bytes += e.bytes
    }
}

/// Disk usage as du counts it: allocated blocks, directories included, a file with several
/// links once. What `--max-size` bounds, so that `du -s` agrees with it.
struct DiskUsage {
    private struct Inode: Hashable { var device: UInt64; var number: UInt64 }
    /// Blocks of everything with one link (and of directories).
    private var single: Int64 = 0
    /// Files with several links: their blocks, their link count, and how many of those links were seen.
    private var linked: [Inode: (bytes: Int64, links: Int, seen: Int)] = [:]

    /// Every byte seen, each file once.
    var total: Int64 { single + linked.values.reduce(0) { $0 + $1.bytes } }
    /// What deleting everything seen frees: a file also linked from elsewhere stays.
    var freed: Int64 { single + linked.values.reduce(0) { $0 + ($1.seen >= $1.links ? $1.bytes : 0) } }

    static func of(_ paths: [String]) -> DiskUsage {
        var u = DiskUsage()
        for p in paths { u.add(p) }
        return u
    }

    /// Adds `path` and, for a folder, everything under it (links are not followed).
    mutating func add(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        let bytes = Int64(st.st_blocks) * 512
        let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        if !isDirectory && st.st_nlink > 1 {
            let key = Inode(device: UInt64(st.st_dev), number: UInt64(st.st_ino))
            var e = linked[key] ?? (bytes, Int(st.st_nlink), 0)
            e.seen += 1
            linked[key] = e
        } else {
            single += bytes
        }
        guard isDirectory else { return }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] { add(path + "/" + name) }
    }
}
