import Foundation
import Crypto
import KilnSupport
import KilnPrimitives

/// APT with a private state directory under Kiln's cache: the host's sources, keyrings and
/// proxy settings, but its own indexes per target architecture and no effect on the host.
/// Runs unprivileged; the mirror is whatever the host's sources name.
///
/// Many kiln processes may share a cache: the indexes are fetched by one process at a time
/// (an exclusive lock, readers take it shared) into a new folder that replaces the old one
/// only when complete, so a killed `apt-get update` leaves the previous indexes, or none,
/// never half of them; .debs are downloaded under a temporary name, verified, then renamed.
public struct APTSource: Sendable {
    public let architecture: String
    public let stateDirectory: String
    public let debCache: String
    private let lockPath: String

    public init(cacheDirectory: String, architecture: String) {
        self.init(stateDirectory: cacheDirectory + "/apt-" + architecture, debCache: cacheDirectory + "/debs",
                  lockPath: cacheDirectory + "/apt-" + architecture + ".lock", architecture: architecture)
    }

    private init(stateDirectory: String, debCache: String, lockPath: String, architecture: String) {
        self.architecture = architecture; self.stateDirectory = stateDirectory; self.debCache = debCache; self.lockPath = lockPath
    }

    /// Written last into a fresh index folder: its presence means the folder is whole.
    private var completeMarker: String { stateDirectory + "/complete" }

    private var options: [String] {
        var o = [
            "-o", "Dir::State=\(stateDirectory)/state",
            "-o", "Dir::State::Lists=\(stateDirectory)/lists",
            "-o", "Dir::State::status=\(stateDirectory)/status",
            "-o", "Dir::Cache=\(stateDirectory)/cache",
            "-o", "Acquire::GzipIndexes=false",
            "-o", "Acquire::Languages=none",
            "-o", "Debug::NoLocking=1",
            "-o", "APT::Architecture=\(architecture)",
            "-o", "APT::Architectures=\(architecture)",
            "-o", "APT::Get::List-Cleanup=false",
        ]
        // As root APT drops to the _apt user, which cannot write the private directories.
        if getuid() == 0 { o += ["-o", "APT::Sandbox::User=root"] }
        return o
    }

    /// The cache folder this source lives in (the parent of its state and .deb folders).
    private var cache: String { (debCache as NSString).deletingLastPathComponent }

    private func prepare() throws {
        let fm = FileManager.default
        for d in ["state", "lists/partial", "cache/archives/partial"] {
            try KilnPaths.createCacheFolder(stateDirectory + "/" + d, cache: cache)
        }
        try KilnPaths.createCacheFolder(debCache, cache: cache)
        if !fm.fileExists(atPath: stateDirectory + "/status") {
            _ = fm.createFile(atPath: stateDirectory + "/status", contents: Data())
        }
    }

