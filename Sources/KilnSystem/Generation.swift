import Foundation
import KilnPlan
import KilnStore
import KilnSupport

/// A built system generation: the toplevel store object and everything it references.
public struct Generation: Sendable {
    public var toplevel: StorePath
    /// How boot loaders boot it.
    public var bootspec: Bootspec
    /// The objects Kiln generated for it (kernel, initrd, module tree, sw, etc, toplevel).
    public var generated: [GeneratedObject]
    /// The package objects of its runtime closure, sorted by store name.
    public var packages: [StoreObject]
    /// The generated /etc, which the image ships already activated.
    public var etc: GeneratedObject
    /// The variants (`specialisation.<name>`), each a generation linked from this one's
    /// `specialisation/<name>`.
    public var specialisations: [String: Generation] = [:]

    /// Every package object of it and its variants, each once, sorted by store name.
    public var allPackages: [StoreObject] {
        var seen = Set<StorePath>()
        return (packages + specialisations.values.flatMap(\.allPackages)).filter { seen.insert($0.storePath).inserted }
            .sorted { $0.storePath.name < $1.storePath.name }
    }

    /// Every generated object of it and its variants, each once.
    public var allGenerated: [GeneratedObject] {
        var seen = Set<StorePath>()
        return (generated + specialisations.values.flatMap(\.allGenerated)).filter { seen.insert($0.storePath).inserted }
    }

    /// The boot entries: the system's, then its variants'.
    public var bootspecs: [Bootspec] {
        [bootspec] + specialisations.keys.sorted().compactMap { specialisations[$0]?.bootspec }
    }

    /// Every store path of the generation and its variants, sorted.
    public var closure: [StorePath] { (allPackages.map(\.storePath) + allGenerated.map(\.storePath)).sorted() }
}

/// Turns a plan and the realised packages into a generation (NixOS's
/// system.build.toplevel): kernel, initrd, sw, etc and the toplevel with its scripts.
public struct GenerationBuilder {
    public let plan: SystemPlan
    public let identity: ImageIdentity
    /// Store objects of the system's runtime closure (no kernel package, no initrd-only tools).
    public let packages: [String: StoreObject]
    public let kernelPackage: StoreObject
    public let busybox: StoreObject
    /// Where compiled Python bytecode is kept between builds (`PythonBytecode`); nil: the
    /// system path gets none.
    public var bytecodeCache: String?
    /// The generation's number (an image holds generation 1).
    public var number = 1
    /// The variant this builds (its boot entry's title and its toplevel's name say so).
    public var specialisation: String?
    /// Built variants to link from the toplevel's `specialisation/<name>`.
    public var variants: [String: Generation] = [:]
    /// The boot loader's `bin/install-bootloader` for a bash at the given path (KilnBoot's
    /// loaders write it; this target cannot know them).
    public var installBootloader: (@Sendable (String) -> String)?
    /// The machine's accounts when this generation replaces another (`kiln switch`): their
    /// ids are kept.
    public var previousAccounts: PreviousAccounts?

    public init(plan: SystemPlan, identity: ImageIdentity, packages: [String: StoreObject], kernelPackage: StoreObject,
                busybox: StoreObject) {
        self.plan = plan; self.identity = identity; self.packages = packages
        self.kernelPackage = kernelPackage; self.busybox = busybox
    }

