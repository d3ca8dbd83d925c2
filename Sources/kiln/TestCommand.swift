import Foundation
import ArgumentParser
import KilnSupport
import KilnBuild
import KilnModules
import KilnVMTest
import KilnStore
import NixLang

/// `kiln test qemu-tests/NAME.nix`: builds each node, boots them on a shared LAN, runs the
/// test script, exits 0 only if it passed.
struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a VM test: build its nodes, boot them in QEMU and run its test script.",
        discussion: """
            A test file is { name = "…"; nodes.<machine> = <module>; testScript = '' … ''; } \
            and may name its hardware (hardware = ../hardware/qemu-aarch64.nix;). \
            Each node is built with Kiln's test module (a backdoor root shell on hvc0, the test LAN) \
            and gets 192.168.1.<n> in node order; /etc/hosts names every node. The run's directory \
            holds log.txt, each machine's console log and the screenshots.
            """)

    @Argument(help: "The test file (.nix).")
    var file: String

    @Option(help: "The machine description (.nix) from hardware/ (default: hardware/qemu-x86_64.nix).")
    var hardware: String?

    @Option(help: "Write JUnit XML (one test case per subtest) to this file.")
    var junit: String?

    @Option(name: .customLong("out"), help: "The run's report directory (default: a new directory under the cache's test-runs/).")
    var outputDirectory: String?

    @Option(help: "Default timeout in seconds of every wait and command.")
    var timeout: Double = 300

    @Option(help: "Memory per machine in MiB.")
    var memory: Int = 1024

    @Flag(help: "Show the machines' console output as it arrives.")
    var console = false

    @Flag(help: "Boot through the image's firmware and boot loader instead of loading the kernel and initrd directly (slower; the boot matrix tests loaders).")
    var bootLoader = false

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() throws {
        do { try runTest() } catch let skip as SkipTest {
            FileHandle.standardError.write(Data("SKIPPED \(file): \(skip.reason)\n".utf8))
            throw ExitCode(77)
        }
    }

    private func runTest() throws {
        let started = Date()
        let testFile = URL(fileURLWithPath: file).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: testFile) else { throw KilnError("test file '\(file)' does not exist") }
        let test = try TestFile.load(testFile)
        let hardwarePath = try resolveHardware(testFile: testFile, fromTest: test.hardware)
        let script = try TestScript(parsing: test.testScript)  // syntax errors before any build
        guard !test.nodes.isEmpty else { throw KilnError("\(file) defines no nodes (nodes.<machine> = { … })") }

        // Build every node.
        let work = KilnPaths.cacheDirectory + "/tests/\(test.name)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let hosts = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
            + test.nodes.enumerated().map { "192.168.1.\($0.offset + 1) \($0.element)\n" }.joined()
        var specs: [MachineSpec] = []
        var accel: Accelerator?
        for (i, node) in test.nodes.enumerated() {
            let profile = work + "/\(node).nix"
            try writeNodeProfile(profile, testFile: testFile, node: node, address: "192.168.1.\(i + 1)", hosts: hosts)
            let image = work + "/\(node).raw"
            let buildStart = Date()
            Progress.shared.note("building node \(node)")
            let system = try Pipeline().build(BuildRequest(profile: profile, hardware: hardwarePath, output: image, format: .raw,
                                                           seed: "kiln-test-\(test.name)-\(node)"))
            let config = try ProfileEvaluator(profile: profile, hardware: hardwarePath).evaluate()
            Progress.shared.note(String(format: "built node %@ in %.1f s", node, Date().timeIntervalSince(buildStart)))
            let arch = config.hostPlatform.hasPrefix("aarch64") ? "aarch64" : "x86_64"
            // KVM only runs the host's architecture.
            let a = arch != "x86_64" ? .tcg : accel ?? Accelerator.probe(kernel: Run.probeKernel(), cacheDirectory: KilnPaths.cacheDirectory)
            if arch == "x86_64" { accel = a }
            var machine = MachineConfig(image: image, format: "raw", architecture: arch, memoryMiB: memory, accelerator: a)
            if !bootLoader {
                // Like NixOS tests: QEMU loads the generation's kernel and initrd itself, which
                // skips the firmware and the loader's disk reads (~8 s under TCG).
                let kernel = try Self.hostFile(system.kernel, in: system.nodes, work: work + "/\(node).kernel")
                let initrd = try Self.hostFile(system.initrd, in: system.nodes, work: work + "/\(node).initrd")
                machine.extraArguments += ["-kernel", kernel, "-initrd", initrd, "-append", system.kernelCommandLine]
            } else if arch != "x86_64" || (config.bootLoader.uefi && !config.bootLoader.grubBIOS) {
                let fw = MachineConfig.uefiFirmware(architecture: arch)
                guard FileManager.default.fileExists(atPath: fw) else {
                    throw KilnError("UEFI firmware '\(fw)' is missing", hint: "run scripts/install-deps.sh (packages ovmf, qemu-efi-aarch64)")
                }
                machine.firmware = fw
            }
            specs.append(MachineSpec(name: node, config: machine, consoleDevice: config.console))
        }

        // Run.
        let outDir = outputDirectory ?? KilnPaths.cacheDirectory + "/test-runs/\(test.name)-\(Self.timestamp())"
        let driver = try Driver(testName: test.name, specs: specs, outputDirectory: outDir, defaultTimeout: timeout,
                                echoConsole: console)
        let runStart = Date()
        driver.logger.log("running test '\(test.name)' (\(test.nodes.joined(separator: ", ")))")
        let failure = driver.run(script)
        let seconds = Date().timeIntervalSince(runStart)
        for (m, t) in driver.firstSuccessTimes {
            driver.logger.log(String(format: "%@: first successful command %.1f s after start", m, t))
        }
        if let junit {
            let xml = driver.logger.junitXML(testName: test.name, failure: failure, seconds: seconds)
            do { try xml.write(toFile: junit, atomically: true, encoding: .utf8) } catch {
                throw KilnError("cannot write the JUnit report \(junit): \(error.localizedDescription)")
            }
        }
        let total = String(format: "%.1f", Date().timeIntervalSince(started))
        if let failure {
            driver.logger.log("test '\(test.name)' FAILED after \(total) s: \(failure)")
            FileHandle.standardError.write(Data("report: \(outDir)\n".utf8))
            throw ExitCode(1)
        }
        driver.logger.log("test '\(test.name)' passed in \(total) s (script \(String(format: "%.1f", seconds)) s); report: \(outDir)")
    }

    /// A file of the image as a file on the host: the store file it was copied from, or its
    /// generated bytes written to `work`. Follows symbolic links inside the image.
    static func hostFile(_ path: String, in nodes: [FileNode], work: String) throws -> String {
        var byPath: [String: FileNode] = [:]
        for n in nodes { byPath[n.path] = n }
        var p = path
        for _ in 0..<8 {
            guard let n = byPath[p] else { break }
            switch n.kind {
            case .file(let source): return source
            case .data(let bytes):
                if (try? Data(contentsOf: URL(fileURLWithPath: work))) != Data(bytes) {
                    guard FileManager.default.createFile(atPath: work, contents: Data(bytes)) else { throw KilnError("cannot write \(work)") }
                }
                return work
            case .symlink(let target):
                p = target.hasPrefix("/") ? target : URL(fileURLWithPath: p).deletingLastPathComponent().appendingPathComponent(target).standardizedFileURL.path
            case .directory: throw KilnError("\(path) is a directory in the image, not a file")
            }
        }
        throw KilnError("\(path) is not a file of the built image", hint: "run kiln test with --boot-loader")
    }

    /// `--hardware`, else the test's own `hardware`, else `hardware/qemu-x86_64.nix` beside the
    /// test's folder or in the current directory. A test whose own hardware file or QEMU is
    /// missing is skipped (exit status 77), not failed.
    private func resolveHardware(testFile: String, fromTest: String?) throws -> String {
        if hardware == nil, let fromTest {
            guard FileManager.default.fileExists(atPath: fromTest) else {
                throw SkipTest(reason: "its hardware file \(fromTest) does not exist yet")
            }
            let text = (try? String(contentsOfFile: fromTest, encoding: .utf8)) ?? ""
            let arch = text.contains("aarch64-linux") ? "aarch64" : "x86_64"
            guard Tool.which("qemu-system-\(arch)") != nil else {
                throw SkipTest(reason: "qemu-system-\(arch) is not installed (scripts/install-deps.sh installs it)")
            }
            return fromTest
        }
        if let hardware {
            guard FileManager.default.fileExists(atPath: hardware) else {
                throw KilnError("the hardware file '\(hardware)' does not exist", hint: "the machine descriptions are in hardware/")
            }
            return URL(fileURLWithPath: hardware).standardizedFileURL.path
        }
        let dir = URL(fileURLWithPath: testFile).deletingLastPathComponent()
        for c in [dir.appendingPathComponent("../hardware/qemu-x86_64.nix").standardizedFileURL.path,
                  FileManager.default.currentDirectoryPath + "/hardware/qemu-x86_64.nix"] where FileManager.default.fileExists(atPath: c) {
            return c
        }
        throw KilnError("no hardware/qemu-x86_64.nix found beside \(file)", hint: "pass --hardware")
    }

    /// The profile of one node: the node's module from the test file plus Kiln's test module.
    /// It lives in the cache so its lock file persists between runs.
    private func writeNodeProfile(_ path: String, testFile: String, node: String, address: String, hosts: String) throws {
        let text = """
            # Generated by `kiln test` for node '\(node)' of \(testFile).
            { pkgs, lib, ... }:
            let
              test = import \(TestFile.nixPath(testFile));
              t = if builtins.isFunction test then test { inherit pkgs lib; } else test;
            in
            {
              imports = [ t.nodes.\(TestFile.nixString(node)) \(TestFile.nixPath(ProfileEvaluator.modulesDirectory + "/testing.nix")) ];
              networking.hostName = lib.mkOverride 900 \(TestFile.nixString(node));  # over base.nix's mkDefault
              kiln.testing.address = "\(address)";
              kiln.testing.hosts = \(TestFile.nixString(hosts));
            }

            """
        if (try? String(contentsOfFile: path, encoding: .utf8)) == text { return }
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw KilnError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    static func timestamp() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f.string(from: Date()) + "-\(getpid())"
    }
}

