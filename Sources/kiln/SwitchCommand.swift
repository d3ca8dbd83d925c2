import Foundation
import ArgumentParser
import KilnBuild
import KilnDeploy
import KilnModules
import KilnPlan
import KilnSupport
import KilnVMTest

/// `kiln switch`, like `nixos-rebuild switch --target-host`.
struct Switch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switch",
        abstract: "Build a profile's next generation and switch a running Kiln machine to it over SSH.",
        discussion: """
            The generation is built here; only the store paths the machine lacks are sent, checked \
            against their manifests there and renamed into its store, so a cut transfer leaves the \
            machine as it was. It becomes generation N+1 (/nix/var/kiln/profiles/system-N-link) \
            and is applied as --action says: switch (activate now and boot it by default), boot \
            (boot it by default; nothing changes now), test (activate now; the boot menu stays), \
            dry-activate (say what switch would stop, start, restart and reload). --rollback and \
            --generation N apply an existing generation instead, and build nothing.
            SSH: batch mode, as root (or as USER with --use-remote-sudo), with KILN_SSH_OPTS added \
            (e.g. KILN_SSH_OPTS='-i KEY').
            """)

    @Argument(help: "The system profile (.nix); not with --rollback or --generation.")
    var profile: String?

    @Option(help: "The machine: [USER@]HOST[:PORT].")
    var targetHost: String

    @Option(help: hardwareHelp)
    var hardware: String?

    @Flag(name: [.customLong("use-remote-sudo"), .customLong("sudo")],
          help: "Log in as the --target-host user and run every command there through sudo (it must not ask for a password).")
    var useRemoteSudo = false

    @Option(help: "switch, boot, test or dry-activate (default: switch).")
    var action: String = "switch"

    @Flag(help: "Same as --action boot.")
    var boot = false

    @Flag(help: "With boot: the new generation boots once, and stays the default only if that boot reaches multi-user.target with no failed unit; otherwise the next boot is the previous generation's.")
    var trial = false

    @Flag(help: "Go back to the generation before the current one.")
    var rollback = false

    // .unconditional, as every number option of kiln: `--generation -1` reaches validate() and
    // its message instead of being taken for an option and reported as a missing value.
    @Option(parsing: .unconditional, help: "Go to generation N of the machine (generations count from 1).")
    var generation: Int?

    @Option(help: "Seed for salts (default: derived from the host name, as kiln build).")
    var seed: String?

    var chosenAction: Deployment.Action { boot ? .boot : Deployment.Action(rawValue: action) ?? .switch }

    func validate() throws {
        guard Deployment.Action(rawValue: action) != nil else {
            throw ValidationError("unknown action '\(action)'; choose one of \(Deployment.Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let generation, generation < 1 { throw ValidationError("--generation must be at least 1 (generations count from 1), not \(generation)") }
        if rollback && generation != nil { throw ValidationError("--rollback and --generation exclude each other") }
        if (rollback || generation != nil) && profile != nil { throw ValidationError("--rollback and --generation apply a generation the machine has; they take no profile") }
        if !(rollback || generation != nil) && profile == nil { throw ValidationError("name the profile to build, or use --rollback or --generation N") }
        if trial && chosenAction != .boot { throw ValidationError("--trial goes with --boot (the trial generation is tried at the next boot)") }
        if trial && (rollback || generation != nil) { throw ValidationError("--trial is for a new generation") }
    }

    func run() throws {
        let start = Date()
        // Before connecting: the machine is asked for its generations before anything is evaluated.
        if let profile { try Pipeline.checkProfile(profile) }
        let deployment = Deployment(target: try TargetHost(targetHost, sudo: useRemoteSudo))
        if let profile {
            try deployment.deploy(profile: profile, hardware: try Hardware(hardware), action: chosenAction, trial: trial, seed: seed)
        } else {
            try deployment.select(generation: generation, action: chosenAction)
        }
        Progress.shared.note("\(chosenAction.rawValue) on \(targetHost): done in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    }
}

/// `kiln gc --target-host`: a machine's old generations and unreferenced store paths.
struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete a machine's old generations and unreferenced store paths, or trim Kiln's own cache.",
        discussion: """
            With --target-host, runs kiln-gc on the machine (which has it in its system path, to run there too). The \
            current, booted and trial generations are never deleted. Without --delete-older-than or \
            --keep, no generation is deleted, only store paths nothing references.
            Without --target-host, deletes the store objects and .debs of Kiln's cache that no \
            *.nix.lock file under --roots pins; a build running meanwhile is waited for.
            With --max-size, then deletes the least recently used store objects (each with its \
            manifest), .debs and libguestfs' appliance until the cache's store, debs and appliance \
            folders take at most that size on disk (as du counts it). A build marks each object and .deb \
            it uses, kiln verify/inspect/diff the appliance they start; a later build fetches or \
            unpacks again what it needs. With --max-size or --appliance and no --roots, no lock is \
            read: only the size (or the appliance) decides, so `kiln gc --max-size 5G` run from any \
            folder keeps what was used last. The size wins over the locks: a pinned package used \
            long ago goes too (its next build fetches it again). APT's indexes and the VM tests' \
            folders are not counted.
            --appliance deletes libguestfs' appliance (~0.5 GB; kiln verify, inspect and diff of a \
            btrfs image build it again, without the network, in about a minute).
            """)

    @Option(help: "The machine: [USER@]HOST[:PORT]. Without it, Kiln's own cache is collected.")
    var targetHost: String?

    @Flag(name: [.customLong("use-remote-sudo"), .customLong("sudo")],
          help: "With --target-host: log in as its user and run kiln-gc there through sudo (it must not ask for a password).")
    var useRemoteSudo = false

    @Option(name: .customLong("roots"), parsing: .upToNextOption,
            help: "Without --target-host: the folders (or lock files) whose *.nix.lock files keep their packages in the cache (default: the current folder, unless --max-size or --appliance is given).")
    var roots: [String] = []

    @Option(name: .customLong("max-size"), help: ArgumentHelp(
        "Without --target-host: then delete the least recently used until the cache takes at most this (2G, 500M, 1024K, bytes).",
        valueName: "size"))
    var maxSize: String?

    @Flag(help: "Without --target-host: delete libguestfs' appliance from the cache (it is built again when needed).")
    var appliance = false

    @Flag(help: "Without --target-host: delete the boots `kiln test` saved to resume unchanged machines from (at most \(VMSnapshots.keep) are kept anyway).")
    var vmSnapshots = false

    @Option(help: "Delete generations older than this many days (e.g. 30d).")
    var deleteOlderThan: String?

    @Option(parsing: .unconditional, help: "Keep the newest N generations.")
    var keep: Int?

    @Flag(help: "Say what would be deleted, and delete nothing.")
    var dryRun = false

    func validate() throws {
        if let d = deleteOlderThan, Int(d.hasSuffix("d") ? String(d.dropLast()) : d) == nil {
            throw ValidationError("--delete-older-than takes days, e.g. 30d")
        }
        if let keep, keep < 1 { throw ValidationError("--keep must be at least 1, not \(keep)") }
        if deleteOlderThan != nil && keep != nil { throw ValidationError("--delete-older-than and --keep exclude each other") }
        if targetHost == nil && (deleteOlderThan != nil || keep != nil) { throw ValidationError("--delete-older-than and --keep are for a machine's generations (--target-host)") }
        if targetHost == nil && useRemoteSudo { throw ValidationError("--use-remote-sudo is for a machine's generations (--target-host)") }
        if targetHost != nil && !roots.isEmpty { throw ValidationError("--roots is for Kiln's own cache, not with --target-host") }
        if targetHost != nil && (maxSize != nil || appliance || vmSnapshots) {
            throw ValidationError("--max-size, --appliance and --vm-snapshots are for Kiln's own cache, not with --target-host")
        }
        if let maxSize, ByteSize(parsing: maxSize) == nil {
            throw ValidationError("--max-size takes a size like 2G, 500M, 1024K or plain bytes, not '\(maxSize)'")
        }
    }

    /// The cache collection asked for: the locks under --roots pin packages when --roots is
    /// given, or when nothing else is asked (then the current folder's locks, as before
    /// --max-size existed); a size bound alone reads no lock, whatever the current folder holds.
    var cacheRequest: CacheCollector.Request {
        let bound = maxSize.flatMap { ByteSize(parsing: $0) }
        let useRoots = !roots.isEmpty || (bound == nil && !appliance && !vmSnapshots)
        return CacheCollector.Request(roots: useRoots ? (roots.isEmpty ? [FileManager.default.currentDirectoryPath] : roots) : nil,
                                      maxBytes: bound?.bytes, appliance: appliance, dryRun: dryRun)
    }

    func run() throws {
        guard let targetHost else {
            let cache = KilnPaths.cacheDirectory
            if vmSnapshots {
                let bytes = VMSnapshots(cacheDirectory: cache).removeAll(dryRun: dryRun)
                print("\(dryRun ? "would delete" : "deleted") the VM tests' saved boots, \(dryRun ? "freeing" : "freed") \(ByteSize(bytes: Int64(bytes)).mebibytes)")
                if roots.isEmpty && maxSize == nil && !appliance { return }
            }
            let request = cacheRequest
            Progress.shared.begin("collecting \(cache)")
            let r = try CacheCollector(cacheDirectory: cache).collect(request)
            Progress.shared.end()
            for line in Self.report(r, request: request, maxSize: maxSize) { print(line) }
            return
        }
        var args: [String] = []
        if let d = deleteOlderThan { args += ["--delete-older-than", d.hasSuffix("d") ? d : d + "d"] }
        if let keep { args += ["--keep", String(keep)] }
        if dryRun { args.append("--dry-run") }
        try Deployment(target: try TargetHost(targetHost, sudo: useRemoteSudo)).collectGarbage(arguments: args)
    }

    /// One line per reason something was (or would be) deleted.
    static func report(_ r: CacheCollector.Result, request: CacheCollector.Request, maxSize: String?) -> [String] {
        let (delete, free) = request.dryRun ? ("would delete", "freeing") : ("deleted", "freed")
        var lines: [String] = []
        if let roots = request.roots {
            let u = r.unpinned
            lines.append("\(delete) \(u.objects) store objects and \(u.debs) .debs that none of \(r.locks) lock files under \(roots.joined(separator: ", ")) pins, \(free) \(u.bytes >> 20) MiB")
        }
        if request.appliance {
            lines.append(r.asked.appliance ? "\(delete) libguestfs' appliance, \(free) \(ByteSize(bytes: r.asked.bytes).mebibytes)"
                                           : "the cache holds no libguestfs appliance")
        }
        if let remaining = r.remaining, let maxSize {
            let l = r.leastRecentlyUsed
            let what = "\(l.objects) store objects and \(l.debs) .debs" + (l.appliance ? " and libguestfs' appliance" : "")
            let now = ByteSize(bytes: remaining).mebibytes
            let bound = ByteSize(parsing: maxSize).map { $0.bytes } ?? 0
            lines.append("\(delete) \(what), least recently used first, \(free) \(ByteSize(bytes: l.bytes).mebibytes): "
                         + "the store, .debs and appliance \(request.dryRun ? "would take" : "take") \(now)"
                         + (remaining <= bound ? ", at most \(maxSize)" : ", more than \(maxSize): what is left is the folders themselves"))
        }
        return lines
    }
}
