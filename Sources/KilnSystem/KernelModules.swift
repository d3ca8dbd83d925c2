import Foundation
import KilnSupport
import KilnStore

/// The kernel modules of a Debian kernel package, with dependencies read from each module's
/// `.modinfo` ELF section (Debian's packages ship no modules.dep).
struct KernelModules {
    let version: String
    /// Module name (dashes as underscores) → path relative to the package root.
    let modules: [String: String]
    let builtin: Set<String>
    let packageRoot: String
    let kernel: StoreObject

    init(kernel: StoreObject) throws {
        self.kernel = kernel
        packageRoot = kernel.hostPath
        var version: String?
        var mods: [String: String] = [:]
        for e in kernel.manifest.entries where e.kind == .file && e.path.hasPrefix("lib/modules/") && e.path.hasSuffix(".ko") {
            let comps = e.path.split(separator: "/")
            guard comps.count > 3 else { continue }
            version = version ?? String(comps[2])
            let name = String(comps.last?.dropLast(3) ?? "").replacingOccurrences(of: "-", with: "_")
            mods[name] = e.path
        }
        guard let version else {
            throw KilnError("kernel package \(kernel.storePath.name) has no modules under lib/modules/")
        }
        self.version = version
        modules = mods
        let builtinList = (try? String(contentsOfFile: packageRoot + "/lib/modules/\(version)/modules.builtin", encoding: .utf8)) ?? ""
        builtin = Set(builtinList.split(separator: "\n").compactMap { line in
            line.split(separator: "/").last.map { String($0.dropLast(3)).replacingOccurrences(of: "-", with: "_") }
        })
    }

    /// The requested modules and their dependencies, dependencies first; built-in ones dropped.
    /// - Parameter listedIn: the options the requested names come from, for the error.
    func closure(_ requested: [String], listedIn: String) throws -> [String] {
        var order: [String] = []
        var seen = Set<String>()
        func visit(_ raw: String, from: String?) throws {
            let name = raw.replacingOccurrences(of: "-", with: "_")
            if seen.contains(name) { return }
            seen.insert(name)
            if builtin.contains(name) { return }
            guard let rel = modules[name] else {
                throw KilnError("kernel module '\(raw)'" + (from.map { " (needed by '\($0)')" } ?? " (listed in \(listedIn))")
                                + " is neither a module nor built into kernel \(version)")
            }
            let deps = try dependencies(of: packageRoot + "/" + rel)
            for dep in deps.hard { try visit(dep, from: name) }
            // A soft dependency is optional and often names a crypto algorithm ("crc32c")
            // rather than a module: take the module or its generic implementation if either
            // exists, as modprobe would through the aliases.
            for soft in deps.softPre {
                let n = soft.replacingOccurrences(of: "-", with: "_")
                if let m = [n, n + "_generic"].first(where: { modules[$0] != nil || builtin.contains($0) }) {
                    try visit(m, from: name)
                }
            }
            order.append(name)
        }
        for r in requested { try visit(r, from: nil) }
        return order
    }

    func path(of name: String) -> String? { modules[name].map { packageRoot + "/" + $0 } }

    /// A module's bytes, checked against the kernel package's manifest.
    func contents(of name: String) throws -> [UInt8] {
        guard let rel = modules[name] else { throw KilnError("kernel \(version) has no module \(name)") }
        return try kernel.verifiedContents(rel)
    }

    /// The modules a machine description's tree patterns name, sorted: a path below
    /// lib/modules/<version>/kernel/ takes that file or everything under that folder; a word
    /// without '/' or '.ko' is a module name.
    func matching(_ patterns: [String]) -> [String] {
        let prefix = "lib/modules/\(version)/kernel/"
        var out = Set<String>()
        for p in patterns {
            let pattern = p.hasSuffix("/") ? String(p.dropLast()) : p
            if !pattern.contains("/") && !pattern.hasSuffix(".ko") {
                let name = pattern.replacingOccurrences(of: "-", with: "_")
                if modules[name] != nil { out.insert(name); continue }
            }
            for (name, rel) in modules where rel.hasPrefix(prefix) {
                let below = rel.dropFirst(prefix.count)
                if below == pattern || below.hasPrefix(pattern + "/") { out.insert(name) }
            }
        }
        return out.sorted()
    }

    /// `depends=` and the `pre:` part of `softdep=` of a module's .modinfo section.
    private func dependencies(of file: String) throws -> (hard: [String], softPre: [String]) {
        guard let data = FileManager.default.contents(atPath: file) else { throw KilnError("cannot read kernel module \(file)") }
        let bytes = [UInt8](data)
        guard let info = ELF.section(named: ".modinfo", in: bytes) else { return ([], []) }
        var hard: [String] = [], softPre: [String] = []
        for field in info.split(separator: 0) {
            let s = String(decoding: field, as: UTF8.self)
            if s.hasPrefix("depends=") {
                hard = s.dropFirst("depends=".count).split(separator: ",").map(String.init)
            } else if s.hasPrefix("softdep=") {
                // "softdep=pre: a b post: c": the modules to load before this one.
                var inPre = false
                for word in s.dropFirst("softdep=".count).split(separator: " ") {
                    if word == "pre:" { inPre = true } else if word == "post:" { inPre = false } else if inPre { softPre.append(String(word)) }
                }
            }
        }
        return (hard, softPre)
    }
}

/// Just enough ELF64 (little-endian) to find a section by name.
enum ELF {
    static func section(named wanted: String, in b: [UInt8]) -> ArraySlice<UInt8>? {
        guard b.count > 64, b[0] == 0x7f, b[1] == 0x45, b[2] == 0x4c, b[3] == 0x46, b[4] == 2, b[5] == 1 else { return nil }
        func u16(_ o: Int) -> Int { o + 2 <= b.count ? Int(b[o]) | Int(b[o + 1]) << 8 : 0 }
        func u32(_ o: Int) -> Int { o + 4 <= b.count ? u16(o) | u16(o + 2) << 16 : 0 }
        func u64(_ o: Int) -> Int { o + 8 <= b.count ? u32(o) | u32(o + 4) << 32 : 0 }
        let shoff = u64(0x28), shentsize = u16(0x3a), shnum = u16(0x3c), shstrndx = u16(0x3e)
        guard shoff > 0, shentsize >= 64, shstrndx < shnum, shoff + shnum * shentsize <= b.count else { return nil }
        let strtab = u64(shoff + shstrndx * shentsize + 0x18)
        for i in 0..<shnum {
            let sh = shoff + i * shentsize
            let nameOff = strtab + u32(sh)
            guard nameOff < b.count else { continue }
            var end = nameOff
            while end < b.count && b[end] != 0 { end += 1 }
            if String(decoding: b[nameOff..<end], as: UTF8.self) == wanted {
                let off = u64(sh + 0x18), size = u64(sh + 0x20)
                guard off >= 0, size >= 0, off + size <= b.count else { return nil }
                return b[off..<(off + size)]
            }
        }
        return nil
    }
}
