import Foundation
import Crypto
import KilnSupport
import KilnModules
import KilnPackages
import KilnStore
import KilnImage

/// What `kiln build` was asked to do.
public struct BuildRequest: Sendable {
    public var profile: String
    public var hardware: String
    public var output: String
    public var format: OutputFormat
    /// Seed for UUIDs and salts; defaults to one derived from the host name.
    public var seed: String?

    public init(profile: String, hardware: String, output: String, format: OutputFormat, seed: String? = nil) {
        self.profile = profile; self.hardware = hardware; self.output = output; self.format = format; self.seed = seed
    }
}

/// The stages of DESIGN.md in order: evaluate, resolve, realise, build the generation,
/// assemble the image. Each stage decides what it needs; this reads like a table of contents.
public struct Pipeline {
    public let cacheDirectory: String
    public init(cacheDirectory: String = KilnPaths.cacheDirectory) { self.cacheDirectory = cacheDirectory }

    /// Packages every system needs besides what the configuration lists: the initrd's shell.
    static let initrdPackages = ["busybox-static"]

    /// Target-architecture packages the boot loader is made from (fetched like any other,
    /// pinned in the lock file, never installed in the root filesystem). GRUB for BIOS comes
    /// from the host's grub-pc-bin: x86_64 is the only BIOS architecture and the host's.
    static func bootPackages(_ config: SystemConfig) -> [String] {
        switch config.bootLoader.kind {
        case .systemdBoot: return ["systemd-boot-efi"]
        case .grub:
            guard config.bootLoader.grubEFI else { return [] }
            return [config.debianArchitecture == "arm64" ? "grub-efi-arm64-bin" : "grub-efi-amd64-bin"]
        }
    }

