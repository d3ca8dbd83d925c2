import Foundation
import ArgumentParser
import KilnPackages
import KilnStore
import KilnSupport

/// `kiln store …`: the host cache's store.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Check the host cache's store.", subcommands: [StoreVerify.self])
}

/// `kiln store verify [--repair]`, like `nix-store --verify --check-contents [--repair]`.
struct StoreVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every store object of the cache: its manifest and every file's content hash.",
        discussion: """
            With --repair, a damaged object is unpacked again from its .deb, which is checked against \
            the SHA-256 its manifest records (and downloaded again if it is missing or damaged); an \
            object whose manifest itself is damaged is removed, and the next build that needs it \
            unpacks it again from its lock. Exits 1 if a problem remains.
            """)

    @Flag(help: "Repair damaged objects.")
    var repair = false

    func run() throws {
        let cache = KilnPaths.cacheDirectory
        KilnPaths.sweep(cacheDirectory: cache)
        let store = Store(cacheDirectory: cache)
        let files = store.manifestFiles()
        Progress.shared.begin("verifying \(Self.count(files.count, "store object")) in \(store.directory)")
        var damaged = 0, repaired = 0
        for (i, file) in files.enumerated() {
            Progress.shared.update(i + 1, of: files.count, unit: "objects")
            let path = store.directory + "/" + file
            let base = String(file.dropLast(".manifest".count))
            let manifest: Manifest
            do {
                manifest = try Manifest(parsing: String(contentsOfFile: path, encoding: .utf8), source: path)
            } catch {
                damaged += 1
                Progress.shared.note("\(base): \(error.kilnMessage)")
                if repair {
                    try? FileManager.default.removeItem(atPath: path)
                    try? FileManager.default.removeItem(atPath: store.directory + "/" + base)
                    Progress.shared.note("\(base): removed (the next build that needs it unpacks it again)")
                    repaired += 1
                }
                continue
            }
            guard let sp = StorePath(parsing: manifest.storePath) else { continue }
            let obj = StoreObject(storePath: sp, hostPath: store.directory + "/" + base, manifest: manifest)
            let problems = obj.problems()
            guard !problems.isEmpty else { continue }
            damaged += 1
            for p in problems.prefix(5) { Progress.shared.note("\(manifest.storePath)/\(p.file): \(p.problem)") }
            if problems.count > 5 { Progress.shared.note("\(manifest.storePath): \(problems.count - 5) more") }
            guard repair, let o = manifest.origin else { continue }
            var p = LockedPackage(name: o.name, version: o.version, architecture: o.architecture, filename: "", sha256: o.sha256,
                                  size: 0, depends: [])
            // An arch-all object's path names the architecture it was locked for; find which.
            if let t = ["amd64", "arm64"].first(where: { t in
                var q = p; q.target = t; return Store.path(for: q).path == manifest.storePath
            }) { p.target = t }
            let apt = APTSource(cacheDirectory: cache, architecture: Self.aptArchitecture(o.architecture, cache: cache))
            do {
                _ = try store.repair(p, references: manifest.references, deb: apt.cachedDeb(p), refetch: { try apt.fetchOne($0) })
                repaired += 1
                Progress.shared.note("\(manifest.storePath): unpacked again from its verified .deb")
            } catch {
                Progress.shared.note("\(manifest.storePath): could not repair: \(error.kilnMessage)")
            }
        }
        Progress.shared.end("\(Self.count(files.count, "object")), \(damaged) damaged" + (repair ? ", \(repaired) repaired" : ""))
        print("\(Self.count(files.count, "store object")) checked, \(damaged) damaged" + (repair ? ", \(repaired) repaired" : ""))
        let left = damaged - (repair ? repaired : 0)
        if left > 0 {
            throw KilnError("\(Self.count(left, "store object")) \(left == 1 ? "is" : "are") damaged", hint: repair ? nil : "kiln store verify --repair")
        }
    }

    /// "1 store object", "2 store objects".
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// The APT state to fetch a package of `architecture` with ("all" goes with any).
    static func aptArchitecture(_ architecture: String, cache: String) -> String {
        if architecture != "all" { return architecture }
        return ["amd64", "arm64"].first { FileManager.default.fileExists(atPath: cache + "/apt-" + $0) } ?? "amd64"
    }
}
