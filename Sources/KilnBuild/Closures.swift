import Foundation
import KilnModules
import KilnPackages
import KilnPlan
import KilnStore
import KilnSupport
import KilnSystem

/// What reading images back needs from the build side: a profile's package closure (for
/// `kiln diff` against a profile) and a kernel for libguestfs' appliance.
extension Pipeline {
    /// The manifests of the Debian packages a profile's image would hold: evaluated, locked
    /// (writing the lock beside the profile when it has none, as a build does), realised, and
    /// its generation built, whose closure is what an image registers (the kernel package
    /// and the initrd's busybox, for instance, are locked but only their files are copied).
    public func packageClosure(profile: String, hardware: Hardware) throws -> [Manifest] {
        let gcGuard = try holdAgainstGC()
        defer { _ = gcGuard }
        let plan = try evaluate(profile: profile, hardware: hardware)
        let lock = try lock(plan: plan, profile: profile)
        let generation = try buildGeneration(plan: plan, lock: lock, objects: realise(lock),
                                             identity: ImageIdentity(seed: nil, hostName: plan.hostName))
        return generation.allPackages.map(\.manifest).sorted { $0.storePath < $1.storePath }
    }

    /// Debian's kernel for the host's architecture from Kiln's store, with a depmod-indexed
    /// lib/modules/<version> beside it under the cache (made once, then reused): what
    /// supermin needs to build libguestfs' appliance on a host without a readable kernel.
    public func hostKernel() throws -> (kernel: String, modules: String) {
        let architecture = Architecture.host ?? .x86_64
        let gcGuard = try holdAgainstGC()
        defer { _ = gcGuard }
        let apt = APTSource(cacheDirectory: cacheDirectory, architecture: architecture.debian)
        try apt.update()
        let meta = "linux-image-\(architecture.debian)"
        let closure = try Resolver(index: apt.loadIndex())
            .resolve([PackageRequest(name: meta, requestedBy: "libguestfs' appliance (kiln verify, inspect, diff)")])
        let lock = LockFile(architecture: architecture.debian, roots: [meta], closure: closure)
        let objects = try realise(lock)
        guard let kernel = objects.values.first(where: { o in o.manifest.entries.contains { $0.path.hasPrefix("boot/vmlinuz-") } }),
              let vmlinuz = kernel.manifest.entries.first(where: { $0.path.hasPrefix("boot/vmlinuz-") }) else {
            throw KilnError("\(meta) brought no kernel (boot/vmlinuz-*) into the store")
        }
        let version = String(vmlinuz.path.dropFirst("boot/vmlinuz-".count))
        let root = cacheDirectory + "/appliance/" + kernel.storePath.baseName
        let modules = root + "/lib/modules/" + version
        let fm = FileManager.default
        if !fm.fileExists(atPath: modules + "/modules.dep") {
            let work = root + ".tmp-\(getpid())"
            try? fm.removeItem(atPath: work)
            // The store's module files, and depmod's indexes over them.
            for e in kernel.manifest.entries where e.path.hasPrefix("lib/modules/\(version)/") || e.path.hasPrefix("usr/lib/modules/\(version)/") {
                let rel = e.path.hasPrefix("usr/") ? String(e.path.dropFirst(4)) : e.path
                let at = work + "/" + rel
                switch e.kind {
                case .directory: try fm.createDirectory(atPath: at, withIntermediateDirectories: true)
                case .file:
                    try fm.createDirectory(atPath: (at as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    // Hard links (copies across filesystems): supermin copies this tree into the
                    // appliance, where a symlink to the host's cache would point at nothing.
                    if link(kernel.hostFile(e.path), at) != 0 { try fm.copyItem(atPath: kernel.hostFile(e.path), toPath: at) }
                case .symlink: continue
                }
            }
            try Tool.run(["depmod", "-b", work, version])
            try? fm.removeItem(atPath: root)
            try fm.createDirectory(atPath: (root as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard rename(work, root) == 0 || fm.fileExists(atPath: modules + "/modules.dep") else {
                throw KilnError.posix("cannot move \(work) to \(root)")
            }
        }
        return (kernel.hostFile(vmlinuz.path), modules)
    }
}