    public func evaluate(profile: String, hardware: String) throws -> SystemConfig {
        let progress = Progress.shared
        progress.begin("evaluating \(profile)")
        let config = try ProfileEvaluator(profile: profile, hardware: hardware).evaluate()
        progress.end()
        return config
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
    public func lock(config: SystemConfig, profile: String, refresh: LockRefresh = .whenMismatched) throws -> LockFile {
        let path = profile + ".lock"
        let roots = (config.packageNames + Self.initrdPackages + Self.bootPackages(config)).sorted()
        let apt = APTSource(cacheDirectory: cacheDirectory, architecture: config.debianArchitecture)
        let progress = Progress.shared
        var loadedIndex: PackageIndex?
        if refresh != .always, FileManager.default.fileExists(atPath: path) {
            let lock = try LockFile.read(path)
            if lock.roots == roots && lock.architecture == config.debianArchitecture {
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
        for w in config.packages {
            requests.append(PackageRequest(name: w.name, requestedBy: "option \(w.option) in \(w.file)"))
        }
        requests.append(PackageRequest(name: config.kernelPackage, requestedBy: "option boot.kernelPackage"))
        for p in Self.initrdPackages { requests.append(PackageRequest(name: p, requestedBy: "Kiln's initrd")) }
        for p in Self.bootPackages(config) {
            requests.append(PackageRequest(name: p, requestedBy: config.bootLoader.kind == .systemdBoot
                                           ? "option boot.loader.systemd-boot.enable" : "option boot.loader.grub.efiSupport"))
        }
        let closure = try Resolver(index: index).resolve(requests)
        let lock = LockFile(architecture: config.debianArchitecture, roots: roots, closure: closure)
        progress.end("\(closure.count) packages")
        try lock.write(path)
        progress.note("wrote \(path)")
        return lock
    }

    /// Runs the whole build and writes the image at `request.output` (atomically).
    public func build(_ request: BuildRequest) throws -> SystemBuild {
        let out = try AtomicOutput(request.output)
        let work = try KilnPaths.makeTemporaryDirectory("kiln-build")
        defer { try? FileManager.default.removeItem(atPath: work); out.discard() }

        let config = try evaluate(profile: request.profile, hardware: request.hardware)
        let lock = try lock(config: config, profile: request.profile)
        let apt = APTSource(cacheDirectory: cacheDirectory, architecture: lock.architecture)
        let debs = try apt.fetch(lock.packages)
        let store = Store(cacheDirectory: cacheDirectory)
        let objects = try store.realise(lock.packages, debs: debs)

        let systemNames = Set(lock.closure(of: config.packages.map(\.name)).map(\.name))
        let kernelClosure = lock.closure(of: [config.kernelPackage])
        guard let kernel = kernelClosure.compactMap({ objects[$0.name] })
            .first(where: { $0.manifest.entries.contains { $0.path.hasPrefix("boot/vmlinuz-") } }) else {
            throw KilnError("no package in the closure of \(config.kernelPackage) (boot.kernelPackage) contains a kernel (boot/vmlinuz-*)")
        }
        guard let busybox = objects["busybox-static"] else { throw KilnError("the lock file lacks busybox-static") }

        let identity = makeIdentity(config: config, seed: request.seed)
        let system = try SystemBuilder(config: config, identity: identity,
                                       packages: objects.filter { systemNames.contains($0.key) },
                                       kernelPackage: kernel, busybox: busybox).build()

        // The root filesystem, then the disk around it.
        let rootImage = work + "/root.img"
        let entries = system.nodes.map(Self.fsEntry)
        let contentBytes = try system.nodes.reduce(UInt64(0)) { sum, n in
            switch n.kind {
            case .file(let src):
                var st = stat()
                guard stat(src, &st) == 0 else { throw KilnError("cannot stat store file \(src)") }
                return sum + UInt64(st.st_size)
            case .data(let d): return sum + UInt64(d.count)
            default: return sum
            }
        }
        let size = ImageSizing.ext4Size(forContentBytes: contentBytes, entryCount: entries.count)
        switch config.rootFSType {
        case "btrfs":
            // DUP metadata and the minimum chunk sizes need more room than ext4's estimate.
            try BtrfsWriter.write(entries, to: rootImage, options: BtrfsOptions(
                sizeBytes: max(size + size / 4, 384 << 20), label: "kiln-root", uuid: identity.rootUUID,
                timestamp: identity.timestamp), progress: Progress.shared)
        default:
            try Ext4Writer.write(entries, to: rootImage, options: Ext4Options(
                sizeBytes: size, label: "kiln-root", uuid: uuidBytes(identity.rootUUID),
                hashSeed: SeededUUID.make(seed: identity.seed, purpose: "ext4-hash-seed"), timestamp: identity.timestamp),
                progress: Progress.shared)
        }

        let espFiles = try bootFiles(config: config, system: system, objects: objects, identity: identity, work: work)
        let rawPath = request.format == .raw ? out.temporaryPath : work + "/disk.raw"
        let arm = config.debianArchitecture == "arm64"
        try DiskAssembler.assemble(DiskSpec(
            rootFilesystemImage: rootImage, espSizeMiB: DiskAssembler.espSizeMiB(for: espFiles),
            rootPartitionTypeGUID: arm ? .rootAArch64 : .rootX86_64,
            rootPartitionName: arm ? "root-arm64" : "root-x86-64",
            seed: identity.seed,
            grubBIOS: config.bootLoader.kind == .grub && config.bootLoader.grubBIOS
                ? GrubBIOSSpec(rootFilesystemUUID: identity.rootUUID, extraModules: config.rootFSType == "btrfs" ? ["btrfs"] : [])
                : nil,
            espFiles: espFiles,
            timestamp: identity.timestamp), output: rawPath, progress: Progress.shared)
        try FileManager.default.removeItem(atPath: rootImage)
        if request.format != .raw {
            Progress.shared.begin("converting to \(request.format.rawValue)")
            try FormatConverter.convert(raw: rawPath, to: request.format, output: out.temporaryPath,
                                        timestamp: identity.timestamp, seed: identity.seed,
                                        name: URL(fileURLWithPath: request.output).lastPathComponent)
            Progress.shared.end()
        }
        try out.commit()
        return system
    }

    /// The ESP's files for the configured UEFI boot loader (none for BIOS-only GRUB).
    func bootFiles(config: SystemConfig, system: SystemBuild, objects: [String: StoreObject], identity: ImageIdentity,
                   work: String) throws -> [ESPFile] {
        let arch = EFIArchitecture(debianArchitecture: config.debianArchitecture)
        func package(_ name: String) throws -> StoreObject {
            guard let o = objects[name] else { throw KilnError("the lock file lacks \(name), which the boot loader is made from") }
            return o
        }
        switch config.bootLoader.kind {
        case .grub:
            guard config.bootLoader.grubEFI else { return [] }
            let grub = try package(arch == .aa64 ? "grub-efi-arm64-bin" : "grub-efi-amd64-bin")
            let image = try GrubEFI.makeImage(architecture: arch, moduleDirectory: grub.hostPath + "/usr/lib/grub/" + arch.grubTarget,
                                              rootFilesystemUUID: identity.rootUUID, workDirectory: work)
            return [ESPFile(arch.removablePath, .data(image))]
        case .systemdBoot:
            let sdboot = try package("systemd-boot-efi")
            let loader = sdboot.hostPath + "/usr/lib/systemd/boot/efi/systemd-boot\(arch.rawValue).efi"
            let entries = system.bootEntries.map {
                SystemdBoot.Entry(generation: $0.generation, title: $0.title, kernel: .file($0.kernelSource),
                                  initrd: .data($0.initrdData), kernelName: $0.kernelName, initrdName: $0.initrdName,
                                  options: $0.commandLine)
            }
            return try SystemdBoot.files(loader: loader, architecture: arch, entries: entries, timeout: config.bootLoaderTimeout)
        }
    }

    func makeIdentity(config: SystemConfig, seed: String?) -> ImageIdentity {
        let seedBytes = Array(SHA256.hash(data: Data(("kiln-image-seed:" + (seed ?? config.hostName)).utf8)))
        let uuid = SeededUUID.make(seed: seedBytes, purpose: "root-filesystem")
        let env = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { UInt32($0) }
        // Like the Nix store's mtime of 1: a fixed time unless the caller sets one.
        return ImageIdentity(seed: seedBytes, rootUUID: uuidString(uuid), timestamp: env ?? 1)
    }

    static func fsEntry(_ n: FileNode) -> FSEntry {
        let kind: FSEntry.Kind
        switch n.kind {
        case .directory: kind = .directory
        case .file(let s): kind = .file(source: s)
        case .data(let d): kind = .data(d)
        case .symlink(let t): kind = .symlink(target: t)
        }
        return FSEntry(path: n.path, kind: kind, mode: n.mode, uid: n.uid, gid: n.gid)
    }
}

func uuidString(_ b: [UInt8]) -> String {
    let h = b.map { String(format: "%02x", $0) }.joined()
    let c = Array(h)
    return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
}

func uuidBytes(_ s: String) -> [UInt8] {
    let hex = Array(s.replacingOccurrences(of: "-", with: "").utf8)
    var out: [UInt8] = []
    var i = 0
    while i + 1 < hex.count {
        out.append(UInt8(String(decoding: hex[i...i + 1], as: UTF8.self), radix: 16) ?? 0)
        i += 2
    }
    return out
}
