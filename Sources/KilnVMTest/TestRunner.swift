import Foundation
import KilnBuild
import KilnModules
import KilnPlan
import KilnPrimitives
import KilnSupport

/// `kiln test`: builds each node of a test file (each evaluated once), boots them on a shared
/// LAN and runs the test script; the NixOS driver's `nixos-test-driver` with the build in front.
public struct TestRunner {
    public struct Options: Sendable {
        /// `--hardware`: overrides the test's own.
        public var hardware: String?
        public var junit: String?
        /// The run's report directory (default: a new one under the cache's test-runs/).
        public var outputDirectory: String?
        public var timeout: Double = 300
        public var memory: Int = 1024
        public var echoConsole = false
        /// Boot through firmware and boot loader instead of loading kernel and initrd directly.
        public var throughBootLoader = false
        /// A Python prompt with the machines defined and none started, instead of the script.
        public var interactive = false
        /// Always boot, neither loading nor saving a machine's saved boot.
        public var noSnapshot = false
        public init() {}
    }

    /// A test that cannot run here (its emulator is not installed): reported, not failed.
    public struct Skipped: Error, Sendable {
        public var reason: String
    }

    /// A test whose script failed (the report says where).
    public struct Failed: Error, Sendable {
        public var reportDirectory: String
    }

    public let file: String
    public let options: Options
    public let cacheDirectory: String

    public init(file: String, options: Options, cacheDirectory: String = KilnPaths.cacheDirectory) {
        self.file = URL(fileURLWithPath: file).standardizedFileURL.path
        self.options = options
        self.cacheDirectory = cacheDirectory
    }

