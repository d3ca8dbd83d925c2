import Foundation
import KilnSupport

/// One pinned package of a lock file.
public struct LockedPackage: Codable, Sendable, Hashable {
    public var name: String
    public var version: String
    public var architecture: String
    public var filename: String
    public var sha256: String
    public var size: Int
    /// Names of the locked packages this one depends on (its store references).
    public var depends: [String]
}

/// `PROFILE.lock`: the exact package closure a profile builds from, so the same lock file
/// gives the same image. Written with sorted keys and sorted entries, so diffs are readable.
public struct LockFile: Codable, Sendable, Equatable {
    public var lockVersion = 1
    /// Debian architecture of the target ("amd64", "arm64").
    public var architecture: String
    /// The requested package names this lock was resolved for.
    public var roots: [String]
    public var packages: [LockedPackage]

    public init(architecture: String, roots: [String], packages: [LockedPackage]) {
        self.architecture = architecture
        self.roots = roots
        self.packages = packages
    }

    /// Builds a lock from a resolved closure; each package's `depends` lists the chosen
    /// packages that satisfy its dependencies.
    public init(architecture: String, roots: [String], closure: [PackageRecord]) {
        let byName = Dictionary(closure.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var providers: [String: [String]] = [:]
        for r in closure { for p in r.provides { providers[p.name, default: []].append(r.name) } }
        packages = closure.map { rec in
            var deps = Set<String>()
            for group in rec.depends {
                for rel in group {
                    if let d = byName[rel.name], rel.constraint?.allows(d.version) ?? true { deps.insert(d.name); break }
                    if let p = providers[rel.name]?.sorted().first { deps.insert(p); break }
                }
            }
            deps.remove(rec.name)
            return LockedPackage(name: rec.name, version: rec.version.text, architecture: rec.architecture,
                                 filename: rec.filename, sha256: rec.sha256, size: rec.size, depends: deps.sorted())
        }
        self.architecture = architecture
        self.roots = roots.sorted()
    }

    public static func read(_ path: String) throws -> LockFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KilnError("cannot read lock file '\(path)'")
        }
        do { return try JSONDecoder().decode(LockFile.self, from: data) } catch {
            throw KilnError("lock file '\(path)' is not valid: \(error)", hint: "delete it or run 'kiln lock' to write it again")
        }
    }

    public func encoded() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try enc.encode(self) + Data("\n".utf8)
    }

    public func write(_ path: String) throws {
        let out = try AtomicOutput(path)
        do {
            try encoded().write(to: URL(fileURLWithPath: out.temporaryPath))
            try out.commit()
        } catch {
            out.discard()
            throw error
        }
    }

    /// The pinned packages the archive no longer offers (same name and SHA-256): Debian's
    /// archive keeps only the newest version of each package, so a lock goes stale when a
    /// point release or security update replaces a pinned .deb. Only `kiln lock` may move
    /// the pins; a build never does so silently.
    public func packagesMissing(from index: PackageIndex) -> [LockedPackage] {
        packages.filter { p in !(index.byName[p.name] ?? []).contains { $0.sha256 == p.sha256 } }
    }

    /// The packages reachable from `names` through `depends`.
    public func closure(of names: [String]) -> [LockedPackage] {
        let byName = Dictionary(packages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        var stack = names
        while let n = stack.popLast() {
            guard !seen.contains(n), let p = byName[n] else { continue }
            seen.insert(n)
            stack.append(contentsOf: p.depends)
        }
        return packages.filter { seen.contains($0.name) }
    }
}
