import Foundation
import KilnBoot
import KilnImage
import KilnModules
import KilnPackages
import KilnPlan
import KilnPrimitives
import KilnStore
import KilnSupport
import KilnSystem

/// What `kiln build` was asked to do.
public struct BuildRequest: Sendable {
    public var profile: String
    public var hardware: Hardware
    public var output: String
    /// `--format`; nil: the one the machine's provider takes and the output's name say
    /// (`OutputFormat.choose`).
    public var format: OutputFormat?
    /// Seed for UUIDs and salts; defaults to one derived from the host name.
    public var seed: String?
    /// The disk's size (`--disk-size`): the root partition and filesystem take what the other
    /// partitions leave; nil: just big enough for the system, with room to spare.
    public var diskSizeBytes: UInt64?

    public init(profile: String, hardware: Hardware = .default, output: String, format: OutputFormat? = nil, seed: String? = nil,
                diskSizeBytes: UInt64? = nil) {
        self.profile = profile; self.hardware = hardware; self.output = output; self.format = format; self.seed = seed
        self.diskSizeBytes = diskSizeBytes
    }
}

/// What a build made: the plan it followed and the generation the image holds.
public struct BuildResult: Sendable {
    public var plan: SystemPlan
    public var generation: Generation
    /// The format the image was written in.
    public var format: OutputFormat
}

/// The stages of DESIGN.md in order: evaluate, resolve, realise, build the generation,
/// assemble the image. Each stage decides what it needs; this reads like a table of contents.
public struct Pipeline {
    public let cacheDirectory: String
    public init(cacheDirectory: String = KilnPaths.cacheDirectory) { self.cacheDirectory = cacheDirectory }

    /// Packages every system needs besides what the configuration lists: the initrd's shell.
    static let initrdPackages = ["busybox-static"]

    public func evaluate(profile: String, hardware: Hardware) throws -> SystemPlan {
        try Self.checkProfile(profile)
        let progress = Progress.shared
        progress.begin("evaluating \(profile)")
        let plan = try ProfileEvaluator(profile: profile, hardware: hardware).plan()
        progress.end()
        return plan
    }

