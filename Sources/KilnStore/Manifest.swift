import Foundation
import KilnPrimitives
import KilnSupport

/// One entry of a store object: the truth about ownership and modes, whoever owns the files
/// on the build host. Image writers apply it, which is what makes unprivileged builds correct.
public struct ManifestEntry: Sendable, Hashable {
    public enum Kind: String, Sendable { case directory = "d", file = "f", symlink = "l" }
    /// Relative to the store object's root, no leading slash; "" is the root itself.
    public var path: String
    public var kind: Kind
    /// Permission bits including setuid/setgid/sticky.
    public var mode: UInt16
    public var uid: UInt32
    public var gid: UInt32
    /// A file's size in bytes (0 for directories and links).
    public var size: Int64
    /// SHA-256 of a file's content, hex.
    public var sha256: String?
    public var target: String?

    public init(path: String, kind: Kind, mode: UInt16, uid: UInt32 = 0, gid: UInt32 = 0, size: Int64 = 0,
                sha256: String? = nil, target: String? = nil) {
        self.path = path; self.kind = kind; self.mode = mode; self.uid = uid; self.gid = gid
        self.size = size; self.sha256 = sha256; self.target = target
    }
}

/// The Debian package a store object was unpacked from, as the lock pins it.
public struct DebOrigin: Sendable, Hashable {
    public var name: String
    public var version: String
    public var architecture: String
    /// SHA-256 of the .deb, from the signed index.
    public var sha256: String

    public init(name: String, version: String, architecture: String, sha256: String) {
        self.name = name; self.version = version; self.architecture = architecture; self.sha256 = sha256
    }
}

/// The manifest of a store object: what it is, what it refers to, and every entry with its
/// metadata and content hash. Its serialization (`text`) is one format everywhere: the host
/// cache keeps it beside the object (`<base>.manifest`), and every image carries the
/// manifest of each store path it holds under /nix/var/kiln/manifests/ with a registration
/// line naming its hash (`Registration`). The text ends with the SHA-256 of what precedes it,
/// so a manifest edited by hand, cut short or corrupted is refused, never believed.
///
///     kiln-manifest 1
///     path /nix/store/<hash>-bash-5.2.15-2
///     deb bash 5.2.15-2 amd64 <sha256 of the .deb>
///     ref /nix/store/<hash>-libc6-2.36-9
///     d 0755 0 0 0 - .
///     f 0755 0 0 1265648 <sha256> bin/bash
///     l 0777 0 0 0 dash bin/sh
///     end <sha256 of every line above>
///
/// Fields are separated by single spaces; a path or link target is escaped (\\ \s \t \n) so
/// it is one field; a link's target is the sixth field.
public struct Manifest: Sendable {
    public var storePath: String
    public var references: [String]
    public var origin: DebOrigin?
    public var entries: [ManifestEntry]

    public init(storePath: String, references: [String], origin: DebOrigin? = nil, entries: [ManifestEntry]) {
        self.storePath = storePath; self.references = references.sorted(); self.origin = origin
        self.entries = entries.sorted { $0.path < $1.path }
    }

    static let magic = "kiln-manifest 1"

    /// The lines before the final `end` line.
    private var body: String {
        var s = Self.magic + "\n" + "path \(storePath)\n"
        if let o = origin { s += "deb \(Self.escape(o.name)) \(Self.escape(o.version)) \(o.architecture) \(o.sha256)\n" }
        for r in references { s += "ref \(r)\n" }
        for e in entries {
            let path = e.path.isEmpty ? "." : Self.escape(e.path)
            let mode = String(e.mode, radix: 8)
            let fixed = String(repeating: "0", count: max(0, 4 - mode.count)) + mode
            let sixth: String
            switch e.kind {
            case .directory: sixth = "-"
            case .file: sixth = e.sha256 ?? "-"
            case .symlink: sixth = Self.escape(e.target ?? "")
            }
            s += "\(e.kind.rawValue) \(fixed) \(e.uid) \(e.gid) \(e.size) \(sixth) \(path)\n"
        }
        return s
    }

    /// The serialization, ending with its own hash.
    public var text: String {
        let b = body
        return b + "end " + Hex.encode(Digest.sha256(b)) + "\n"
    }

    /// SHA-256 of `text`: what a registration names.
    public var hash: String { Hex.encode(Digest.sha256(text)) }

    /// The sum of its files' sizes.
    public var size: Int64 { entries.reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) } }

    /// Parses a manifest, refusing one whose final hash does not match its lines.
    /// - Throws: `KilnError` naming `source` and what is wrong.
    public init(parsing text: String, source: String) throws {
        func bad(_ why: String) -> KilnError { KilnError("manifest \(source) is not valid: \(why)") }
        guard let endRange = text.range(of: "\nend ", options: .backwards) else { throw bad("it has no end line (cut short?)") }
        let body = String(text[..<text.index(after: endRange.lowerBound)])
        let claimed = text[endRange.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
        guard claimed == Hex.encode(Digest.sha256(body)) else { throw bad("its content does not match its hash (edited or corrupted)") }
        var lines = body.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.first == Substring(Self.magic) else { throw bad("it does not start with '\(Self.magic)'") }
        lines = lines.dropFirst()
        var path: String?, refs: [String] = [], origin: DebOrigin?, entries: [ManifestEntry] = []
        for (n, line) in lines.enumerated() {
            let f = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            switch f.first {
            case "path" where f.count == 2: path = f[1]
            case "ref" where f.count == 2: refs.append(f[1])
            case "deb" where f.count == 5:
                origin = DebOrigin(name: Self.unescape(f[1]), version: Self.unescape(f[2]), architecture: f[3], sha256: f[4])
            case let k? where f.count == 7:
                guard let kind = ManifestEntry.Kind(rawValue: k), let mode = UInt16(f[1], radix: 8), let uid = UInt32(f[2]),
                      let gid = UInt32(f[3]), let size = Int64(f[4]) else { throw bad("line \(n + 2) is malformed") }
                let rel = f[6] == "." ? "" : Self.unescape(f[6])
                entries.append(ManifestEntry(path: rel, kind: kind, mode: mode, uid: uid, gid: gid, size: size,
                                             sha256: kind == .file ? f[5] : nil,
                                             target: kind == .symlink ? Self.unescape(f[5]) : nil))
            default: throw bad("line \(n + 2) is malformed")
            }
        }
        guard let path else { throw bad("it names no store path") }
        self.init(storePath: path, references: refs, origin: origin, entries: entries)
    }

    static func escape(_ s: String) -> String {
        guard s.contains(where: { $0 == "\\" || $0 == " " || $0 == "\t" || $0 == "\n" }) || s.isEmpty else { return s }
        if s.isEmpty { return "\\0" }
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case " ": out += "\\s"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func unescape(_ s: String) -> String {
        if s == "\\0" { return "" }
        guard s.contains("\\") else { return s }
        var out = "", escaped = false
        for c in s {
            if escaped {
                switch c {
                case "s": out += " "
                case "t": out += "\t"
                case "n": out += "\n"
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}
