import Foundation
import KilnPrimitives
import KilnSupport
import KilnPackages

/// A store object realised on the build host: its files under the cache and its manifest.
public struct StoreObject: Sendable {
    public let storePath: StorePath
    /// Where its files are on the build host.
    public let hostPath: String
    public let manifest: Manifest

    public init(storePath: StorePath, hostPath: String, manifest: Manifest) {
        self.storePath = storePath; self.hostPath = hostPath; self.manifest = manifest
    }

    /// The host path of one of its files (`rel` as the manifest names it).
    public func hostFile(_ rel: String) -> String { hostPath + "/" + rel }

    /// The store path of one of its files, in the image.
    public func storeFile(_ rel: String) -> String { rel.isEmpty ? storePath.path : storePath.path + "/" + rel }

    /// The bytes of one of its files, checked against the manifest's hash: what the store
    /// hands out is what was unpacked from the verified .deb, or an error naming the file.
    public func verifiedContents(_ rel: String) throws -> [UInt8] {
        guard let entry = manifest.entries.first(where: { $0.path == rel }), entry.kind == .file else {
            throw KilnError("store object \(storePath.baseName) has no file '\(rel)'")
        }
        guard let data = FileManager.default.contents(atPath: hostFile(rel)) else {
            throw StoreCorruption(object: storePath, file: rel, problem: "it is missing or unreadable")
        }
        let actual = Hex.encode(Digest.sha256([UInt8](data)))
        guard actual == entry.sha256 else {
            throw StoreCorruption(object: storePath, file: rel, problem: "its SHA-256 is \(actual), the manifest says \(entry.sha256 ?? "-")")
        }
        return [UInt8](data)
    }
}

extension StoreObject {
    /// What is wrong with a realised object, file by file (hashing every file's content).
    public func problems() -> [(file: String, problem: String)] {
        var out: [(file: String, problem: String)] = []
        let fm = FileManager.default
        for e in manifest.entries {
            let host = hostFile(e.path)
            switch e.kind {
            case .directory:
                var isDir: ObjCBool = false
                if !fm.fileExists(atPath: host, isDirectory: &isDir) || !isDir.boolValue { out.append((e.path.isEmpty ? "." : e.path, "the folder is missing")) }
            case .symlink:
                if (try? fm.destinationOfSymbolicLink(atPath: host)) != e.target { out.append((e.path, "the link does not point to \(e.target ?? "")")) }
            case .file:
                guard let actual = try? sha256(ofFile: host) else { out.append((e.path, "it is missing or unreadable")); continue }
                if actual != e.sha256 { out.append((e.path, "its SHA-256 is \(actual), the manifest says \(e.sha256 ?? "-")")) }
            }
        }
        return out
    }


    /// Throws the first problem of `problems()`, if any.
    public func verify() throws {
        if let p = problems().first { throw StoreCorruption(object: storePath, file: p.file, problem: p.problem) }
    }
}

/// A store file that does not match its manifest: refused wherever bytes move.
public struct StoreCorruption: UserFacingError, Sendable {
    public var object: StorePath
    /// The file, relative to the object.
    public var file: String
    public var problem: String

    public init(object: StorePath, file: String, problem: String) {
        self.object = object; self.file = file; self.problem = problem
    }

    public var userMessage: String {
        "store file \(object.path)/\(file) does not match its manifest: \(problem)\nhint: kiln store verify --repair unpacks damaged objects again from their verified .debs"
    }
}

/// The host side of the store: one object per Debian package, unpacked once and reused.
/// Many kiln processes may share it: an object is unpacked under a temporary name by one
/// process holding its lock (the others wait, then use it), and its manifest, written last
/// and atomically, is what makes it valid.
public struct Store: Sendable {
    public let directory: String

    public init(cacheDirectory: String) {
        directory = cacheDirectory + "/store"
    }

