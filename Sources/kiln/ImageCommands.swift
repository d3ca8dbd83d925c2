import Foundation
import ArgumentParser
import KilnBuild
import KilnImage
import KilnInspect
import KilnModules
import KilnStore
import KilnSupport
import KilnVMTest

/// libguestfs' kernel and accelerator, decided here because only the CLI knows the cache:
/// the host's own kernel when libguestfs can read it, else Debian's from Kiln's store.
let guestfsAccess = GuestfsAccess(
    kernel: {
        if getenv("SUPERMIN_KERNEL") != nil { return nil }
        let boot = (try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? []
        if let v = boot.first(where: { $0.hasPrefix("vmlinuz-") }), access("/boot/" + v, R_OK) == 0,
           FileManager.default.fileExists(atPath: "/lib/modules/" + v.dropFirst("vmlinuz-".count) + "/modules.dep") {
            return nil
        }
        let k = try Pipeline().hostKernel()
        return ApplianceKernel(kernel: k.kernel, modules: k.modules)
    },
    kvm: { Accelerator.probe(kernel: Run.probeKernel(), cacheDirectory: KilnPaths.cacheDirectory) == .kvm },
    applianceCache: KilnPaths.cacheDirectory + "/appliance/guestfs",
    gcLock: CacheCollector.gcLockPath(KilnPaths.cacheDirectory))

/// `kiln verify IMAGE`.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every store path of an image against the registration it carries.",
        discussion: """
            Reads the image without root or mounting it: an ext4 root with Kiln's own reader (seconds), \
            btrfs through libguestfs' appliance (its start costs ~35 s under TCG, reading the store \
            minutes). Checks each store path's manifest against the registration, each file's type, \
            mode, owner, size and SHA-256 and each link's target against its manifest, files the \
            manifests do not list, and every setuid or setgid file of the filesystem (root's, writable \
            by nobody else, in the store). qcow2, VHD and VMDK images are converted to a temporary raw \
            copy first, a GCE .tar.gz unpacked. Exits 1 if anything does not match, naming each path.
            """)

    @Argument(help: "The image (raw, qcow2, vhd, vmdk, GCE .tar.gz).", completion: .file())
    var image: String

    func run() throws {
        let opened = try OpenedImage(image, guestfs: guestfsAccess)
        let report = try ImageVerifier().verify(opened)
        for p in report.privileged { print("setuid/setgid: \(p)") }
        if report.ok {
            print("\(image): \(report.paths) store paths, \(report.files) files, \(ByteCount.text(report.bytes)) match the image's registration (\(opened.reader))")
            return
        }
        for p in report.problems.prefix(50) { print("MISMATCH \(p)") }
        if report.problems.count > 50 { print("... and \(report.problems.count - 50) more") }
        throw KilnError("\(image): \(report.problems.count) problems in \(report.paths) store paths")
    }
}

/// `kiln inspect IMAGE [--json]`.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an image's generations, kernels, packages and enabled units.",
        discussion: "Read from the image itself (its registration, manifests and generations), as `kiln verify` reads it.")

    @Argument(help: "The image (raw, qcow2, vhd, vmdk, GCE .tar.gz).", completion: .file())
    var image: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let summary = try ImageSummary.read(OpenedImage(image, guestfs: guestfsAccess))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(summary.text, terminator: "")
        }
    }
}

/// `kiln diff A B`.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "List the packages added, removed and changed between two images, profiles or generations.",
        discussion: """
            Each side is an image (its current generation), IMAGE@N (generation N of the image) or a \
            profile (.nix: evaluated, locked and its packages fetched, as a build would). Prints one line \
            per package that differs, with versions and the change in size, like `nix store diff-closures`.
            """)

    @Argument(help: "The first side.", completion: .file())
    var before: String

    @Argument(help: "The second side.", completion: .file())
    var after: String

    @Option(help: hardwareHelp)
    var hardware: String?

    func run() throws {
        let a = try packages(before)
        let b = try packages(after)
        print(ClosureDiff(a, b).text, terminator: "")
    }

    private func packages(_ side: String) throws -> [PackageInfo] {
        if side.hasSuffix(".nix") {
            guard FileManager.default.fileExists(atPath: side) else { throw KilnError("the profile '\(side)' does not exist") }
            return try Pipeline().packageClosure(profile: side, hardware: Hardware(hardware)).compactMap { m in
                m.origin.map { PackageInfo(name: $0.name, version: $0.version, architecture: $0.architecture, size: m.size, storePath: m.storePath) }
            }
        }
        var path = side, generation: Int?
        if !FileManager.default.fileExists(atPath: side), let at = side.lastIndex(of: "@"), let n = Int(side[side.index(after: at)...]) {
            path = String(side[..<at]); generation = n
        }
        let summary = try ImageSummary.read(OpenedImage(path, guestfs: guestfsAccess), only: generation)
        guard let g = generation.flatMap({ n in summary.generations.first { $0.number == n } }) ?? summary.generations.first(where: \.current)
                ?? summary.generations.last else {
            throw KilnError("'\(path)' has no generation")
        }
        return g.packages
    }
}

/// `kiln resize IMAGE SIZE`.
struct Resize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resize",
        abstract: "Grow a raw disk image offline: the disk, the backup GPT, the root partition and its filesystem.",
        discussion: """
            No root, no loop device. The file grows sparse to SIZE (whole MiB); libparted moves the \
            backup GPT to the new end and extends the root partition, the last one, keeping every GUID; \
            an ext4 root is grown by resize2fs in place. A btrfs root cannot grow unmounted: its \
            partition grows now and the filesystem at the next boot if the system sets \
            fileSystems."/".autoResize = true (otherwise: btrfs filesystem resize max / on the machine). \
            Convert other formats to raw first (qemu-img convert), or grow them with qemu-img resize and \
            boot.growPartition.
            """)

    @Argument(help: "The raw image.", completion: .file())
    var image: String

    @Argument(help: "Its new size, e.g. 8G, 4096M or plain bytes; bigger than it is.")
    var size: String

    func validate() throws {
        guard ByteSize(parsing: size).map({ $0.bytes > 0 }) == true else {
            throw ValidationError("the size takes a form like 8G, 4096M or plain bytes, not '\(size)'")
        }
    }

    func run() throws {
        guard let bytes = ByteSize(parsing: size) else { return }
        let r = try DiskResizer.grow(image, to: UInt64(bytes.bytes), progress: Progress.shared)
        print("\(image): \(r.oldBytes >> 20) MiB -> \(r.newBytes >> 20) MiB; root partition \(r.rootBytes >> 20) MiB, "
              + (r.filesystemGrown ? "\(r.filesystem.rawValue) grown to fill it"
                                   : "\(r.filesystem.rawValue) grows at the next boot (fileSystems.\"/\".autoResize)"))
    }
}