    /// Builds, boots and runs. - Throws: `Skipped`, `Failed`, or the build's error.
    public func run() throws {
        let started = Date()
        guard FileManager.default.fileExists(atPath: file) else { throw KilnError("test file '\(file)' does not exist") }
        let test = try TestFile.load(file)
        guard !test.nodes.isEmpty else { throw KilnError("\(file) defines no nodes (nodes.<machine> = { … })") }
        let hardware = try Hardware(options.hardware ?? test.hardware)

        // Build every node; its lock file and image live in the cache, so reruns are quick.
        let work = cacheDirectory + "/tests/\(test.name)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let hosts = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
            + test.nodes.enumerated().map { "192.168.1.\($0.offset + 1) \($0.element)\n" }.joined()
        var profiles: [String: String] = [:]
        for (i, node) in test.nodes.enumerated() {
            let profile = work + "/\(node).nix"
            try writeIfChanged(profile, test.nodeProfile(node, address: "192.168.1.\(i + 1)", hosts: hosts))
            profiles[node] = profile
        }
        // The script (a function of the nodes' configurations is called now) and its syntax
        // errors, before any build.
        let text = try test.renderScript(nodeProfiles: profiles, hardware: hardware)
        let script = TestScriptSource(text: text, file: test.path, firstLine: test.scriptFirstLine(text))
        try PythonDriver.check(script)

        var specs: [MachineSpec] = []
        var kvm: Accelerator?
        for node in test.nodes {
            let profile = work + "/\(node).nix"
            let plan = try Pipeline(cacheDirectory: cacheDirectory).evaluate(profile: profile, hardware: hardware)
            let arch = plan.architecture
            guard Tool.which(arch.qemuBinary) != nil else {
                throw Skipped(reason: "\(arch.qemuBinary) is not installed (scripts/install-deps.sh installs it)")
            }
            let image = work + "/\(node).raw"
            let buildStart = Date()
            Progress.shared.note("building node \(node)")
            let built = try Pipeline(cacheDirectory: cacheDirectory).build(
                BuildRequest(profile: profile, hardware: hardware, output: image, format: .raw, seed: "kiln-test-\(test.name)-\(node)"),
                plan: plan)
            Progress.shared.note(String(format: "built node %@ in %.1f s", node, Date().timeIntervalSince(buildStart)))
            // KVM only runs the host's architecture.
            let accel: Accelerator = arch != .x86_64 ? .tcg : kvm ?? Accelerator.probe(kernel: built.generation.bootspec.kernelSource,
                                                                                          cacheDirectory: cacheDirectory)
            if arch == .x86_64 { kvm = accel }
            var machine = MachineConfig(image: image, format: "raw", architecture: arch, memoryMiB: options.memory, accelerator: accel)
            if !options.throughBootLoader {
                // Like NixOS tests: QEMU loads the generation's kernel and initrd itself, which
                // skips the firmware and the loader's disk reads (~8 s under TCG).
                let boot = built.generation.bootspec
                let initrd = work + "/\(node).initrd"
                try writeIfChanged(initrd, Data(boot.initrdData))
                machine.extraArguments += ["-kernel", boot.kernelSource, "-initrd", initrd, "-append", boot.commandLine]
            } else if !arch.hasBIOS || plan.bootLoader.preferredFirmware == .uefi {
                guard FileManager.default.fileExists(atPath: arch.uefiFirmware) else {
                    throw KilnError("UEFI firmware '\(arch.uefiFirmware)' is missing",
                                    hint: "run scripts/install-deps.sh (package \(arch.uefiFirmwarePackage))")
                }
                machine.firmware = arch.uefiFirmware
            }
            var slot: VMSnapshots.Slot?
            if !options.noSnapshot {
                // Everything that decides the machine's state when its backdoor first answers.
                let fm = FileManager.default
                let imageSize = (try? fm.attributesOfItem(atPath: image)[.size] as? UInt64).map { String($0) } ?? "?"
                let qemuBuilt = Tool.which(arch.qemuBinary).flatMap { try? fm.attributesOfItem(atPath: $0)[.modificationDate] as? Date }
                slot = VMSnapshots(cacheDirectory: cacheDirectory).slot(for: [
                    "kiln-vm-snapshot-2", test.name, test.nodes.joined(separator: ","), node, built.generation.toplevel.description,
                    built.generation.bootspec.commandLine, Hex.encode(Digest.sha256(built.generation.bootspec.initrdData)),
                    machine.commandLine.joined(separator: " "), imageSize, "\(qemuBuilt?.timeIntervalSince1970 ?? 0)",
                ])
            }
            specs.append(MachineSpec(name: node, config: machine, consoleDevice: plan.kernel.console, snapshotSlot: slot))
        }

        // Run.
        let outDir = options.outputDirectory ?? cacheDirectory + "/test-runs/\(test.name)-\(Self.timestamp())"
        let driver = try Driver(testName: test.name, specs: specs, outputDirectory: outDir, defaultTimeout: options.timeout,
                                echoConsole: options.echoConsole)
        let runStart = Date()
        driver.logger.log("running test '\(test.name)' (\(test.nodes.joined(separator: ", ")))")
        let failure = driver.run(script, interactive: options.interactive, allowedFailedUnits: test.allowedFailedUnits)
        let seconds = Date().timeIntervalSince(runStart)
        for m in driver.machines {
            guard let t = m.firstSuccessAfter else { continue }
            driver.logger.log(String(format: "%@: first successful command %.1f s after start%@", m.name, t,
                                     m.restoredFromSnapshot ? " (from its saved boot)" : ""))
        }
        if !options.noSnapshot { VMSnapshots(cacheDirectory: cacheDirectory).trim() }
        if let junit = options.junit {
            let xml = driver.logger.junitXML(testName: test.name, failure: failure, seconds: seconds)
            do { try xml.write(toFile: junit, atomically: true, encoding: .utf8) } catch {
                throw KilnError("cannot write the JUnit report \(junit): \(error.localizedDescription)")
            }
        }
        let total = String(format: "%.1f", Date().timeIntervalSince(started))
        if let failure {
            driver.logger.log("test '\(test.name)' FAILED after \(total) s: \(failure)")
            throw Failed(reportDirectory: outDir)
        }
        driver.logger.log("test '\(test.name)' passed in \(total) s (script \(String(format: "%.1f", seconds)) s); report: \(outDir)")
    }

    private func writeIfChanged(_ path: String, _ text: String) throws { try writeIfChanged(path, Data(text.utf8)) }

    /// Writes only when the content differs, so unchanged inputs keep their timestamps.
    private func writeIfChanged(_ path: String, _ data: Data) throws {
        if FileManager.default.contents(atPath: path) == data { return }
        guard FileManager.default.createFile(atPath: path, contents: data) else { throw KilnError("cannot write \(path)") }
    }

    static func timestamp() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f.string(from: Date()) + "-\(getpid())"
    }
}
