import Foundation
import KilnSupport

/// A version constraint of a dependency: `(>= 1.2)`.
public struct VersionConstraint: Sendable, Hashable, CustomStringConvertible {
    public enum Relation: String, Sendable { case lt = "<<", le = "<=", eq = "=", ge = ">=", gt = ">>" }
    public var relation: Relation
    public var version: DebianVersion

    public func allows(_ v: DebianVersion) -> Bool {
        switch relation {
        case .lt: return v < version
        case .le: return v <= version
        case .eq: return v == version
        case .ge: return v >= version
        case .gt: return v > version
        }
    }
    public var description: String { "\(relation.rawValue) \(version)" }
}

/// One alternative of a dependency: a package name and an optional constraint.
public struct Relationship: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var constraint: VersionConstraint?
    public var description: String { constraint.map { "\(name) (\($0))" } ?? name }
}

/// `a (>= 1) | b` — satisfied by any one alternative.
public typealias DependencyGroup = [Relationship]

/// One binary package as an APT index describes it.
public struct PackageRecord: Sendable {
    public var name: String
    public var version: DebianVersion
    public var architecture: String
    public var depends: [DependencyGroup]
    public var provides: [Relationship]
    public var filename: String
    public var sha256: String
    public var size: Int
}

/// The binary packages of one architecture, from every index the host's APT sources list.
public struct PackageIndex: Sendable {
    public private(set) var byName: [String: [PackageRecord]] = [:]
    public private(set) var providers: [String: [PackageRecord]] = [:]

    public init() {}

    /// Adds the records of a `Packages` file, keeping those for `architecture` and `all`.
    public mutating func add(packagesFile data: Data, architecture: String) {
        data.withUnsafeBytes { raw in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return }
            let count = raw.count
            var pos = 0
            var fields: [String: String] = [:]
            func flush() {
                if let rec = Self.record(from: fields), rec.architecture == architecture || rec.architecture == "all" {
                    insert(rec)
                }
                fields.removeAll(keepingCapacity: true)
            }
            var lastKey: String?
            while pos < count {
                var end = pos
                while end < count && base[end] != 10 { end += 1 }
                if end == pos {
                    if !fields.isEmpty { flush() }
                    lastKey = nil
                } else if base[pos] == 32 || base[pos] == 9 {
                    // Continuation line: only Description has these among the fields we keep out.
                    _ = lastKey
                } else {
                    var colon = pos
                    while colon < end && base[colon] != 58 { colon += 1 }
                    let key = String(decoding: UnsafeBufferPointer(start: base + pos, count: colon - pos), as: UTF8.self)
                    if Self.wanted.contains(key) {
                        var vs = colon + 1
                        while vs < end && base[vs] == 32 { vs += 1 }
                        fields[key] = String(decoding: UnsafeBufferPointer(start: base + vs, count: end - vs), as: UTF8.self)
                        lastKey = key
                    } else {
                        lastKey = nil
                    }
                }
                pos = end + 1
            }
            if !fields.isEmpty { flush() }
        }
    }

    private static let wanted: Set<String> = ["Package", "Version", "Architecture", "Depends", "Pre-Depends", "Provides", "Filename", "SHA256", "Size"]

    private static func record(from f: [String: String]) -> PackageRecord? {
        guard let name = f["Package"], let version = f["Version"], let arch = f["Architecture"],
              let filename = f["Filename"], let sha = f["SHA256"] else { return nil }
        let deps = parseDependencies(f["Pre-Depends"] ?? "") + parseDependencies(f["Depends"] ?? "")
        let provides = parseDependencies(f["Provides"] ?? "").compactMap(\.first)
        return PackageRecord(name: name, version: DebianVersion(version), architecture: arch, depends: deps,
                             provides: provides, filename: filename, sha256: sha, size: Int(f["Size"] ?? "") ?? 0)
    }

    /// The records `keep` accepts, with their providers: e.g. only the versions a lock pins.
    public func restricted(to keep: (PackageRecord) -> Bool) -> PackageIndex {
        var out = PackageIndex()
        for records in byName.values { for r in records where keep(r) { out.insert(r) } }
        return out
    }

    private mutating func insert(_ rec: PackageRecord) {
        byName[rec.name, default: []].append(rec)
        for p in rec.provides { providers[p.name, default: []].append(rec) }
    }

    /// Parses a Depends-style field.
    public static func parseDependencies(_ field: String) -> [DependencyGroup] {
        field.split(separator: ",").compactMap { group in
            let alts: [Relationship] = group.split(separator: "|").compactMap { alt in
                var s = alt.trimmingCharacters(in: .whitespaces)
                if let bracket = s.firstIndex(of: "[") { s = String(s[..<bracket]).trimmingCharacters(in: .whitespaces) }
                var constraint: VersionConstraint?
                if let open = s.firstIndex(of: "("), let close = s.firstIndex(of: ")") {
                    let inner = s[s.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
                    let ops = ["<<", "<=", ">=", ">>", "=", "<", ">"]
                    for op in ops where inner.hasPrefix(op) {
                        let v = inner.dropFirst(op.count).trimmingCharacters(in: .whitespaces)
                        let rel: VersionConstraint.Relation
                        switch op {
                        case "<<": rel = .lt
                        case "<=", "<": rel = .le
                        case ">=", ">": rel = .ge
                        case ">>": rel = .gt
                        default: rel = .eq
                        }
                        constraint = VersionConstraint(relation: rel, version: DebianVersion(v))
                        break
                    }
                    s = String(s[..<open]).trimmingCharacters(in: .whitespaces)
                }
                if let colon = s.firstIndex(of: ":") { s = String(s[..<colon]) }  // name:any, name:amd64
                return s.isEmpty ? nil : Relationship(name: s, constraint: constraint)
            }
            return alts.isEmpty ? nil : alts
        }
    }

    /// The newest version of a real package, optionally satisfying a constraint.
    public func best(_ name: String, satisfying c: VersionConstraint? = nil) -> PackageRecord? {
        (byName[name] ?? []).filter { c?.allows($0.version) ?? true }.max { $0.version < $1.version }
    }

    /// Real packages that provide a virtual name (with a matching provided version when constrained).
    public func providersOf(_ name: String, satisfying c: VersionConstraint? = nil) -> [PackageRecord] {
        (providers[name] ?? []).filter { rec in
            guard let c else { return true }
            guard let pv = rec.provides.first(where: { $0.name == name })?.constraint, pv.relation == .eq else { return false }
            return c.allows(pv.version)
        }
    }

    /// Package names close to `name`, for "did you mean" hints.
    public func suggestions(for name: String, limit: Int = 3) -> [String] {
        closestNames(to: name, among: byName.keys, limit: limit)
    }
}

/// The names of `candidates` close to `name` (sharing its first three letters, or a prefix of
/// it), nearest first: what "did you mean" offers.
public func closestNames<S: Sequence>(to name: String, among candidates: S, limit: Int = 3) -> [String] where S.Element == String {
    let prefix = String(name.prefix(3)), bound = max(2, name.count / 3)
    var scored: [(name: String, distance: Int)] = []
    for c in candidates where c.hasPrefix(prefix) || name.hasPrefix(c) {
        scored.append((c, editDistance(c, name)))
    }
    scored.sort { a, b in a.distance != b.distance ? a.distance < b.distance : a.name < b.name }
    return scored.prefix(limit).filter { $0.distance <= bound }.map(\.name)
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    var cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}
