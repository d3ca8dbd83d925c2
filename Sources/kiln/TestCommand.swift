import Foundation
import ArgumentParser
import KilnSupport
import KilnVMTest

/// `kiln test FILE`: the arguments for `TestRunner`, and its outcome as an exit status.
struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a VM test: build its nodes, boot them in QEMU and run its test script.",
        discussion: """
            A test file is written as NixOS writes them: { name = "…"; nodes.<machine> = <module>; \
            testScript = '' … ''; } (or a function { pkgs, lib, ... }: { … }; testScript may be a \
            function { nodes, ... }: '' … '' of the nodes' configurations), and may name its machine \
            (hardware = "qemu-aarch64"; or a .nix file). The script runs in python3 with the NixOS \
            test driver's API (README.md lists it). \
            Each node is built with Kiln's test module (a backdoor root shell on hvc0, the test LAN) \
            and gets 192.168.1.<n> in node order; /etc/hosts names every node. The run's directory \
            holds log.txt, each machine's console log and the screenshots.
            """)

    @Argument(help: "The test file (.nix).")
    var file: String

    @Option(help: hardwareHelp)
    var hardware: String?

    @Option(help: "Write JUnit XML (one test case per subtest) to this file.")
    var junit: String?

    @Option(name: .customLong("out"), help: "The run's report directory (default: a new directory under the cache's test-runs/).")
    var outputDirectory: String?

    @Option(parsing: .unconditional, help: "Default timeout in seconds of every wait and command.")
    var timeout: Double = 300

    @Option(parsing: .unconditional, help: "Memory per machine in MiB.")
    var memory: Int = 1024

    @Flag(help: "Show the machines' console output as it arrives.")
    var console = false

    @Flag(help: "Open a Python prompt with the machines defined and none started (start_all(), <machine>.shell_interact(), run_tests()), like nixos-test-driver --interactive.")
    var interactive = false

    @Flag(help: "Always boot the machines: do not resume a machine from the boot saved by an earlier run of the same, unchanged machine, and save none.")
    var noSnapshot = false

    @Flag(help: "Boot through the image's firmware and boot loader instead of loading the kernel and initrd directly (slower; the boot matrix tests loaders).")
    var bootLoader = false

    func validate() throws {
        try validateVMOptions(timeout: timeout, memory: memory)
    }

    func run() throws {
        var o = TestRunner.Options()
        o.hardware = hardware
        o.junit = junit
        o.outputDirectory = outputDirectory
        o.timeout = timeout
        o.memory = memory
        o.echoConsole = console
        o.throughBootLoader = bootLoader
        o.interactive = interactive
        o.noSnapshot = noSnapshot
        do {
            try TestRunner(file: file, options: o).run()
        } catch let skip as TestRunner.Skipped {
            FileHandle.standardError.write(Data("SKIPPED \(file): \(skip.reason)\n".utf8))
            throw ExitCode(77)
        } catch let failed as TestRunner.Failed {
            FileHandle.standardError.write(Data("report: \(failed.reportDirectory)\n".utf8))
            throw ExitCode(1)
        }
    }
}
