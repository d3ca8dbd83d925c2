import Foundation
import KilnPackages
import KilnStore
import KilnSupport

/// `kiln gc` on the build host: the cache's store objects and .debs that no lock file under
/// the given roots pins go (nix-collect-garbage for Kiln's cache, with lock files as the GC
/// roots). Builds hold the cache's gc lock shared while they use the store, and this takes
/// it exclusively, so nothing a running build uses is removed under it.
public struct CacheCollector {
    public let cacheDirectory: String
    public init(cacheDirectory: String = KilnPaths.cacheDirectory) { self.cacheDirectory = cacheDirectory }

    public static func gcLockPath(_ cache: String) -> String { cache + "/gc.lock" }

    public struct Result: Sendable { public var objects = 0, debs = 0; public var bytes: Int64 = 0; public var locks = 0 }

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

    public func collect(roots: [String], dryRun: Bool) throws -> Result {
        let locks = try Self.lockFiles(under: roots)
        var keepObjects = Set<String>(), keepDebs = Set<String>()
        for path in locks {
            let lock = try LockFile.read(path)
            for p in lock.packages {
                keepObjects.insert(Store.path(for: p).baseName)
                keepDebs.insert(p.sha256 + ".deb")
            }
        }
        var result = Result()
        result.locks = locks.count
        // No cache folder, nothing to collect (and no folder to make just to hold the lock).
        var st = stat()
        guard stat(cacheDirectory, &st) == 0 else {
            if errno == ENOENT { return result }
            throw KilnError.posix("cannot use Kiln's cache '\(cacheDirectory)'")
        }
        let guardLock = try FileLock(Self.gcLockPath(cacheDirectory), .exclusive, waiting: "waiting for the builds using \(cacheDirectory) to finish")
        defer { _ = guardLock }
        let fm = FileManager.default
        let storeDir = cacheDirectory + "/store", debDir = cacheDirectory + "/debs"
        for name in (try? fm.contentsOfDirectory(atPath: storeDir))?.sorted() ?? [] {
            let base = name.hasSuffix(".manifest") ? String(name.dropLast(".manifest".count)) : name
            guard !name.hasPrefix("."), !keepObjects.contains(base), !name.contains(".tmp-") else { continue }
            if name.hasSuffix(".manifest") { if !dryRun { try? fm.removeItem(atPath: storeDir + "/" + name) }; continue }
            let path = storeDir + "/" + name
            result.bytes += Self.size(path)
            result.objects += 1
            if !dryRun {
                _ = try? Tool.run(["chmod", "-R", "u+w", path], check: false)
                do { try fm.removeItem(atPath: path) } catch { throw KilnError.file("cannot delete '\(path)'", error) }
            }
        }
        for name in (try? fm.contentsOfDirectory(atPath: debDir))?.sorted() ?? [] where name.hasSuffix(".deb") && !keepDebs.contains(name) {
            let path = debDir + "/" + name
            result.bytes += Self.size(path)
            result.debs += 1
            if !dryRun {
                do { try fm.removeItem(atPath: path) } catch { throw KilnError.file("cannot delete '\(path)'", error) }
            }
        }
        return result
    }

    /// Bytes under `path` (files only).
    static func size(_ path: String) -> Int64 {
        var total: Int64 = 0
        var st = stat()
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR { return Int64(st.st_size) }
        guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
        while let rel = e.nextObject() as? String {
            if lstat(path + "/" + rel, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG { total += Int64(st.st_size) }
        }
        return total
    }
}