    private var indexFiles: [String] {
        let dir = stateDirectory + "/lists"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix("_binary-\(architecture)_Packages") }.sorted().map { dir + "/" + $0 }
    }

    private var hasIndexes: Bool { FileManager.default.fileExists(atPath: completeMarker) && !indexFiles.isEmpty }

    /// Downloads the package indexes (`apt-get update`) if there are none yet (or only a
    /// killed update's leftovers), or if `force`.
    public func update(force: Bool = false) throws {
        try KilnPaths.createCacheFolder(cache, cache: cache)
        if !force && hasIndexes { return }
        let lock = try FileLock(lockPath, waiting: "waiting for another kiln to update the package indexes (\(architecture))")
        defer { withExtendedLifetime(lock) {} }
        if !force && hasIndexes { return }   // another process did it while we waited
        let progress = Progress.shared
        progress.begin("updating package indexes (\(architecture))")
        let fresh = APTSource(stateDirectory: stateDirectory + ".tmp-\(getpid())", debCache: debCache, lockPath: lockPath,
                              architecture: architecture)
        let fm = FileManager.default
        try? fm.removeItem(atPath: fresh.stateDirectory)
        try fresh.prepare()
        do {
            try Tool.run(["apt-get", "-q"] + fresh.options + ["update"])
        } catch {
            try? fm.removeItem(atPath: fresh.stateDirectory)
            throw error
        }
        guard !fresh.indexFiles.isEmpty else {
            try? fm.removeItem(atPath: fresh.stateDirectory)
            throw KilnError("APT found no package index for architecture \(architecture)",
                            hint: "check the host's APT sources (/etc/apt/sources.list, /etc/apt/sources.list.d)")
        }
        guard fm.createFile(atPath: fresh.completeMarker, contents: Data()) else { throw KilnError.posix("cannot write \(fresh.completeMarker)") }
        // Swap the whole folder: readers see the old indexes or the new ones.
        let old = stateDirectory + ".old-\(getpid())"
        if fm.fileExists(atPath: stateDirectory) { guard rename(stateDirectory, old) == 0 else { throw KilnError.posix("cannot move \(stateDirectory) aside") } }
        guard rename(fresh.stateDirectory, stateDirectory) == 0 else { throw KilnError.posix("cannot move the new indexes into \(stateDirectory)") }
        try? fm.removeItem(atPath: old)
        progress.end()
    }

    /// Reads every index of this architecture.
    public func loadIndex() throws -> PackageIndex {
        try update()
        let lock = try FileLock(lockPath, .shared)
        defer { withExtendedLifetime(lock) {} }
        var index = PackageIndex()
        for f in indexFiles {
            guard let data = FileManager.default.contents(atPath: f) else { throw KilnError.posix("cannot read APT index '\(f)'") }
            index.add(packagesFile: data, architecture: architecture)
        }
        return index
    }

    /// What identifies the indexes now in the cache (names, sizes, times): a lock checked
    /// against these needs no second check until they change.
    public var indexIdentity: String {
        indexFiles.map { f -> String in
            var st = stat()
            _ = stat(f, &st)
            return "\((f as NSString).lastPathComponent) \(st.st_size) \(st.st_mtim.tv_sec)"
        }.joined(separator: "\n")
    }

    /// Where the .deb of a package is cached (named by its SHA-256), whether it is there or not.
    public func debPath(_ p: LockedPackage) -> String { debCache + "/" + p.sha256 + ".deb" }

    /// Records that a build used these packages' cached .debs (those it has), for
    /// `kiln gc --max-size`, which deletes the least recently used first. A package whose
    /// store object a build reuses counts as a use of its .deb too: the .deb is what the
    /// object is unpacked again from, so the two age together.
    public func markUsed(_ packages: [LockedPackage], at time: timespec) {
        for p in packages { KilnPaths.markUsed(debPath(p), at: time) }
    }

    /// The cached .deb of a package, if there is one (not checked: Store checks it before unpacking).
    public func cachedDeb(_ p: LockedPackage) -> String? {
        let path = debPath(p)
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// The .deb of one package, downloaded (again) if the cache lacks it.
    public func fetchOne(_ p: LockedPackage) throws -> String {
        guard let path = try fetch([p])[p.name] else { throw KilnError("internal: \(p.name) was not fetched") }
        return path
    }

    /// The cached .deb for a locked package, downloading what is missing. Each file is
    /// checked against the SHA-256 the lock (from the signed index) records.
    public func fetch(_ packages: [LockedPackage]) throws -> [String: String] {
        try prepare()
        var paths: [String: String] = [:]
        var missing: [LockedPackage] = []
        for p in packages {
            let path = debPath(p)
            if FileManager.default.fileExists(atPath: path) { paths[p.name] = path } else { missing.append(p) }
        }
        guard !missing.isEmpty else { return paths }
        try update()
        let progress = Progress.shared
        let totalBytes = missing.reduce(0) { $0 + $1.size }
        progress.begin("fetching \(missing.count) packages (\(totalBytes / 1_000_000) MB)")
        let tmp = debCache + "/.download-\(getpid())"
        try? FileManager.default.removeItem(atPath: tmp)
        try KilnPaths.createCacheFolder(tmp, cache: cache)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        var done = 0
        for chunk in stride(from: 0, to: missing.count, by: 12).map({ Array(missing[$0..<min($0 + 12, missing.count)]) }) {
            let specs = chunk.map { "\($0.name):\($0.architecture)=\($0.version)" }
            let result = try Tool.run(["apt-get", "-q"] + options + ["download"] + specs, cwd: tmp, check: false)
            if result.status != 0 {
                let err = result.stderrText.split(separator: "\n").filter { $0.hasPrefix("E:") }.joined(separator: "\n")
                throw KilnError("could not download packages \(specs.joined(separator: " ")):\n\(err)",
                                hint: "check the network and the host's APT sources; if a pinned version has left the archive, 'kiln lock --if-stale PROFILE' moves the pins")
            }
            let files: [String]
            do { files = try FileManager.default.contentsOfDirectory(atPath: tmp) } catch {
                throw KilnError.file("cannot list the downloads in '\(tmp)'", error)
            }
            for p in chunk {
                let prefix = p.name + "_"
                guard let f = files.first(where: { $0.hasPrefix(prefix) && $0.hasSuffix("_\(p.architecture).deb") }) else {
                    throw KilnError("APT reported success but no .deb for \(p.name) \(p.version) appeared")
                }
                let src = tmp + "/" + f
                let actual = try sha256(ofFile: src)
                guard actual == p.sha256 else {
                    throw KilnError("hash mismatch for \(p.name) \(p.version) (\(p.filename)): expected sha256 \(p.sha256), got \(actual)")
                }
                let dst = debPath(p)
                if rename(src, dst) != 0 { throw KilnError("cannot move \(src) to \(dst): \(String(cString: strerror(errno)))") }
                // apt-get gives the file the archive's Last-Modified time; its use is now.
                KilnPaths.markUsed(dst)
                paths[p.name] = dst
                done += 1
            }
            progress.update(done, of: missing.count, unit: "packages")
        }
        progress.end()
        return paths
    }
}

/// SHA-256 of a file, hex.
public func sha256(ofFile path: String) throws -> String {
    guard let h = FileHandle(forReadingAtPath: path) else { throw KilnError("cannot read '\(path)'") }
    defer { try? h.close() }
    var hasher = SHA256()
    while let chunk = try h.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
    return Hex.encode(hasher.finalize())
}