    public func build() throws -> Generation {
        let progress = Progress.shared
        progress.begin("building the system generation")
        let sortedPackages = packages.values.sorted { $0.storePath.name < $1.storePath.name }

        // The kernel (its own object), the initrd with the modules stage 1 needs, and the
        // module tree the machine description asks for: never the package's whole 400 MB
        // unless asked.
        guard let vmlinuz = kernelPackage.manifest.entries.first(where: { $0.kind == .file && $0.path.hasPrefix("boot/vmlinuz-") }) else {
            throw KilnError("kernel package \(kernelPackage.storePath.name) has no boot/vmlinuz-*",
                            hint: "boot.kernelPackage must be a Debian kernel image package such as linux-image-amd64")
        }
        let kmods = try KernelModules(kernel: kernelPackage)
        var kernel = GeneratedObject(name: "linux-\(kmods.version)")
        kernel.file("vmlinuz", source: kernelPackage.hostFile(vmlinuz.path), sha256: vmlinuz.sha256 ?? "", mode: 0o644)

        let (initrd, initrdBytes) = try Initrd.make(plan: plan, kernelModules: kmods, busybox: busybox, timestamp: identity.timestamp)
        let work = try KilnPaths.makeTemporaryDirectory("kiln-generation")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let modules = try ModulesTree.make(kernel: kernelPackage, modules: kmods, patterns: plan.kernel.modulesTree,
                                           required: plan.kernel.initrdModules + plan.kernel.modules + plan.rootFilesystem.kernelModules,
                                           workDirectory: work)
        let bash = try storeFile("bash", ["bin/bash", "usr/bin/bash"])
        let tools = MachineTools.object(bash: bash, installer: plan.isoImage?.installerSystem != nil)
        // What the configuration's Nix code wrote (pkgs.writeText & co., the profile's files
        // used in strings), each at the store path evaluation named.
        let writtenObjects = plan.writtenObjects ?? []
        let written = try writtenObjects.map { w -> GeneratedObject in
            let g = GeneratedObject(w)
            guard g.storePath.path == w.path else {
                throw KilnError("internal: the written object '\(w.name)' builds as \(g.storePath.path), but evaluation named it \(w.path)")
            }
            return g
        }
        var sw = SystemPath.make(sortedPackages)
        SystemPath.add(plan.systemObjects.compactMap { p in writtenObjects.first { $0.path == p } }, to: &sw)
        SystemPath.link(&sw, "lib/modules", to: SystemPath.modulesTarget)
        if let bytecodeCache { try PythonBytecode.add(to: &sw, packages: sortedPackages, cacheDirectory: bytecodeCache) }
        for name in tools.entries.keys.sorted() where name.hasPrefix("bin/") && name != "bin" {
            SystemPath.link(&sw, name, to: tools.storePath.path + "/" + name)
        }
        let etc = try EtcTree.make(plan: plan, identity: identity, packages: sortedPackages, previous: previousAccounts)

        let systemd = try storeFile("systemd", ["lib/systemd/systemd", "usr/lib/systemd/systemd"])
        let kernelParams = (["root=UUID=\(identity.rootUUID)", "rw"] + plan.kernel.params).joined(separator: " ")

        var top = GeneratedObject(name: "kiln-system" + (plan.hostName.isEmpty ? "" : "-" + plan.hostName) + (specialisation.map { "-" + $0 } ?? ""))
        top.symlink("kernel", kernel.storePath.path + "/vmlinuz")
        top.symlink("initrd", initrd.storePath.path + "/initrd")
        top.symlink("kernel-modules", modules.storePath.path)
        top.symlink("sw", sw.storePath.path)
        top.symlink("etc", etc.storePath.path)
        top.data("kernel-params", kernelParams + "\n")
        top.data("system", plan.architecture.nixSystem + "\n")
        top.data("init", StageScripts.stage2Init(bash: bash, systemd: systemd), mode: 0o755)
        top.data("activate", StageScripts.activate(bash: bash, etc: etc, users: plan.users, mutableUsers: plan.mutableUsers), mode: 0o755)
        top.data("bin/switch-to-configuration", SwitchScript.text(bash: bash), mode: 0o755)
        for (name, v) in variants { top.symlink("specialisation/\(name)", v.toplevel.path) }
        if let installBootloader { top.data("bin/install-bootloader", installBootloader(bash), mode: 0o755) }
        let toplevel = top.storePath

        var bootspec = Bootspec(generation: number,
                                title: "Kiln" + (plan.hostName.isEmpty ? "" : " " + plan.hostName) + " - generation \(number)" + (specialisation.map { " (\($0))" } ?? ""),
                                kernel: kernel.storePath.path + "/vmlinuz", initrd: initrd.storePath.path + "/initrd",
                                kernelSource: kernelPackage.hostFile(vmlinuz.path), initrdData: initrdBytes,
                                kernelName: kernel.storePath.baseName, initrdName: initrd.storePath.baseName,
                                commandLine: "init=\(toplevel.path)/init " + kernelParams, specialisation: specialisation)
        bootspec.created = identity.timestamp
        progress.end("\(toplevel.path)")
        return Generation(toplevel: toplevel, bootspec: bootspec, generated: [kernel, initrd, modules, tools, sw, etc, top] + written,
                          packages: sortedPackages, etc: etc, specialisations: variants)
    }

    /// The store path of a file of a package, trying the merged-/usr alternatives.
    private func storeFile(_ package: String, _ candidates: [String]) throws -> String {
        guard let obj = packages[package] else { throw KilnError("the system closure lacks package '\(package)', which Kiln's boot needs") }
        let paths = Set(obj.manifest.entries.map(\.path))
        guard let rel = candidates.first(where: paths.contains) else {
            throw KilnError("package '\(package)' has none of \(candidates.joined(separator: ", "))")
        }
        return obj.storeFile(rel)
    }
}