    /// Refuses a profile that is a directory. Nix would import its default.nix, and the module
    /// system would report that file missing from deep inside its own code; and the lock would
    /// be written as `DIR.lock`, beside the directory rather than in it.
    /// - Throws: `KilnError` naming the directory, with a hint naming its default.nix if it has one.
    public static func checkProfile(_ profile: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: profile, isDirectory: &isDirectory), isDirectory.boolValue else { return }
        let path = URL(fileURLWithPath: profile).standardizedFileURL.path
        let inside = (profile as NSString).appendingPathComponent("default.nix")
        throw KilnError("profile '\(path)' is a directory, not a .nix file",
                        hint: FileManager.default.fileExists(atPath: inside) ? "to build its default.nix, name that file: \(inside)" : nil)
    }

    /// When `kiln lock` resolves the profile's packages again.
    public enum LockRefresh: Sendable {
        /// Only when the lock is missing or was made for another package set (what a build does).
        case whenMismatched
        /// Also when a pinned .deb has left the archive (`kiln lock --if-stale`).
        case whenStale
        /// Always (`kiln lock`).
        case always
    }

    /// The lock file beside the profile, resolved anew when missing, made for another
    /// package set, or as `refresh` asks.
    public func lock(plan: SystemPlan, profile: String, refresh: LockRefresh = .whenMismatched) throws -> LockFile {
        let path = profile + ".lock"
        let loader = plan.bootLoaderInstaller
        let architecture = plan.architecture.debian
        let roots = Array(Set(plan.packageNames + Self.initrdPackages + loader.packages + Self.isoPackages(plan))).sorted()
        let apt = APTSource(cacheDirectory: cacheDirectory, architecture: architecture)
        let progress = Progress.shared
        var loadedIndex: PackageIndex?
        if refresh != .always, FileManager.default.fileExists(atPath: path) {
            let lock = try LockFile.read(path)
            if lock.roots == roots && lock.architecture == architecture {
                guard refresh == .whenStale else { return try validated(lock, path: path, plan: plan) }
                let index = try apt.loadIndex()
                let gone = lock.packagesMissing(from: index)
                if gone.isEmpty { return try validated(lock, path: path, plan: plan) }
                progress.note("\(path): \(gone.count) pinned packages have left the archive (\(gone.prefix(4).map { "\($0.name) \($0.version)" }.joined(separator: ", "))\(gone.count > 4 ? ", ..." : "")): resolving again")
                loadedIndex = index
            } else {
                progress.note("\(path) does not match the profile's packages: resolving again")
            }
        }
        let index = try loadedIndex ?? apt.loadIndex()
        progress.begin("resolving \(roots.count) packages")
        let closure: [PackageRecord]
        do {
            closure = try Resolver(index: index).resolve(requests(plan))
        } catch let e as ResolveError {
            // A profile written for NixOS may use a nixpkgs name Kiln does not map yet: offer
            // the nixpkgs names close to it beside the Debian ones.
            guard let name = e.unknownPackage,
                  let request = requests(plan).first(where: { $0.name == name }),
                  let table = try? ProfileEvaluator.nixpkgsNames() else { throw e }
            let nixpkgs = closestNames(to: name, among: table.keys).compactMap { n in table[n].map { (name: n, debian: $0) } }
            throw ResolveError.unknown(request, debianNames: index.suggestions(for: name), nixpkgsNames: nixpkgs)
        }
        let lock = LockFile(architecture: architecture, roots: roots, closure: closure)
        progress.end("\(closure.count) packages")
        try lock.write(path)
        try markValid(path, apt: apt)
        progress.note("wrote \(path)")
        return lock
    }

    /// What the profile asks for, each with the option (and file) that asked.
    func requests(_ plan: SystemPlan) -> [PackageRequest] {
        let loader = plan.bootLoaderInstaller
        var requests: [PackageRequest] = []
        for w in plan.packages {
            requests.append(PackageRequest(name: w.name, requestedBy: "option \(w.option) in \(w.file)"))
        }
        for (name, v) in plan.specialisations.sorted(by: { $0.key < $1.key }) {
            for w in v.packages {
                requests.append(PackageRequest(name: w.name, requestedBy: "option \(w.option) of specialisation.\(name) in \(w.file)"))
            }
        }
        requests.append(PackageRequest(name: plan.kernel.package, requestedBy: "option boot.kernelPackage"))
        for p in Self.initrdPackages { requests.append(PackageRequest(name: p, requestedBy: "Kiln's initrd")) }
        for p in loader.packages { requests.append(PackageRequest(name: p, requestedBy: "option \(loader.packagesOption)")) }
        if let iso = plan.isoImage {
            for p in iso.storeContents { requests.append(PackageRequest(name: p, requestedBy: "option isoImage.storeContents")) }
            if !loader.packages.contains(plan.architecture.grubEFIPackage) {
                requests.append(PackageRequest(name: plan.architecture.grubEFIPackage, requestedBy: "the ISO's UEFI boot (installer/cd-dvd/iso-image.nix)"))
            }
        }
        return requests
    }

    /// What a live ISO needs besides the system: GRUB for UEFI (its BIOS GRUB is the host's,
    /// as a disk's is) and `isoImage.storeContents`.
    static func isoPackages(_ plan: SystemPlan) -> [String] {
        guard let iso = plan.isoImage else { return [] }
        return [plan.architecture.grubEFIPackage] + iso.storeContents
    }

    /// A build uses a lock only after checking it against the signed index and the profile
    /// (LockFile.validate). The check is remembered for these lock bytes and these indexes,
    /// so an unchanged lock costs nothing the next time.
    func validated(_ lock: LockFile, path: String, plan: SystemPlan) throws -> LockFile {
        let apt = APTSource(cacheDirectory: cacheDirectory, architecture: lock.architecture)
        try apt.update()
        if let stamp = try? validationStamp(path, apt: apt), FileManager.default.fileExists(atPath: stamp) { return lock }
        Progress.shared.begin("checking \(path) against the package index")
        try lock.validate(index: apt.loadIndex(), requests: requests(plan), path: path)
        try markValid(path, apt: apt)
        Progress.shared.end()
        return lock
    }

    private func validationStamp(_ path: String, apt: APTSource) throws -> String {
        guard let bytes = FileManager.default.contents(atPath: path) else { throw KilnError.posix("cannot read \(path)") }
        let key = Hex.encode(Digest.sha256([UInt8](bytes) + Array(("\n" + apt.indexIdentity).utf8)))
        return cacheDirectory + "/valid-locks/" + key
    }

    private func markValid(_ path: String, apt: APTSource) throws {
        let stamp = try validationStamp(path, apt: apt)
        try? FileManager.default.createDirectory(atPath: cacheDirectory + "/valid-locks", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: stamp, contents: Data())
    }

    /// Runs the whole build and writes the image at `request.output` (atomically).
    /// - Parameter evaluated: the profile's plan when the caller has evaluated it already.
    public func build(_ request: BuildRequest, plan evaluated: SystemPlan? = nil) throws -> BuildResult {
        try Self.checkProfile(request.profile)   // before the cache or the output is touched
        try refuseToOverwriteInputs(request)
        KilnPaths.sweep(cacheDirectory: cacheDirectory)
        let gcGuard = try holdAgainstGC()
        defer { _ = gcGuard }
        let out = try AtomicOutput(request.output)
        defer { out.discard() }

        let plan = try evaluated ?? evaluate(profile: request.profile, hardware: request.hardware)
        let format = try OutputFormat.choose(explicit: request.format, output: request.output, accepted: plan.imageFormats)
        if format == .iso, plan.isoImage == nil {
            throw KilnError("\(request.profile) is not a live system, so it cannot be written as an ISO",
                            hint: "import the ISO module, as NixOS's ISOs do: imports = [ (modulesPath + \"/installer/cd-dvd/iso-image.nix\") ]; (or start from profiles/installer.nix)")
        }
        let lock = try lock(plan: plan, profile: request.profile)
        // A store file that does not match its manifest stops the image writer; its object is
        // unpacked again from the verified .deb and the image written again (once per object).
        var repaired = Set<String>()
        while true {
            do {
                let objects = try realise(lock)
                let generation = format == .iso
                    ? try writeISO(plan: plan, lock: lock, objects: objects, request: request, to: out)
                    : try writeImage(plan: plan, lock: lock, objects: objects, request: request, format: format, to: out)
                try out.commit()
                return BuildResult(plan: plan, generation: generation, format: format)
            } catch let e as ContentMismatch {
                guard let p = try damagedPackage(hostFile: e.source, lock: lock), repaired.insert(p.name).inserted else { throw e }
                Progress.shared.note("store file \(e.source) does not match its manifest (SHA-256 \(e.actual), expected \(e.expected)): unpacking \(p.name) again from its verified .deb")
                try repair(p, lock: lock)
            } catch let e as StoreCorruption {
                guard let p = lock.packages.first(where: { Store.path(for: $0) == e.object }), repaired.insert(p.name).inserted else { throw e }
                Progress.shared.note(e.userMessage.split(separator: "\n").first.map(String.init).map { $0 + ": unpacking \(p.name) again from its verified .deb" } ?? "")
                try repair(p, lock: lock)
            }
        }
    }

    /// A generation for a running machine (`kiln switch`): evaluated, locked and realised as
    /// for an image, numbered `number`, booting the machine's own root (and ESP), keeping the
    /// ids its accounts have. `accept` sees the plan before anything is fetched or built.
    /// Returns it with the file tree of every store path it holds.
    public func machineGeneration(profile: String, hardware: Hardware, number: Int, rootUUID: String,
                                  espPartitionUUID: String?, previousAccounts: PreviousAccounts,
                                  seed: String? = nil, accept: (SystemPlan) throws -> Void = { _ in })
        throws -> (plan: SystemPlan, generation: Generation, storeNodes: [FileNode]) {
        KilnPaths.sweep(cacheDirectory: cacheDirectory)
        let gcGuard = try holdAgainstGC()
        defer { _ = gcGuard }
        let plan = try evaluate(profile: profile, hardware: hardware)
        try accept(plan)
        let lock = try lock(plan: plan, profile: profile)
        let objects = try realise(lock)
        var identity = ImageIdentity(seed: seed, hostName: plan.hostName)
        identity.rootUUID = rootUUID
        if let espPartitionUUID { identity.espPartitionUUID = espPartitionUUID }
        let generation = try buildGeneration(plan: plan, lock: lock, objects: objects, identity: identity, number: number,
                                             previousAccounts: previousAccounts)
        let nodes = ImageRoot.nodes(generation).filter { $0.path.hasPrefix(nixStoreDirectory + "/") }
        return (plan, generation, nodes)
    }

    /// Writes the image from realised packages: the generation, the root filesystem, the disk.
    private func writeImage(plan: SystemPlan, lock: LockFile, objects: [String: StoreObject], request: BuildRequest,
                            format: OutputFormat, to out: AtomicOutput) throws -> Generation {
        let work = try KilnPaths.makeTemporaryDirectory("kiln-build")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let identity = ImageIdentity(seed: request.seed, hostName: plan.hostName)
        let generation = try buildGeneration(plan: plan, lock: lock, objects: objects, identity: identity)
        let loader = plan.bootLoaderInstaller
        let boot = BootContext(rootUUID: identity.rootUUID, packages: objects, workDirectory: work)

        // The root filesystem, then the disk around it (whose other partitions a --disk-size
        // leaves the root the rest of).
        let espFiles = try loader.espFiles(generation.bootspecs, context: boot)
        let root = try RootFilesystemWriter.partition(
            plan.rootFilesystem, ImageRoot.nodes(generation, extra: loader.rootFiles(generation.bootspecs)),
            uuid: identity.rootUUID, seed: identity.seed, timestamp: identity.timestamp,
            exactBytes: try request.diskSizeBytes.map { try DiskAssembler.rootBytes(diskBytes: $0, espSizeMiB: DiskAssembler.espSizeMiB(for: espFiles)) },
            workDirectory: work, progress: Progress.shared)
        let rawPath = format == .raw ? out.temporaryPath : work + "/disk.raw"
        try DiskAssembler.assemble(DiskSpec(
            root: root, espSizeMiB: DiskAssembler.espSizeMiB(for: espFiles),
            architecture: plan.architecture, seed: identity.seed, biosBootCode: try loader.biosBootCode(context: boot),
            espFiles: espFiles, timestamp: identity.timestamp), output: rawPath, progress: Progress.shared)
        if case .image(let path) = root { try FileManager.default.removeItem(atPath: path) }
        if format != .raw {
            Progress.shared.begin("converting to \(format.rawValue)")
            try FormatConverter.convert(raw: rawPath, to: format, output: out.temporaryPath,
                                        timestamp: identity.timestamp, seed: identity.seed,
                                        name: URL(fileURLWithPath: request.output).lastPathComponent)
            Progress.shared.end()
        }
        return generation
    }

    /// Writes a live ISO: the generation's whole root in a squashfs, the kernel, initrd and
    /// GRUB for BIOS and UEFI, `isoImage.contents`, and the installer's system image.
    private func writeISO(plan: SystemPlan, lock: LockFile, objects: [String: StoreObject], request: BuildRequest,
                          to out: AtomicOutput) throws -> Generation {
        guard let iso = plan.isoImage else { throw KilnError("internal error: writeISO without isoImage") }
        let work = try KilnPaths.makeTemporaryDirectory("kiln-iso")
        defer {
            _ = try? Tool.run(["chmod", "-R", "u+rwX", work], check: false)
            try? FileManager.default.removeItem(atPath: work)
        }
        let identity = ImageIdentity(seed: request.seed, hostName: plan.hostName)
        let generation = try buildGeneration(plan: plan, lock: lock, objects: objects, identity: identity)
        let tree = work + "/tree"
        let fm = FileManager.default
        try fm.createDirectory(atPath: tree + "/kiln", withIntermediateDirectories: true)
        let storeContents = lock.closure(of: iso.storeContents).compactMap { objects[$0.name] }
        try SquashfsWriter.write(ImageRoot.nodes(generation, extraPackages: storeContents), to: tree + "/kiln/root.squashfs",
                                 options: SquashfsOptions(zstdLevel: iso.zstdLevel, timestamp: identity.timestamp),
                                 progress: Progress.shared)
        if let system = iso.installerSystem {
            try addInstallerSystem(system, request: request, tree: tree, work: work)
        }
        for c in iso.contents {
            guard c.target.hasPrefix("/"), !c.target.split(separator: "/").contains(".."), c.target != "/" else {
                throw KilnError("isoImage.contents: target '\(c.target)' must be an absolute path on the ISO, without '..'")
            }
            guard fm.fileExists(atPath: c.source) else { throw KilnError("isoImage.contents: source '\(c.source)' does not exist") }
            let dest = tree + c.target
            try fm.createDirectory(atPath: (dest as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Tool.run(["cp", "-R", "--no-preserve=mode,ownership,timestamps", "-L", c.source, dest])
        }
        let boot = try LiveISO.prepareBoot(plan: plan, iso: iso, bootspec: generation.bootspec, packages: objects, tree: tree,
                                           seed: identity.seed, timestamp: identity.timestamp, workDirectory: work)
        try ISOWriter.write(ISOSpec(volumeID: iso.volumeID, tree: tree, biosBoot: boot.biosBoot, efiImage: boot.efiImage,
                                    timestamp: identity.timestamp), to: out.temporaryPath, progress: Progress.shared)
        return generation
    }

    /// `installer.system`: built as a raw disk for the same machine, compressed onto the ISO
    /// with what kiln-install needs to know about it.
    private func addInstallerSystem(_ profile: String, request: BuildRequest, tree: String, work: String) throws {
        Progress.shared.note("building the system the installer carries (installer.system): \(profile)")
        let raw = work + "/system.raw"
        let result = try build(BuildRequest(profile: profile, hardware: request.hardware, output: raw, format: .raw, seed: request.seed))
        let dir = tree + "/kiln/install"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        Progress.shared.begin("compressing the installer's system image (zstd)")
        // A fixed thread count: zstd's output depends on it, the same lock must give the same ISO.
        try Tool.run(["zstd", "-q", "-6", "-T2", raw, "-o", dir + "/system.raw.zst"])
        Progress.shared.end()
        var st = stat()
        guard stat(raw, &st) == 0 else { throw KilnError("cannot stat '\(raw)'") }
        let loader = result.plan.bootLoader
        let firmware = loader.bootsBIOS && loader.bootsUEFI ? "bios+uefi" : loader.bootsBIOS ? "bios" : "uefi"
        let info = "size=\(st.st_size)\nfirmware=\(firmware)\nroot_partition=\(DiskAssembler.rootPartition)\nroot_filesystem=\(result.plan.rootFilesystem.rawValue)\nsystem=\(result.generation.toplevel.path)\n"
        guard FileManager.default.createFile(atPath: dir + "/system.info", contents: Data(info.utf8)) else {
            throw KilnError("cannot write '\(dir)/system.info'")
        }
        try FileManager.default.removeItem(atPath: raw)
    }

    /// The cache's gc lock, shared: `kiln gc` waits until this build is done with the store.
    func holdAgainstGC() throws -> FileLock {
        try KilnPaths.createCacheFolder(cacheDirectory, cache: cacheDirectory)
        return try FileLock(CacheCollector.gcLockPath(cacheDirectory), .shared, waiting: "waiting for kiln gc to finish with \(cacheDirectory)")
    }

    /// The output must not be one of the build's inputs (the profile, its lock).
    private func refuseToOverwriteInputs(_ request: BuildRequest) throws {
        let out = URL(fileURLWithPath: request.output).standardizedFileURL.resolvingSymlinksInPath().path
        let profile = URL(fileURLWithPath: request.profile).standardizedFileURL.resolvingSymlinksInPath().path
        if out == profile || out == profile + ".lock" {
            throw KilnError("--output '\(request.output)' is the build's \(out == profile ? "profile" : "lock file"); the image would overwrite it",
                            hint: "name another file, e.g. --output \((request.profile as NSString).deletingPathExtension).raw")
        }
    }

    /// The locked package whose store object holds `hostFile`.
    private func damagedPackage(hostFile: String, lock: LockFile) throws -> LockedPackage? {
        let store = Store(cacheDirectory: cacheDirectory)
        return lock.packages.first { hostFile.hasPrefix(store.directory + "/" + Store.path(for: $0).baseName + "/") }
    }

    private func repair(_ p: LockedPackage, lock: LockFile) throws {
        let apt = APTSource(cacheDirectory: cacheDirectory, architecture: lock.architecture)
        let byName = Dictionary(lock.packages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let refs = p.depends.compactMap { byName[$0] }.map { Store.path(for: $0).path }.sorted()
        _ = try Store(cacheDirectory: cacheDirectory).repair(p, references: refs, deb: apt.cachedDeb(p), refetch: { try apt.fetchOne($0) })
    }

    /// Fetches and unpacks every package of the lock: store objects by package name.
    func realise(_ lock: LockFile) throws -> [String: StoreObject] {
        let store = Store(cacheDirectory: cacheDirectory)
        let apt = APTSource(cacheDirectory: cacheDirectory, architecture: lock.architecture)
        // Only the packages the store lacks need their .debs.
        let missing = lock.packages.filter { store.valid($0) == nil }
        let debs = try apt.fetch(missing)
        let objects = try store.realise(lock.packages, debs: debs, refetch: { try apt.fetchOne($0) })
        // What kiln gc --max-size keeps longest: everything this build used, at one time.
        let now = KilnPaths.now()
        store.markUsed(lock.packages, at: now)
        apt.markUsed(lock.packages, at: now)
        return objects
    }

    /// The generation from the realised packages: the configuration's runtime closure, the
    /// kernel, and the initrd's busybox.
    func buildGeneration(plan: SystemPlan, lock: LockFile, objects: [String: StoreObject], identity: ImageIdentity,
                         number: Int = 1, specialisation: String? = nil, previousAccounts: PreviousAccounts? = nil) throws -> Generation {
        // The variants first: the generation links their toplevels.
        var variants: [String: Generation] = [:]
        for (name, v) in plan.specialisations {
            variants[name] = try buildGeneration(plan: v, lock: lock, objects: objects, identity: identity, number: number,
                                                 specialisation: (specialisation.map { $0 + "/" } ?? "") + name,
                                                 previousAccounts: previousAccounts)
        }
        try ConfigChecks.run(plan: plan, lock: lock, objects: objects)
        let systemNames = Set(lock.closure(of: plan.packages.map(\.name)).map(\.name))
        let kernelClosure = lock.closure(of: [plan.kernel.package])
        guard let kernel = kernelClosure.compactMap({ objects[$0.name] })
            .first(where: { $0.manifest.entries.contains { $0.path.hasPrefix("boot/vmlinuz-") } }) else {
            throw KilnError("no package in the closure of \(plan.kernel.package) (boot.kernelPackage) contains a kernel (boot/vmlinuz-*)")
        }
        guard let busybox = objects["busybox-static"] else { throw KilnError("the lock file lacks busybox-static") }
        var builder = GenerationBuilder(plan: plan, identity: identity, packages: objects.filter { systemNames.contains($0.key) },
                                        kernelPackage: kernel, busybox: busybox)
        builder.number = number
        builder.bytecodeCache = cacheDirectory + "/python-bytecode"
        builder.specialisation = specialisation
        builder.variants = variants
        builder.installBootloader = { [loader = plan.bootLoaderInstaller] bash in loader.installScript(bash: bash) }
        builder.previousAccounts = previousAccounts
        return try builder.build()
    }
}
