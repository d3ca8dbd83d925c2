import Foundation
import ArgumentParser
import CMimalloc
import KilnSupport
import KilnStore
import KilnBuild
import KilnImage
import KilnPrimitives
import KilnModules
import KilnPlan
import KilnStore
import KilnVMTest
import NixLang

@main
struct Kiln: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiln",
        abstract: "Build bootable NixOS-like disk images from Debian packages, unprivileged and reproducibly.",
        subcommands: [Build.self, Switch.self, GC.self, Run.self, Test.self, Lock.self, Config.self, Options.self, Eval.self, Verify.self, Inspect.self, Diff.self, Resize.self, Mkfs.self, StoreCommand.self])

    /// Errors are turned into text here and nowhere else.
    static func main() {
        // malloc and free are mimalloc's (see Package.swift). Naming one of its functions
        // keeps the library linked where the linker drops unreferenced ones (--as-needed).
        _ = mi_version()
        do {
            try checkHelpTopic(Array(CommandLine.arguments.dropFirst()))
            var command = try parseAsRoot()
            try command.run()
        } catch let e as UserFacingError {
            FileHandle.standardError.write(Data(("error: " + e.userMessage.replacingOccurrences(of: "^error: ", with: "", options: .regularExpression) + "\n").utf8))
            Foundation.exit(1)
        } catch let e as NixError {
            FileHandle.standardError.write(Data((e.description + "\n").utf8))
            Foundation.exit(1)
        } catch {
            // A Foundation file error that no stage wrapped: its path and the system's reason
            // (Error.kilnMessage), not the NSError's dump.
            let ns = error as NSError
            if ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain {
                FileHandle.standardError.write(Data("error: \(error.kilnMessage)\n".utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}

extension Kiln {
    /// `kiln help NAME...` must name subcommands. ArgumentParser's help command stops at the
    /// first word that is none, shows the help of what it has so far and exits 0, so a typo
    /// (`kiln help biuld`) looked like a successful answer. Its help command is internal to
    /// ArgumentParser, so the words are checked here, before parsing.
    static func checkHelpTopic(_ arguments: [String]) throws {
        guard arguments.first == "help" else { return }
        var command: ParsableCommand.Type = Kiln.self
        var path = ["kiln"]
        for word in arguments.dropFirst() where !word.hasPrefix("-") {
            let subcommands = command.configuration.subcommands
            if let next = subcommands.first(where: { $0._commandName == word }) {
                command = next
                path.append(word)
                continue
            }
            if path.count == 1 && word == "help" { continue }   // `kiln help help`
            let names: [String] = subcommands.map { $0._commandName }
            let parent = path.joined(separator: " ")
            if names.isEmpty { throw ValidationError("'\(parent)' has no subcommands, so no help for '\(word)'") }
            if path.count == 1 { throw ValidationError("unknown command '\(word)'; the commands are \(names.joined(separator: ", "))") }
            throw ValidationError("unknown subcommand '\(word)' of '\(parent)'; its subcommands are \(names.joined(separator: ", "))")
        }
    }
}

/// `--hardware`'s help, naming the descriptions kiln carries.
let hardwareHelp = ArgumentHelp("The machine: a shipped description (\(Embedded.hardwareNames.joined(separator: ", "))) or a .nix file (default: \(Hardware.default)).",
                                valueName: "name|file")

struct ProfileOptions: ParsableArguments {
    @Argument(help: "The system profile (.nix).")
    var profile: String

    @Option(help: hardwareHelp)
    var hardware: String?

    func machine() throws -> Hardware { try Hardware(hardware) }
}

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Build a disk image from a profile.")

    @OptionGroup var options: ProfileOptions

    @Option(name: .shortAndLong, help: "Where to write the image.")
    var output: String

    @Option(help: "Image format: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")) (default: from the output's name, else the machine's usual one, else raw).")
    var format: String?

    @Option(help: "Seed for UUIDs and salts (default: derived from the host name).")
    var seed: String?

    @Option(help: "The disk's size, e.g. 8G (whole MiB; the root partition takes the rest). Default: just big enough for the system.")
    var diskSize: String?

    func validate() throws {
        if output.isEmpty { throw ValidationError("--output is empty; name the image file to write") }
        if let diskSize, ByteSize(parsing: diskSize).map({ $0.bytes > 0 }) != true {
            throw ValidationError("--disk-size takes a size like 8G, 2048M or plain bytes, not '\(diskSize)'")
        }
        if let format, OutputFormat(rawValue: format) == nil {
            throw ValidationError("unknown format '\(format)'; choose one of \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let start = Date()
        let result = try Pipeline().build(BuildRequest(profile: options.profile, hardware: options.machine(), output: output,
                                                      format: format.flatMap(OutputFormat.init(rawValue:)), seed: seed,
                                                      diskSizeBytes: diskSize.flatMap(ByteSize.init(parsing:)).map { UInt64($0.bytes) }))
        print("\(output) (\(result.format.rawValue)): \(result.generation.toplevel.path) (\(String(format: "%.1f", Date().timeIntervalSince(start))) s)")
    }
}

struct Lock: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lock", abstract: "Resolve the profile's packages again and rewrite PROFILE.lock.")
    @OptionGroup var options: ProfileOptions

    @Flag(help: "Keep the lock unless a pinned package has left the archive or the profile's packages changed.")
    var ifStale = false

    func run() throws {
        let pipeline = Pipeline()
        let plan = try pipeline.evaluate(profile: options.profile, hardware: options.machine())
        let lock = try pipeline.lock(plan: plan, profile: options.profile, refresh: ifStale ? .whenStale : .always)
        print("\(options.profile).lock: \(lock.packages.count) packages")
    }
}

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Print what Kiln builds from a profile (its plan) as JSON.")
    @OptionGroup var options: ProfileOptions

    func run() throws {
        Progress.shared.quiet = true
        let plan = try Pipeline().evaluate(profile: options.profile, hardware: options.machine())
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try enc.encode(plan), as: UTF8.self))
    }
}

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "options",
        abstract: "List every option Kiln's modules declare, with type, default and description.")

    @Argument(help: "A profile whose own option declarations are listed too (default: none).")
    var profile: String?

    @Option(help: hardwareHelp)
    var hardware: String?

    @Flag(help: "Print the list as JSON.")
    var json = false

    @Flag(help: "Print a Markdown table of the option groups (the README's option summary).")
    var summary = false

    func run() throws {
        if let profile { try Pipeline.checkProfile(profile) }
        let text = try ProfileEvaluator(profile: profile, hardware: Hardware(hardware)).optionsJSON()
        if json { print(text); return }
        guard let list = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else {
            throw KilnError("internal: the option list is not a list")
        }
        if summary { FileHandle.standardOutput.write(Data(Self.summary(list).utf8)); return }
        var out = ""
        for o in list {
            out += "\(o["name"] as? String ?? "?")\n"
            if let t = o["type"] as? String { out += "    type: \(t)\n" }
            if let d = o["default"] { out += "    default: \(Self.show(d))\n" }
            if let d = o["description"] as? String, !d.isEmpty {
                out += "    " + d.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: "\n    ") + "\n"
            }
            if let files = o["declarations"] as? [String], !files.isEmpty {
                // Kiln's own modules by their place in the source tree, as NixOS shows <nixpkgs/...>.
                let shipped = Embedded.modulesDirectory + "/"
                let shown = files.map { $0.hasPrefix(shipped) ? "<kiln/modules/" + $0.dropFirst(shipped.count) + ">" : $0 }
                out += "    declared in: \(shown.joined(separator: ", "))\n"
            }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    /// Top-level names whose options are grouped one level deeper (`services.nginx`).
    static let groupedDeeper: Set<String> = ["services", "programs", "networking", "security", "systemd", "boot", "environment",
                                             "users", "hardware", "virtualisation", "nix", "nixpkgs"]

    /// The visible options as a Markdown table: one row per group (`services.nginx`, `boot`),
    /// sorted, with how many options it has and the names one level below it in the modules' order.
    static func summary(_ list: [[String: Any]]) -> String {
        var groups: [String: (count: Int, children: [String])] = [:]
        for o in list where (o["visible"] as? Bool ?? true) && !(o["internal"] as? Bool ?? false) {
            guard let loc = o["loc"] as? [String], let first = loc.first else { continue }
            // services.nginx.enable is under `services.nginx`; boot.kernelParams under `boot`.
            let depth = groupedDeeper.contains(first) && loc.count > 2 ? 2 : 1
            let group = loc.prefix(depth).joined(separator: ".")
            if groups[group] == nil { groups[group] = (0, []) }
            groups[group]?.count += 1
            if loc.count > depth, groups[group]?.children.contains(loc[depth]) == false { groups[group]?.children.append(loc[depth]) }
        }
        var out = "| Options | Count | Below it |\n|---|---:|---|\n"
        for g in groups.keys.sorted() {
            guard let info = groups[g] else { continue }
            let below = info.children.map {
                $0.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            }.joined(separator: ", ")
            out += "| `\(g)` | \(info.count) | \(below) |\n"
        }
        return out
    }

    /// A default as JSON text, or a literalExpression's text as written.
    static func show(_ v: Any) -> String {
        if let d = v as? [String: Any], let text = d["text"] as? String, d["_type"] != nil { return text }
        guard let data = try? JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]) else { return "\(v)" }
        return String(decoding: data, as: UTF8.self)
    }
}