    /// The store path of a locked Debian package: from the .deb's SHA-256, architecture and name.
    public static func path(for p: LockedPackage) -> StorePath {
        // An arch-all package refers to objects of its target's architecture (LockedPackage.target).
        let architecture = p.architecture == "all" ? "all/\(p.target ?? "all")" : p.architecture
        return StorePath(type: "kiln-deb", contentHash: Digest.sha256("\(p.sha256):\(architecture):\(p.name)"), name: "\(p.name)-\(p.version)")
    }

    func manifestPath(_ sp: StorePath) -> String { directory + "/" + sp.baseName + ".manifest" }
    func lockPath(_ sp: StorePath) -> String { directory + "/.locks/" + sp.baseName }

    /// Unpacks every locked package (in parallel) whose object is not in the store yet, or
    /// whose manifest is damaged. Before an unpack the .deb is hashed against the lock's
    /// SHA-256 (from the signed index); a .deb that does not match is deleted and fetched
    /// again with `refetch`.
    public func realise(_ packages: [LockedPackage], debs: [String: String],
                        refetch: @escaping @Sendable (LockedPackage) throws -> String) throws -> [String: StoreObject] {
        try makeDirectories()
        let byName = Dictionary(packages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let progress = Progress.shared
        let refs = packages.map { p in p.depends.compactMap { byName[$0] }.map { Self.path(for: $0).path }.sorted() }
        let todo = packages.indices.filter { valid(packages[$0], references: refs[$0]) == nil }
        if !todo.isEmpty { progress.begin("unpacking \(todo.count) packages") }
        let results = ResultBox(count: packages.count)
        DispatchQueue.concurrentPerform(iterations: packages.count) { i in
            let p = packages[i]
            do {
                let (obj, unpacked) = try realise(p, deb: debs[p.name], references: refs[i], refetch: refetch)
                results.set(i, .success(obj))
                if unpacked { progress.update(results.increment(), of: todo.count, unit: "packages") }
            } catch {
                results.set(i, .failure(error))
            }
        }
        if !todo.isEmpty { progress.end() }
        var out: [String: StoreObject] = [:]
        for (i, r) in results.all().enumerated() {
            guard let r else { throw KilnError("internal: package \(packages[i].name) was not realised") }
            out[packages[i].name] = try r.get()
        }
        return out
    }

    /// Unpacks `p` again from its verified .deb, whatever the store holds now.
    public func repair(_ p: LockedPackage, references: [String], deb: String?,
                       refetch: @escaping @Sendable (LockedPackage) throws -> String) throws -> StoreObject {
        try makeDirectories()
        let sp = Self.path(for: p)
        let lock = try FileLock(lockPath(sp), waiting: "waiting for another kiln to unpack \(p.name)")
        defer { withExtendedLifetime(lock) {} }
        unlink(manifestPath(sp))
        return try unpack(p, sp: sp, deb: deb, references: references, refetch: refetch)
    }

    /// The object of `p` if the store holds it whole: a manifest that parses, matches its own
    /// hash, names this path and this .deb (and these references, when given: an object
    /// unpacked by an older kiln or for another resolution must not carry references the
    /// image does not hold), and a folder beside it.
    public func valid(_ p: LockedPackage, references: [String]? = nil) -> StoreObject? {
        let sp = Self.path(for: p)
        guard let text = try? String(contentsOfFile: manifestPath(sp), encoding: .utf8),
              let m = try? Manifest(parsing: text, source: manifestPath(sp)),
              m.storePath == sp.path, m.origin?.sha256 == p.sha256 else { return nil }
        if let references, m.references != references.sorted() { return nil }
        let host = directory + "/" + sp.baseName
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: host, isDirectory: &isDir), isDir.boolValue else { return nil }
        return StoreObject(storePath: sp, hostPath: host, manifest: m)
    }

