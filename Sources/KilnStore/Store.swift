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
}

/// The host side of the store: one object per Debian package, unpacked once and reused.
public struct Store: Sendable {
    public let directory: String

    public init(cacheDirectory: String) {
        directory = cacheDirectory + "/store"
    }

    /// The store path of a locked Debian package: from the .deb's SHA-256, architecture and name.
    public static func path(for p: LockedPackage) -> StorePath {
        StorePath(type: "kiln-deb", contentHash: Digest.sha256("\(p.sha256):\(p.architecture):\(p.name)"), name: "\(p.name)-\(p.version)")
    }

    /// Unpacks every locked package (in parallel) whose object is not in the store yet.
    public func realise(_ packages: [LockedPackage], debs: [String: String]) throws -> [String: StoreObject] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let byName = Dictionary(packages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let progress = Progress.shared
        let todo = packages.filter { !FileManager.default.fileExists(atPath: manifestPath(Self.path(for: $0))) }
        if !todo.isEmpty { progress.begin("unpacking \(todo.count) packages") }
        let results = ResultBox(count: packages.count)
        let counter = ResultBox(count: 1)
        DispatchQueue.concurrentPerform(iterations: packages.count) { i in
            let p = packages[i]
            do {
                guard let deb = debs[p.name] else { throw KilnError("internal: no .deb fetched for \(p.name)") }
                let refs = p.depends.compactMap { byName[$0] }.map { Self.path(for: $0).path }.sorted()
                let obj = try realise(p, deb: deb, references: refs)
                results.set(i, .success(obj))
                if todo.contains(where: { $0.name == p.name }) {
                    let n = counter.increment()
                    progress.update(n, of: todo.count, unit: "packages")
                }
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

    func manifestPath(_ sp: StorePath) -> String { directory + "/" + sp.baseName + ".manifest.json" }

    private func realise(_ p: LockedPackage, deb: String, references: [String]) throws -> StoreObject {
        let sp = Self.path(for: p)
        let host = directory + "/" + sp.baseName
        let mpath = manifestPath(sp)
        if let data = FileManager.default.contents(atPath: mpath),
           let manifest = try? JSONDecoder().decode(Manifest.self, from: data) {
            return StoreObject(storePath: sp, hostPath: host, manifest: manifest)
        }
        // Unpack under a temporary name; the manifest written last marks the object valid.
        let tmp = host + ".tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: tmp)
        try? FileManager.default.removeItem(atPath: host)
        let entries: [ManifestEntry]
        do {
            entries = try DebUnpacker.unpack(deb: deb, into: tmp, packageName: p.name)
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw KilnError("unpacking package '\(p.name)' \(p.version): \(error.kilnMessage)")
        }
        guard rename(tmp, host) == 0 else { throw KilnError("cannot move \(tmp) into the store: \(String(cString: strerror(errno)))") }
        let manifest = Manifest(storePath: sp.path, references: references, entries: entries)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try enc.encode(manifest).write(to: URL(fileURLWithPath: mpath), options: .atomic)
        return StoreObject(storePath: sp, hostPath: host, manifest: manifest)
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
