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

    public init(name: String, version: String, architecture: String, filename: String, sha256: String, size: Int, depends: [String]) {
        self.name = name; self.version = version; self.architecture = architecture; self.filename = filename
        self.sha256 = sha256; self.size = size; self.depends = depends
    }
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

    /// The version of the lock format this kiln writes and reads.
    public static let currentVersion = 1

    public static func read(_ path: String) throws -> LockFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KilnError.posix("cannot read lock file '\(path)'")
        }
        let lock: LockFile
        do { lock = try JSONDecoder().decode(LockFile.self, from: data) } catch let DecodingError.keyNotFound(key, ctx) {
            throw KilnError("lock file '\(path)' is not valid: '\(Self.jsonPath(ctx.codingPath + [key]))' is missing",
                            hint: "run 'kiln lock PROFILE' to write it again")
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx), let DecodingError.dataCorrupted(ctx) {
            throw KilnError("lock file '\(path)' is not valid: at '\(Self.jsonPath(ctx.codingPath))': \(ctx.debugDescription)",
                            hint: "run 'kiln lock PROFILE' to write it again")
        } catch {
            throw KilnError("lock file '\(path)' is not valid: \(error.localizedDescription)", hint: "run 'kiln lock PROFILE' to write it again")
        }
        guard lock.lockVersion == currentVersion else {
            throw KilnError("lock file '\(path)' has lockVersion \(lock.lockVersion), but this kiln reads version \(currentVersion)",
                            hint: "run 'kiln lock PROFILE' to write it again")
        }
        return lock
    }

    private static func jsonPath(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().drop { $0 == "." }.description
    }

    /// Checks the lock against the archive's signed index and the packages the profile asks
    /// for: every pin must be a version the index has, with the index's SHA-256, file name
    /// and size, and the pinned set must be exactly the closure of `requests` when the
    /// resolver may only choose pinned versions (nothing missing, nothing extra, the same
    /// dependencies). A build never moves pins by itself; the hints say which command does.
    /// - Throws: `KilnError` naming the lock file, the package and what is wrong.
    public func validate(index: PackageIndex, requests: [PackageRequest], path: String) throws {
        let relock = "run 'kiln lock PROFILE' to resolve it again (the pins move to what the archive has now)"
        var gone: [LockedPackage] = []
        for p in packages {
            guard let records = index.byName[p.name], let rec = records.first(where: { $0.version.text == p.version }) else {
                gone.append(p); continue
            }
            guard rec.sha256 == p.sha256, rec.filename == p.filename, rec.size == p.size, rec.architecture == p.architecture else {
                throw KilnError("lock file '\(path)' pins \(p.name) \(p.version) with SHA-256 \(p.sha256), file \(p.filename) and size \(p.size), "
                                + "but the signed index has SHA-256 \(rec.sha256), file \(rec.filename) and size \(rec.size) for that version: "
                                + "the lock was edited or damaged", hint: relock)
            }
        }
        if !gone.isEmpty {
            throw KilnError("lock file '\(path)' pins \(gone.count) package version\(gone.count == 1 ? "" : "s") the archive no longer has: "
                            + gone.prefix(5).map { "\($0.name) \($0.version)" }.joined(separator: ", ") + (gone.count > 5 ? ", ..." : ""),
                            hint: "Debian's archive keeps only the newest version of each package; run 'kiln lock --if-stale PROFILE' to move the pins")
        }
        let pinned = Dictionary(packages.map { ($0.name, $0.version) }, uniquingKeysWith: { a, _ in a })
        let closure: [PackageRecord]
        do {
            closure = try Resolver(index: index.restricted { pinned[$0.name] == $0.version.text }).resolve(requests)
        } catch let e as ResolveError {
            // Name what is missing when the archive has it (an entry deleted from the lock).
            let wanted = (try? Resolver(index: index).resolve(requests)).map { Set($0.map(\.name)) } ?? []
            let missing = wanted.subtracting(packages.map(\.name)).sorted()
            if !missing.isEmpty {
                throw KilnError("lock file '\(path)' lacks \(missing.joined(separator: ", ")), which the profile's packages need", hint: relock)
            }
            throw KilnError("lock file '\(path)' does not hold what the profile needs: \(e.message)", hint: relock)
        }
        let expected = LockFile(architecture: architecture, roots: roots, closure: closure)
        let have = Set(packages.map(\.name)), want = Set(expected.packages.map(\.name))
        if !want.subtracting(have).isEmpty {
            throw KilnError("lock file '\(path)' lacks \(want.subtracting(have).sorted().joined(separator: ", ")), which the profile's packages need",
                            hint: relock)
        }
        if !have.subtracting(want).isEmpty {
            throw KilnError("lock file '\(path)' holds \(have.subtracting(want).sorted().joined(separator: ", ")), which nothing in the profile needs",
                            hint: relock)
        }
        let mine = Dictionary(packages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for e in expected.packages where mine[e.name] != e {
            throw KilnError("lock file '\(path)': the entry of \(e.name) does not match its pinned version's index record (dependencies \(mine[e.name]?.depends ?? []), expected \(e.depends))",
                            hint: relock)
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