    /// Records that a build used these packages' objects (those the store has), for
    /// `kiln gc --max-size`, which deletes the least recently used first: the manifest's
    /// time is the object's (the files an image copies keep theirs).
    public func markUsed(_ packages: [LockedPackage], at time: timespec) {
        for p in packages { KilnPaths.markUsed(manifestPath(Self.path(for: p)), at: time) }
    }

    private func makeDirectories() throws {
        try KilnPaths.createCacheFolder(directory + "/.locks", cache: (directory as NSString).deletingLastPathComponent)
    }

    private func realise(_ p: LockedPackage, deb: String?, references: [String],
                         refetch: @escaping @Sendable (LockedPackage) throws -> String) throws -> (StoreObject, Bool) {
        if let obj = valid(p, references: references) { return (obj, false) }
        let sp = Self.path(for: p)
        if FileManager.default.fileExists(atPath: manifestPath(sp)) {
            Progress.shared.note("the manifest of \(sp.path) is damaged, from an older kiln or names other references: unpacking \(p.name) again from its verified .deb")
        }
        // One process unpacks; the others wait here and find it done.
        let lock = try FileLock(lockPath(sp), waiting: "waiting for another kiln to unpack \(p.name)")
        defer { withExtendedLifetime(lock) {} }
        if let obj = valid(p, references: references) { return (obj, false) }
        return (try unpack(p, sp: sp, deb: deb, references: references, refetch: refetch), true)
    }

    /// Unpacks under a temporary name, moves it into place, writes the manifest last. Call
    /// with the object's lock held.
    private func unpack(_ p: LockedPackage, sp: StorePath, deb cached: String?, references: [String],
                        refetch: @escaping @Sendable (LockedPackage) throws -> String) throws -> StoreObject {
        var deb = try cached ?? refetch(p)
        let actual = try sha256(ofFile: deb)
        if actual != p.sha256 {
            Progress.shared.note("\(deb) (\(p.name) \(p.version)) has SHA-256 \(actual), not the \(p.sha256) the lock and the index name: fetching it again")
            unlink(deb)
            deb = try refetch(p)
            let again = try sha256(ofFile: deb)
            guard again == p.sha256 else {
                throw KilnError("the archive serves \(p.name) \(p.version) (\(p.filename)) with SHA-256 \(again), but the lock and the signed index say \(p.sha256)")
            }
        }
        let host = directory + "/" + sp.baseName
        let tmp = host + ".tmp-\(getpid())"
        let fm = FileManager.default
        try? fm.removeItem(atPath: tmp)
        let entries: [ManifestEntry]
        do {
            entries = try DebUnpacker.unpack(deb: deb, into: tmp, packageName: p.name)
        } catch {
            try? fm.removeItem(atPath: tmp)
            throw KilnError("unpacking package '\(p.name)' \(p.version): \(error.kilnMessage)")
        }
        try? fm.removeItem(atPath: host)
        guard rename(tmp, host) == 0 else { throw KilnError.posix("cannot move \(tmp) into the store") }
        let manifest = Manifest(storePath: sp.path, references: references,
                                origin: DebOrigin(name: p.name, version: p.version, architecture: p.architecture, sha256: p.sha256),
                                entries: entries)
        try writeAtomically(manifest.text, to: manifestPath(sp))
        return StoreObject(storePath: sp, hostPath: host, manifest: manifest)
    }

    private func writeAtomically(_ text: String, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else {
            throw KilnError.posix("cannot write \(tmp)")
        }
        guard rename(tmp, path) == 0 else { unlink(tmp); throw KilnError.posix("cannot move \(tmp) to \(path)") }
    }

    /// Every manifest file in the store (valid or not), by object base name.
    public func manifestFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".manifest") }.sorted()
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Result<StoreObject, Error>?]
    private var n = 0
    init(count: Int) { items = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<StoreObject, Error>) { lock.lock(); items[i] = r; lock.unlock() }
    func all() -> [Result<StoreObject, Error>?] { lock.lock(); defer { lock.unlock() }; return items }
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}
