import Foundation

/// `kiln diff A B`: packages added, removed and changed between two closures, with their
/// size deltas, in the form of `nix store diff-closures`:
///
///     curl: ∅ → 7.88.1-10, +524.3 KiB
///     nano: 7.2-1 → ∅, -2.6 MiB
///     openssl: 3.0.11-1 → 3.0.13-1, +8.0 KiB
public struct ClosureDiff: Sendable, Equatable {
    public struct Change: Sendable, Equatable {
        public var name: String
        /// nil: absent on that side.
        public var before: String?
        public var after: String?
        public var sizeDelta: Int64
    }

    public var changes: [Change]
    public var sizeBefore: Int64
    public var sizeAfter: Int64

    public init(_ a: [PackageInfo], _ b: [PackageInfo]) {
        let left = Dictionary(a.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let right = Dictionary(b.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        changes = Set(left.keys).union(right.keys).sorted().compactMap { name in
            let l = left[name], r = right[name]
            if let l, let r, l.version == r.version, l.size == r.size { return nil }
            return Change(name: name, before: l?.version, after: r?.version, sizeDelta: (r?.size ?? 0) - (l?.size ?? 0))
        }
        sizeBefore = a.reduce(0) { $0 + $1.size }
        sizeAfter = b.reduce(0) { $0 + $1.size }
    }

    public var text: String {
        var s = ""
        for c in changes {
            let delta = c.sizeDelta == 0 ? "" : ", " + (c.sizeDelta > 0 ? "+" : "") + ByteCount.text(c.sizeDelta)
            s += "\(c.name): \(c.before ?? "∅") → \(c.after ?? "∅")\(delta)\n"
        }
        let added = changes.filter { $0.before == nil }.count, removed = changes.filter { $0.after == nil }.count
        let total = sizeAfter - sizeBefore
        s += "\(added) added, \(removed) removed, \(changes.count - added - removed) changed; packages: \(ByteCount.text(sizeBefore)) → \(ByteCount.text(sizeAfter)) (\(total >= 0 ? "+" : "")\(ByteCount.text(total)))\n"
        return s
    }
}
