import Foundation
import KilnImage
import KilnStore
import KilnSupport

/// One Debian package of a closure, as an image's manifests (or the host store) record it.
public struct PackageInfo: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var architecture: String
    /// Bytes of its files.
    public var size: Int64
    public var storePath: String

    public init(name: String, version: String, architecture: String, size: Int64, storePath: String) {
        self.name = name; self.version = version; self.architecture = architecture; self.size = size; self.storePath = storePath
    }
}

/// `kiln inspect IMAGE`: what an image holds, read from its registration, manifests and
/// generations, never from a build host.
public struct ImageSummary: Codable, Sendable {
    public struct GenerationInfo: Codable, Sendable {
        public var number: Int
        public var current: Bool
        public var toplevel: String
        public var system: String
        /// The kernel's store name without its hash ("linux-6.1.0-57-amd64").
        public var kernel: String
        public var kernelParams: String
        /// Enabled units, each "unit (target)": the links in the generation's
        /// etc/systemd/system/*.wants and *.requires.
        public var units: [String]
        public var packages: [PackageInfo]
        /// Bytes of every store path in its closure.
        public var closureSize: Int64
    }

    public var image: String
    public var reader: String
    public var storePaths: Int
    public var storeSize: Int64
    public var generations: [GenerationInfo]

    /// Reads it all; `only` limits the work to one generation (for `kiln diff IMAGE@N`).
    public static func read(_ image: OpenedImage, only: Int? = nil) throws -> ImageSummary {
        let tree = image.tree
        let registration = try image.registration()
        let entries = Dictionary(registration.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let profiles = "/nix/var/kiln/profiles"
        let links = try tree.entries(under: profiles, hashing: { _ in false })
        let current = (try? tree.readLink(profiles + "/system")) ?? ""
        var numbers: [(Int, String)] = []
        for e in links where e.kind == .symlink {
            let name = String(e.path.dropFirst(profiles.count + 1))
            guard name.hasPrefix("system-"), name.hasSuffix("-link"),
                  let n = Int(name.dropFirst("system-".count).dropLast("-link".count)), let target = e.target else { continue }
            if let only, n != only { continue }
            numbers.append((n, target))
        }
        if let only, numbers.isEmpty {
            throw KilnError("'\(image.path)' has no generation \(only)", hint: "kiln inspect \(image.path) lists its generations")
        }
        var manifests: [String: Manifest] = [:]
        func manifest(_ p: String) throws -> Manifest {
            if let m = manifests[p] { return m }
            let m = try image.manifest(p)
            manifests[p] = m
            return m
        }
        var generations: [GenerationInfo] = []
        for (n, toplevel) in numbers.sorted(by: { $0.0 < $1.0 }) {
            // The closure, through the registration's references.
            var seen: Set<String> = [], queue = [toplevel]
            while let p = queue.popLast() {
                guard seen.insert(p).inserted, let e = entries[p] else { continue }
                queue += e.references
            }
            guard entries[toplevel] != nil else {
                throw KilnError("'\(image.path)': generation \(n) points at \(toplevel), which the image does not register")
            }
            var packages: [PackageInfo] = []
            var size: Int64 = 0
            for p in seen.sorted() {
                guard let e = entries[p] else { continue }
                size += e.size
                let m = try manifest(p)
                if let o = m.origin {
                    packages.append(PackageInfo(name: o.name, version: o.version, architecture: o.architecture, size: e.size, storePath: p))
                }
            }
            // The toplevel's kernel link names the kernel's own store path ("<hash>-linux-6.1.0-57-amd64").
            let kernelLink = (try? tree.readLink(toplevel + "/kernel")) ?? ""
            let kernel = kernelLink.split(separator: "/").dropFirst(2).first.map { String($0.drop { $0 != "-" }.dropFirst()) }
            let text = { (rel: String) in
                (try? tree.readFile(toplevel + "/" + rel)).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            }
            var units: [String] = []
            if let etc = try? tree.resolve(toplevel + "/etc/systemd/system"), tree.exists(etc) {
                for e in try tree.entries(under: etc, hashing: { _ in false }) where e.kind == .symlink {
                    let parts = e.path.dropFirst(etc.count + 1).split(separator: "/")
                    guard parts.count == 2, parts[0].hasSuffix(".wants") || parts[0].hasSuffix(".requires") else { continue }
                    let target = parts[0].split(separator: ".").dropLast().joined(separator: ".")
                    units.append("\(parts[1]) (\(target))")
                }
            }
            generations.append(GenerationInfo(number: n, current: current == "system-\(n)-link", toplevel: toplevel,
                                              system: text("system"),
                                              kernel: kernel ?? "?",
                                              kernelParams: text("kernel-params"), units: units.sorted(),
                                              packages: packages.sorted { $0.name < $1.name }, closureSize: size))
        }
        return ImageSummary(image: image.path, reader: image.reader, storePaths: registration.entries.count,
                            storeSize: registration.entries.reduce(0) { $0 + $1.size }, generations: generations)
    }

    /// The text `kiln inspect` prints.
    public var text: String {
        var s = "\(image) (\(reader))\n"
        s += "store: \(storePaths) paths, \(ByteCount.text(storeSize))\n"
        for g in generations {
            s += "\ngeneration \(g.number)\(g.current ? " (current)" : ""): \(g.toplevel)\n"
            s += "  system: \(g.system)\n"
            s += "  kernel: \(g.kernel)\n"
            s += "  kernel parameters: \(g.kernelParams)\n"
            s += "  closure: \(g.packages.count) packages, \(ByteCount.text(g.closureSize))\n"
            s += "  enabled units (\(g.units.count)):\n"
            for u in g.units { s += "    \(u)\n" }
            s += "  packages:\n"
            for p in g.packages { s += "    \(p.name) \(p.version) (\(ByteCount.text(p.size)))\n" }
        }
        return s
    }
}

/// Sizes as people read them.
public enum ByteCount {
    public static func text(_ n: Int64) -> String {
        let a = Double(abs(n))
        let sign = n < 0 ? "-" : ""
        if a < 1024 { return "\(sign)\(abs(n)) B" }
        if a < 1024 * 1024 { return sign + String(format: "%.1f KiB", a / 1024) }
        if a < 1024 * 1024 * 1024 { return sign + String(format: "%.1f MiB", a / 1024 / 1024) }
        return sign + String(format: "%.2f GiB", a / 1024 / 1024 / 1024)
    }
}
