import Foundation
import KilnBoot
import KilnImage
import KilnModules
import KilnPackages
import KilnPlan
import KilnStore
import KilnSupport
import KilnSystem

/// What `kiln build` was asked to do.
public struct BuildRequest: Sendable {
    public var profile: String
    public var hardware: Hardware
    public var output: String
    public var format: OutputFormat
    /// Seed for UUIDs and salts; defaults to one derived from the host name.
    public var seed: String?

    public init(profile: String, hardware: Hardware = .default, output: String, format: OutputFormat = .raw, seed: String? = nil) {
        self.profile = profile; self.hardware = hardware; self.output = output; self.format = format; self.seed = seed
    }
}

/// What a build made: the plan it followed and the generation the image holds.
public struct BuildResult: Sendable {
    public var plan: SystemPlan
    public var generation: Generation
}

/// The stages of DESIGN.md in order: evaluate, resolve, realise, build the generation,
/// assemble the image. Each stage decides what it needs; this reads like a table of contents.
public struct Pipeline {
    public let cacheDirectory: String
    public init(cacheDirectory: String = KilnPaths.cacheDirectory) { self.cacheDirectory = cacheDirectory }

    /// Packages every system needs besides what the configuration lists: the initrd's shell.
    static let initrdPackages = ["busybox-static"]

    public func evaluate(profile: String, hardware: Hardware) throws -> SystemPlan {
        let progress = Progress.shared
        progress.begin("evaluating \(profile)")
        let plan = try ProfileEvaluator(profile: profile, hardware: hardware).plan()
        progress.end()
        return plan
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
        let roots = (plan.packageNames + Self.initrdPackages + loader.packages).sorted()
        let apt = APTSource(cacheDirectory: cacheDirectory, architecture: architecture)
        let progress = Progress.shared
        var loadedIndex: PackageIndex?
        if refresh != .always, FileManager.default.fileExists(atPath: path) {
            let lock = try LockFile.read(path)
            if lock.roots == roots && lock.architecture == architecture {
                guard refresh == .whenStale else { return lock }
                let index = try apt.loadIndex()
                let gone = lock.packagesMissing(from: index)
                if gone.isEmpty { return lock }
                progress.note("\(path): \(gone.count) pinned packages have left the archive (\(gone.prefix(4).map { "\($0.name) \($0.version)" }.joined(separator: ", "))\(gone.count > 4 ? ", ..." : "")): resolving again")
                loadedIndex = index
            } else {
                progress.note("\(path) does not match the profile's packages: resolving again")
            }
        }
        let index = try loadedIndex ?? apt.loadIndex()
        progress.begin("resolving \(roots.count) packages")
        var requests: [PackageRequest] = []
        for w in plan.packages {
            requests.append(PackageRequest(name: w.name, requestedBy: "option \(w.option) in \(w.file)"))
        }
        requests.append(PackageRequest(name: plan.kernel.package, requestedBy: "option boot.kernelPackage"))
        for p in Self.initrdPackages { requests.append(PackageRequest(name: p, requestedBy: "Kiln's initrd")) }
        for p in loader.packages { requests.append(PackageRequest(name: p, requestedBy: "option \(loader.packagesOption)")) }
        let closure = try Resolver(index: index).resolve(requests)
        let lock = LockFile(architecture: architecture, roots: roots, closure: closure)
        progress.end("\(closure.count) packages")
        try lock.write(path)
        progress.note("wrote \(path)")
        return lock
    }

    /// Runs the whole build and writes the image at `request.output` (atomically).
    /// - Parameter evaluated: the profile's plan when the caller has evaluated it already.
    public func build(_ request: BuildRequest, plan evaluated: SystemPlan? = nil) throws -> BuildResult {
        let out = try AtomicOutput(request.output)
        let work = try KilnPaths.makeTemporaryDirectory("kiln-build")
        defer { try? FileManager.default.removeItem(atPath: work); out.discard() }

        let plan = try evaluated ?? evaluate(profile: request.profile, hardware: request.hardware)
        let lock = try lock(plan: plan, profile: request.profile)
        let objects = try realise(lock)
        let identity = ImageIdentity(seed: request.seed, hostName: plan.hostName)
        let generation = try buildGeneration(plan: plan, lock: lock, objects: objects, identity: identity)
        let loader = plan.bootLoaderInstaller
        let boot = BootContext(rootUUID: identity.rootUUID, packages: objects, workDirectory: work)

        // The root filesystem, then the disk around it.
        let rootImage = work + "/root.img"
        try RootFilesystemWriter.write(plan.rootFilesystem, ImageRoot.nodes(generation, extra: loader.rootFiles([generation.bootspec])),
                                       to: rootImage, uuid: identity.rootUUID, seed: identity.seed,
                                       timestamp: identity.timestamp, progress: Progress.shared)
        let espFiles = try loader.espFiles([generation.bootspec], context: boot)
        let rawPath = request.format == .raw ? out.temporaryPath : work + "/disk.raw"
        try DiskAssembler.assemble(DiskSpec(
            rootFilesystemImage: rootImage, espSizeMiB: DiskAssembler.espSizeMiB(for: espFiles),
            architecture: plan.architecture, seed: identity.seed, biosBootCode: try loader.biosBootCode(context: boot),
            espFiles: espFiles, timestamp: identity.timestamp), output: rawPath, progress: Progress.shared)
        try FileManager.default.removeItem(atPath: rootImage)
        if request.format != .raw {
            Progress.shared.begin("converting to \(request.format.rawValue)")
            try FormatConverter.convert(raw: rawPath, to: request.format, output: out.temporaryPath,
                                        timestamp: identity.timestamp, seed: identity.seed,
                                        name: URL(fileURLWithPath: request.output).lastPathComponent)
            Progress.shared.end()
        }
        try out.commit()
        return BuildResult(plan: plan, generation: generation)
    }

    /// Fetches and unpacks every package of the lock: store objects by package name.
    func realise(_ lock: LockFile) throws -> [String: StoreObject] {
        let apt = APTSource(cacheDirectory: cacheDirectory, architecture: lock.architecture)
        let debs = try apt.fetch(lock.packages)
        return try Store(cacheDirectory: cacheDirectory).realise(lock.packages, debs: debs)
    }

    /// The generation from the realised packages: the configuration's runtime closure, the
    /// kernel, and the initrd's busybox.
    func buildGeneration(plan: SystemPlan, lock: LockFile, objects: [String: StoreObject], identity: ImageIdentity) throws -> Generation {
        let systemNames = Set(lock.closure(of: plan.packages.map(\.name)).map(\.name))
        let kernelClosure = lock.closure(of: [plan.kernel.package])
        guard let kernel = kernelClosure.compactMap({ objects[$0.name] })
            .first(where: { $0.manifest.entries.contains { $0.path.hasPrefix("boot/vmlinuz-") } }) else {
            throw KilnError("no package in the closure of \(plan.kernel.package) (boot.kernelPackage) contains a kernel (boot/vmlinuz-*)")
        }
        guard let busybox = objects["busybox-static"] else { throw KilnError("the lock file lacks busybox-static") }
        return try GenerationBuilder(plan: plan, identity: identity, packages: objects.filter { systemNames.contains($0.key) },
                                     kernelPackage: kernel, busybox: busybox).build()
    }
}
