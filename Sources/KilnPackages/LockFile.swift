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
    /// The architecture of the system it is locked for ("amd64", "arm64"), from its lock; not
    /// written. An `Architecture: all` .deb is the same file for every architecture, but its
    /// store object refers to its dependencies' objects, which are not: its store path must
    /// tell the two apart (`kiln verify` found arm64 images whose arch-all objects referred
    /// to amd64 ones, unpacked first by an x86_64 build sharing the cache).
    public var target: String?

    enum CodingKeys: String, CodingKey { case name, version, architecture, filename, sha256, size, depends }

    public init(name: String, version: String, architecture: String, filename: String, sha256: String, size: Int, depends: [String],
                target: String? = nil) {
        self.name = name; self.version = version; self.architecture = architecture; self.filename = filename
        self.sha256 = sha256; self.size = size; self.depends = depends; self.target = target
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

    enum CodingKeys: String, CodingKey { case lockVersion, architecture, roots, packages }

    /// Decoded packages learn the lock's architecture (`LockedPackage.target`).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lockVersion = try c.decode(Int.self, forKey: .lockVersion)
        architecture = try c.decode(String.self, forKey: .architecture)
        roots = try c.decode([String].self, forKey: .roots)
        let arch = architecture
        packages = try c.decode([LockedPackage].self, forKey: .packages).map { var p = $0; p.target = arch; return p }
    }

    public init(architecture: String, roots: [String], packages: [LockedPackage]) {
        self.architecture = architecture
        self.roots = roots
        self.packages = packages.map { var p = $0; p.target = architecture; return p }
    }

    /// Builds a lock from a resolved closure; each package's `depends` lists the chosen
    /// packages that satisfy its dependencies (not those `Resolver.excluded` names).
    public init(architecture: String, roots: [String], closure: [PackageRecord]) {
        let byName = Dictionary(closure.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var providers: [String: [String]] = [:]
        for r in closure { for p in r.provides { providers[p.name, default: []].append(r.name) } }
        packages = closure.map { rec in
            var deps = Set<String>()
            for group in rec.depends {
                // A group the resolver treats as satisfied gives no reference either: whether
                // systemd-sysv or procps is in a closure depends on the profile, and a store
                // object's references must not (one object serves every closure it is in).
                if group.contains(where: { Resolver.excluded.contains($0.name) }) { continue }
                for rel in group {
                    if let d = byName[rel.name], rel.constraint?.allows(d.version) ?? true { deps.insert(d.name); break }
                    if let p = providers[rel.name]?.sorted().first { deps.insert(p); break }
                }
            }
            deps.remove(rec.name)
            return LockedPackage(name: rec.name, version: rec.version.text, architecture: rec.architecture,
                                 filename: rec.filename, sha256: rec.sha256, size: rec.size, depends: deps.sorted(),
                                 target: architecture)
        }
        self.architecture = architecture
        self.roots = roots.sorted()
    }

    /// The version of the lock format this kiln writes and reads.
    public static let currentVersion = 1

    /// Reads and checks a lock file. Its JSON is parsed first and its shape checked key by key,
    /// so a damaged lock is described in the file's own terms (line and column, key, what the
    /// key holds) rather than in JSONDecoder's, which names Swift types and gives no position.
    /// - Throws: `KilnError` naming the lock file and what is wrong, with the way out.
    public static func read(_ path: String) throws -> LockFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KilnError.posix("cannot read lock file '\(path)'")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw KilnError("lock file '\(path)' is not valid JSON: \(syntaxProblem(error, in: data))",
                            hint: hasConflictMarkers(data) ? "it holds merge conflict markers (<<<<<<<): resolve the conflict, or \(rewrite)" : rewrite)
        }
        try checkShape(object, path: path)
        do {
            return try JSONDecoder().decode(LockFile.self, from: data)
        } catch {
            // checkShape knows every key the decoder reads; this is a gap in it.
            throw KilnError("lock file '\(path)' is not valid: \(error)", hint: rewrite)
        }
    }

    private static let rewrite = "run 'kiln lock PROFILE' to write it again"

    /// JSONSerialization's reason ("Invalid value around character 41.") with the byte
    /// offset turned into the line and column an editor shows.
    static func syntaxProblem(_ error: Error, in data: Data) -> String {
        let bytes = [UInt8](data)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return "it is empty" }
        let reason = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? error.localizedDescription
        if reason.hasPrefix("Unexpected end of file") {
            return "it ends before its JSON value does (at line \(bytes.filter { $0 == 0x0a }.count + (bytes.last == 0x0a ? 0 : 1)))"
        }
        var text = reason.hasSuffix(".") ? String(reason.dropLast()) : reason
        if let range = text.range(of: #" around character [0-9]+$"#, options: .regularExpression),
           var offset = Int(text[range].split(separator: " ").last ?? "") {
            // The parser skips a UTF-8 byte order mark before it counts.
            if bytes.starts(with: [0xef, 0xbb, 0xbf]) { offset += 3 }
            let (line, column) = lineAndColumn(ofByte: min(offset, bytes.count), in: bytes)
            text = String(text[..<range.lowerBound]) + " at line \(line), column \(column)"
        }
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    /// The 1-based line and column (in characters) of the byte at `offset`.
    static func lineAndColumn(ofByte offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        let before = bytes[..<offset]
        let lineStart = (before.lastIndex(of: 0x0a)).map { $0 + 1 } ?? 0
        return (before.filter { $0 == 0x0a }.count + 1, String(decoding: bytes[lineStart..<offset], as: UTF8.self).count + 1)
    }

    private static func hasConflictMarkers(_ data: Data) -> Bool {
        String(decoding: data, as: UTF8.self).split(separator: "\n").contains { $0.hasPrefix("<<<<<<< ") || $0 == "=======" || $0.hasPrefix(">>>>>>> ") }
    }

    // MARK: - Shape

    /// What a lock's keys hold, in the words of the messages.
    private static let packageKeys = ["name", "version", "architecture", "filename", "sha256", "size", "depends"]

    /// Checks `object` (parsed JSON) has every key the decoder reads, of the right JSON type.
    /// The version is checked first: a lock of another version may have other keys.
    static func checkShape(_ object: Any, path: String) throws {
        func invalid(_ problem: String) -> KilnError { KilnError("lock file '\(path)' is not valid: \(problem)", hint: rewrite) }
        /// The value at `key` of `object`, which must be there and pass `test`.
        func value(_ object: [String: Any], _ key: String, at place: String, note: String = "", expected: String, _ test: (Any) -> Bool) throws -> Any {
            let name = place.isEmpty ? key : place + "." + key
            guard let v = object[key] else { throw invalid("'\(name)'\(note) is missing") }
            guard test(v) else { throw invalid("'\(name)'\(note) must be \(expected), not \(describe(v))") }
            return v
        }
        func names(_ v: Any, at place: String, note: String = "") throws {
            for (i, e) in ((v as? [Any]) ?? []).enumerated() where !(e is String) {
                throw invalid("'\(place)[\(i)]'\(note) must be a package name (a string), not \(describe(e))")
            }
        }

        guard let top = object as? [String: Any] else {
            throw invalid("it is \(describe(object)), not an object with lockVersion, architecture, roots and packages")
        }
        let version = try value(top, "lockVersion", at: "", expected: "an integer (the lock format's version)") { integer($0) != nil }
        if let version = integer(version), version != currentVersion {
            throw KilnError("lock file '\(path)' has lockVersion \(version), but this kiln reads version \(currentVersion)", hint: rewrite)
        }
        _ = try value(top, "architecture", at: "", expected: "a string (a Debian architecture such as amd64)") { $0 is String }
        try names(try value(top, "roots", at: "", expected: "a list of package names") { $0 is [Any] }, at: "roots")
        let packages = try value(top, "packages", at: "", expected: "a list of pinned packages") { $0 is [Any] } as? [Any] ?? []
        for (i, p) in packages.enumerated() {
            let place = "packages[\(i)]"
            guard let package = p as? [String: Any] else {
                throw invalid("'\(place)' must be an object with \(packageKeys.joined(separator: ", ")), not \(describe(p))")
            }
            // Which package, when its entry says.
            let note = (package["name"] as? String).map { " (\($0))" } ?? ""
            for key in ["name", "version", "architecture", "filename", "sha256"] {
                _ = try value(package, key, at: place, note: key == "name" ? "" : note, expected: "a string") { $0 is String }
            }
            _ = try value(package, "size", at: place, note: note, expected: "an integer (the .deb's size in bytes)") { integer($0) != nil }
            try names(try value(package, "depends", at: place, note: note, expected: "a list of package names") { $0 is [Any] },
                      at: place + ".depends", note: note)
        }
    }

    /// A JSON number the decoder reads as an Int (1, 1.0 and 1e3 are; 1.5 and true are not).
    private static func integer(_ v: Any) -> Int? {
        guard let n = v as? NSNumber, !isBoolean(n) else { return nil }
        return Int(exactly: n.doubleValue)
    }

    /// JSON's true and false: NSNumbers of ObjC type "c" (`is Bool` also holds for 0 and 1).
    private static func isBoolean(_ n: NSNumber) -> Bool {
        String(cString: n.objCType) == "c"
    }

    /// A JSON value as a message shows it: a short one itself, a list or object by its kind.
    private static func describe(_ v: Any) -> String {
        switch v {
        case let s as String: return "the string \"" + (s.count > 40 ? s.prefix(40) + "…" : s) + "\""
        case let n as NSNumber: return isBoolean(n) ? (n.boolValue ? "true" : "false") : "the number \(n)"
        case is NSNull: return "null"
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        default: return "\(type(of: v))"
        }
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
