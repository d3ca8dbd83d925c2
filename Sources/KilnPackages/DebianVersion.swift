/// A Debian version string compared with dpkg's rules (epoch, upstream, revision;
/// `~` sorts before everything, letters before non-letters).
public struct DebianVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let text: String
    let epoch: Int
    let upstream: [UInt8]
    let revision: [UInt8]

    public init(_ text: String) {
        self.text = text
        var rest = Substring(text)
        if let colon = rest.firstIndex(of: ":"), let e = Int(rest[..<colon]) {
            epoch = e
            rest = rest[rest.index(after: colon)...]
        } else {
            epoch = 0
        }
        if let dash = rest.lastIndex(of: "-") {
            upstream = Array(rest[..<dash].utf8)
            revision = Array(rest[rest.index(after: dash)...].utf8)
        } else {
            upstream = Array(rest.utf8)
            revision = []
        }
    }

    public var description: String { text }

    public static func == (a: DebianVersion, b: DebianVersion) -> Bool { compare(a, b) == 0 }
    public static func < (a: DebianVersion, b: DebianVersion) -> Bool { compare(a, b) < 0 }
    public func hash(into h: inout Hasher) { h.combine(epoch); h.combine(upstream); h.combine(revision) }

    static func compare(_ a: DebianVersion, _ b: DebianVersion) -> Int {
        if a.epoch != b.epoch { return a.epoch < b.epoch ? -1 : 1 }
        let u = comparepart(a.upstream, b.upstream)
        if u != 0 { return u }
        return comparepart(a.revision, b.revision)
    }

    private static func order(_ c: UInt8?) -> Int {
        guard let c else { return 0 }
        if c == UInt8(ascii: "~") { return -1 }
        if isDigit(c) { return 0 }
        if isAlpha(c) { return Int(c) }
        return Int(c) + 256
    }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private static func isAlpha(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }

    /// dpkg's verrevcmp.
    private static func comparepart(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var i = 0, j = 0
        while i < a.count || j < b.count {
            var firstDiff = 0
            while (i < a.count && !isDigit(a[i])) || (j < b.count && !isDigit(b[j])) {
                let ac = order(i < a.count ? a[i] : nil)
                let bc = order(j < b.count ? b[j] : nil)
                if ac != bc { return ac - bc }
                i += 1; j += 1
            }
            while i < a.count && a[i] == UInt8(ascii: "0") { i += 1 }
            while j < b.count && b[j] == UInt8(ascii: "0") { j += 1 }
            while i < a.count && isDigit(a[i]) && j < b.count && isDigit(b[j]) {
                if firstDiff == 0 { firstDiff = Int(a[i]) - Int(b[j]) }
                i += 1; j += 1
            }
            if i < a.count && isDigit(a[i]) { return 1 }
            if j < b.count && isDigit(b[j]) { return -1 }
            if firstDiff != 0 { return firstDiff }
        }
        return 0
    }
}