/// A test that cannot run here (missing hardware description or QEMU): reported, not failed.
struct SkipTest: Error {
    var reason: String
}

/// The parts of a test file the driver needs: its name, node names (in order), script and
/// (optionally) the hardware file its nodes are built for.
struct TestFile {
    var name: String
    var nodes: [String]
    var testScript: String
    var hardware: String?

    static func load(_ path: String) throws -> TestFile {
        let lib = ProfileEvaluator.modulesDirectory + "/lib.nix"
        let expr = """
            let
              test = import \(nixPath(path));
              t = if builtins.isFunction test then test { lib = import \(nixPath(lib)); pkgs = { }; } else test;
            in {
              name = t.name or "";
              nodes = builtins.attrNames (t.nodes or { });
              testScript = t.testScript or (throw "the test has no testScript");
              hardware = if t ? hardware then toString t.hardware else null;
            }
            """
        let json: String = try runWithLargeStack {
            let ev = Evaluator()
            let v = try ev.evalString(expr, fileName: "«kiln test»", baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path)
            return try ev.toJSON(v)
        }
        guard let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let nodes = obj["nodes"] as? [String], let script = obj["testScript"] as? String else {
            throw KilnError("\(path) must be { name = \"…\"; nodes.<machine> = { … }; testScript = '' … ''; }")
        }
        for n in nodes where n.range(of: "^[A-Za-z_][A-Za-z0-9_-]*$", options: .regularExpression) == nil || n.contains("-") {
            throw KilnError("the node name '\(n)' in \(path) is not usable as a host and script name", hint: "use letters, digits and _")
        }
        var name = (obj["name"] as? String) ?? ""
        if name.isEmpty { name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent }
        name = name.replacingOccurrences(of: "[^A-Za-z0-9._-]", with: "-", options: .regularExpression)
        return TestFile(name: name, nodes: nodes, testScript: script, hardware: obj["hardware"] as? String)
    }

    /// A Nix path expression for an absolute path, whatever characters it holds.
    static func nixPath(_ p: String) -> String { "(/. + \(nixString(p)))" }

    static func nixString(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "${", with: "\\${").replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