struct Mkfs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mkfs",
        abstract: "Write an ext4 filesystem image holding a directory tree, like mke2fs -d.",
        discussion: """
            Owners and modes come from the tree (lstat), timestamps are SOURCE_DATE_EPOCH (default 1), \
            and the UUID comes from --seed: the same tree gives the same bytes. This is the writer \
            kiln build uses for ext4 roots; scripts/bench.sh compares it with mke2fs -d.
            """)

    @Option(help: "The directory tree to copy into the filesystem.")
    var tree: String

    @Option(name: .shortAndLong, help: "Where to write the filesystem image.")
    var output: String

    // .unconditional: a negative size reaches validate() and its message, rather than being
    // taken for an option and reported as a missing value.
    @Option(name: .customLong("size-mib"), parsing: .unconditional,
            help: "Filesystem size in MiB, \(Mkfs.sizeRange.lowerBound) to \(Mkfs.sizeRange.upperBound) (default: the tree's size plus room, as kiln build sizes roots).")
    var sizeMiB: Int?

    @Option(help: "Filesystem label.")
    var label = "kiln"

    @Option(help: "Seed for the UUID and the directory hash seed.")
    var seed = "kiln"

    /// The writer needs 16 MiB; ext4 with 4 KiB blocks addresses at most 2^48 blocks (1 EiB).
    /// Checked here, before the size is turned into bytes: outside it the conversion traps or wraps.
    static let sizeRange = 16...(1 << 40)

    func validate() throws {
        if output.isEmpty { throw ValidationError("--output is empty; name the image file to write") }
        if let sizeMiB, !Self.sizeRange.contains(sizeMiB) {
            throw ValidationError("--size-mib must be from \(Self.sizeRange.lowerBound) to \(Self.sizeRange.upperBound) (1 EiB, ext4's limit), not \(sizeMiB)")
        }
    }

    func run() throws {
        let (entries, bytes) = try FileNode.hostTree(tree)
        let size = sizeMiB.map { UInt64($0) << 20 } ?? ImageSizing.ext4Size(forContentBytes: bytes, entryCount: entries.count)
        let epoch = UInt32(ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] ?? "") ?? 1
        let options = Ext4Options(sizeBytes: size, label: label,
                                  uuid: SeededUUID.make(seed: Array(seed.utf8), purpose: "kiln-mkfs-uuid"),
                                  hashSeed: SeededUUID.make(seed: Array(seed.utf8), purpose: "kiln-mkfs-hash-seed"),
                                  timestamp: epoch)
        let out = try AtomicOutput(output)
        do {
            try Ext4Writer.write(entries, to: out.temporaryPath, options: options, progress: Progress.shared)
            try out.commit()
        } catch {
            out.discard()
            throw error
        }
        print("\(output): \(entries.count) entries, \(bytes / 1_000_000) MB of files, \(size >> 20) MiB filesystem")
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Boot an image in QEMU on the serial console.",
        discussion: "Interactive by default (Ctrl-A X quits). With --login, waits for the login prompt, logs in, runs --command and powers off.")

    @Argument(help: "The disk image.")
    var image: String

    @Option(help: "Image format: \(Run.bootableFormats.map(\.rawValue).joined(separator: ", ")) (default: from the file name).")
    var format: String?

    /// The formats QEMU boots directly (a gce tarball holds a disk.raw).
    static let bootableFormats = OutputFormat.allCases.filter { $0.qemuFormat != nil && $0 != .iso }

    @Option(help: "Log in on the console as USER:PASSWORD (non-interactive mode).")
    var login: String?

    @Option(help: "With --login: the shell command to run; its output is printed.")
    var command: String = "uname -a"

    @Option(parsing: .unconditional, help: "With --login: seconds to wait for each step.")
    var timeout: Double = 240

    @Option(parsing: .unconditional, help: "Memory in MiB.")
    var memory: Int = 1024

    @Option(help: "Firmware: bios or uefi (default: bios if the disk has BIOS boot code, else uefi).")
    var firmware: String?

    func validate() throws {
        if let firmware, !["bios", "uefi"].contains(firmware) { throw ValidationError("--firmware is bios or uefi") }
        // Checked here: an unknown name would reach qemu-img, whose message is its command line.
        if let format {
            guard let chosen = OutputFormat(rawValue: format) else {
                throw ValidationError("unknown format '\(format)'; choose one of \(Self.bootableFormats.map(\.rawValue).joined(separator: ", "))")
            }
            guard chosen.qemuFormat != nil else {
                throw ValidationError("--format \(format) is a tarball; QEMU boots the disk.raw inside it (tar -xzf it and run disk.raw)")
            }
        }
        try validateVMOptions(timeout: timeout, memory: memory)
    }

    /// QEMU's name for the format of `image`, from its extension.
    static func format(of image: String) throws -> String {
        guard let f = OutputFormat(fileName: image).qemuFormat else {
            throw KilnError("'\(image)' is a GCE tarball; QEMU boots the disk.raw inside it",
                            hint: "tar -xzf \(image) and run disk.raw")
        }
        return f
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: image) else { throw KilnError("image '\(image)' does not exist") }
        if (format.flatMap { OutputFormat(rawValue: $0) } ?? OutputFormat(fileName: image)) == .iso {
            throw KilnError("kiln run boots disk images; '\(image)' is an ISO",
                            hint: "boot it as a CD: qemu-system-x86_64 -m 1536 -cdrom \(image) -serial mon:stdio (aarch64: see the README's ISO section)")
        }
        // Kiln's format names, as kiln build takes them; QEMU calls some by others (vhd is vpc).
        let fmt = try format.flatMap { OutputFormat(rawValue: $0)?.qemuFormat } ?? Self.format(of: image)
        let disk = try DiskInfo.inspect(image, format: fmt)
        let arch = disk.architecture
        let uefi = firmware.map { $0 == "uefi" } ?? (!arch.hasBIOS || !disk.biosBootable)
        if !arch.hasBIOS && firmware == "bios" { throw KilnError("\(arch.rawValue) machines have no BIOS; use --firmware uefi") }
        // KVM only runs the host's architecture.
        let accel = arch == .x86_64 ? Accelerator.probe(kernel: Self.probeKernel(), cacheDirectory: KilnPaths.cacheDirectory) : .tcg
        var machine = MachineConfig(image: image, format: fmt, architecture: arch, memoryMiB: memory, accelerator: accel)
        if uefi {
            guard FileManager.default.fileExists(atPath: arch.uefiFirmware) else {
                throw KilnError("UEFI firmware '\(arch.uefiFirmware)' is missing", hint: "run scripts/install-deps.sh (package \(arch.uefiFirmwarePackage))")
            }
            machine.firmware = arch.uefiFirmware
        }
        Progress.shared.note("booting \(image) (\(arch.rawValue), \(uefi ? "UEFI" : "BIOS")) with \(accel.rawValue)")
        guard let login else {
            // Interactive: QEMU owns the terminal; the monitor is multiplexed for Ctrl-A X.
            var cmd = machine.commandLine
            if let i = cmd.firstIndex(of: "stdio"), i > 0, cmd[i - 1] == "-serial" { cmd[i] = "mon:stdio" }
            let p = Process()
            guard let qemu = Tool.which(cmd[0]) else { throw KilnError("\(cmd[0]) is not installed", hint: "run scripts/install-deps.sh") }
            let argv = Tool.childCommand([qemu] + cmd.dropFirst())  // dies with kiln
            p.executableURL = URL(fileURLWithPath: argv[0])
            p.arguments = Array(argv.dropFirst())
            try p.run()
            p.waitUntilExit()
            return
        }
        let parts = login.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ValidationError("--login takes USER:PASSWORD") }
        let vm = try SerialMachine(machine, echo: ProcessInfo.processInfo.environment["KILN_CONSOLE_ECHO"] == "1" ? FileHandle.standardError : nil)
        defer { vm.stop() }
        Progress.shared.begin("booting")
        let promptAt = try vm.waitFor("login:", timeout: timeout)
        Progress.shared.end("login prompt after \(String(format: "%.1f", promptAt)) s")
        vm.send(parts[0] + "\n")
        try vm.waitFor("Password:", timeout: 60)
        vm.send(parts[1] + "\n")
        try vm.waitFor("#", timeout: 60)
        let marker = "KILN-\(getpid())"
        vm.send("echo \(marker)-BEGIN; \(command); echo \(marker)-END-$?\n")
        try vm.waitFor("\(marker)-BEGIN\r\n", timeout: timeout)
        try vm.waitFor("\(marker)-END-", timeout: timeout)
        let log = vm.consoleLog
        if let b = log.range(of: "\(marker)-BEGIN\r\n", options: .backwards), let e = log.range(of: "\(marker)-END-", options: .backwards), b.upperBound <= e.lowerBound {
            print(log[b.upperBound..<e.lowerBound].replacingOccurrences(of: "\r\n", with: "\n"), terminator: "")
        }
        vm.send("systemctl poweroff\n")
        if let dir = ProcessInfo.processInfo.environment["KILN_CONSOLE_LOG"] {
            try? log.write(toFile: dir, atomically: true, encoding: .utf8)
        }
    }

    /// A kernel from Kiln's store for the KVM probe.
    static func probeKernel() -> String? {
        let store = KilnPaths.cacheDirectory + "/store"
        let objects = (try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []
        for o in objects.sorted() where o.contains("-linux-image-") && !o.hasSuffix(".json") {
            let boot = store + "/" + o + "/boot"
            if let k = (try? FileManager.default.contentsOfDirectory(atPath: boot))?.first(where: { $0.hasPrefix("vmlinuz-") }) {
                return boot + "/" + k
            }
        }
        return nil
    }
}


/// The longest wait `--timeout` may ask for. Waits are reported and passed to the guest's
/// `timeout` as whole seconds, so the value must be finite and fit an Int; a day is more than
/// any boot or test step needs.
let maximumTimeout: Double = 86_400

/// `--timeout` and `--memory` of `kiln run` and `kiln test`, checked before anything is built
/// or booted.
func validateVMOptions(timeout: Double, memory: Int) throws {
    guard timeout > 0 && timeout <= maximumTimeout else {
        throw ValidationError("--timeout must be more than 0 and at most \(Int(maximumTimeout)) seconds (a day), not \(String(format: "%g", timeout))")
    }
    guard memory > 0 else { throw ValidationError("--memory must be a positive number of MiB, not \(memory)") }
}
