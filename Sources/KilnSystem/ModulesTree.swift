import Foundation
import KilnStore
import KilnSupport

/// The running system's /lib/modules/<version> (NixOS's system.modulesTree): the kernel
/// package's modules, or the part a machine description names, closed over their
/// dependencies, with depmod's indexes (modules.dep, modules.alias and their .bin forms),
/// which kmod and udev read to load drivers by modalias. Debian's kernel packages ship no
/// indexes; the host's depmod computes them for any architecture.
enum ModulesTree {
    /// The tree as a store object; `patterns` nil takes every module.
    /// - Parameters:
    ///   - patterns: paths below lib/modules/<version>/kernel/ (a folder takes all below it) or module names.
    ///   - required: modules that must be in whatever the patterns say (loaded at boot, the initrd's).
    static func make(kernel: StoreObject, modules kmods: KernelModules, patterns: [String]?, required: [String],
                     workDirectory: String) throws -> GeneratedObject {
        let chosen = patterns.map { kmods.matching($0) } ?? kmods.modules.keys.sorted()
        let names = try kmods.closure(chosen + required, listedIn: "boot.kernelModules or boot.initrd.*")
        let version = kmods.version
        let base = "lib/modules/\(version)"
        let entries = Dictionary(kernel.manifest.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })

        // depmod reads a tree: links to the package's files, in a private folder.
        let root = workDirectory + "/modules-tree"
        let fm = FileManager.default
        try? fm.removeItem(atPath: root)
        var object = GeneratedObject(name: "kernel-modules-\(version)")
        for name in names.sorted() {
            guard let rel = kmods.modules[name], let entry = entries[rel] else { continue }
            let link = root + "/" + rel
            try fm.createDirectory(atPath: (link as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try fm.createSymbolicLink(atPath: link, withDestinationPath: kernel.hostFile(rel))
            object.file(rel, source: kernel.hostFile(rel), sha256: entry.sha256 ?? "", mode: 0o644)
        }
        try fm.createDirectory(atPath: root + "/" + base, withIntermediateDirectories: true)
        for f in ["modules.order", "modules.builtin", "modules.builtin.modinfo"] where entries[base + "/" + f] != nil {
            try fm.createSymbolicLink(atPath: root + "/" + base + "/" + f, withDestinationPath: kernel.hostFile(base + "/" + f))
        }
        try Tool.run(["depmod", "-b", root, version])
        for f in try fm.contentsOfDirectory(atPath: root + "/" + base).sorted() where f.hasPrefix("modules.") {
            guard let data = fm.contents(atPath: root + "/" + base + "/" + f) else {
                throw KilnError("cannot read \(root)/\(base)/\(f), which depmod wrote")
            }
            object.data(base + "/" + f, [UInt8](data))
        }
        try? fm.removeItem(atPath: root)
        return object
    }
}
