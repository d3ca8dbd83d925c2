import Foundation
import KilnPlan
import KilnSupport

/// A QEMU machine booting a disk image with its serial console on a pipe.
public struct MachineConfig: Sendable {
    public var image: String
    public var format: String
    public var architecture: Architecture
    public var memoryMiB: Int
    public var cpus: Int
    public var accelerator: Accelerator
    /// Writes go to a temporary overlay; the image file is never changed.
    public var snapshot: Bool
    /// Further QEMU arguments (devices, networks) appended as given.
    public var extraArguments: [String] = []
    /// UEFI firmware image for `-bios` (OVMF, QEMU_EFI.fd); nil: the machine's default
    /// (SeaBIOS on x86_64). aarch64 machines need one.
    public var firmware: String?

    public init(image: String, format: String = "raw", architecture: Architecture = .x86_64, memoryMiB: Int = 1024, cpus: Int = 1,
                accelerator: Accelerator, snapshot: Bool = true) {
        self.image = image; self.format = format; self.architecture = architecture; self.memoryMiB = memoryMiB
        self.cpus = cpus; self.accelerator = accelerator; self.snapshot = snapshot
    }

    /// The QEMU command line, like `mkosi qemu`: no display, serial console on stdio.
    public var commandLine: [String] {
        var a = [architecture.qemuBinary, "-m", "\(memoryMiB)", "-smp", "\(cpus)", "-nodefaults", "-display", "none",
                 "-no-reboot", "-serial", "stdio"]
        a += architecture.qemuMachine
        switch accelerator {
        case .kvm: a += ["-accel", "kvm", "-cpu", "host"]
        case .tcg:
            a += ["-accel", "tcg"] + architecture.qemuTCGCPU
        }
        if let firmware { a += ["-bios", firmware] }
        a += ["-drive", "file=\(image),format=\(format),if=virtio" + (snapshot ? ",snapshot=on" : "")]
        a += ["-device", "virtio-rng-pci"]
        return a + extraArguments
    }
}

/// A running machine whose serial console can be waited on and typed into.
public final class SerialMachine: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var buffer = ""
    private var consumed = 0
    private let echo: FileHandle?
    public let startTime = Date()

    /// Starts QEMU. - Parameter echo: where to copy console output as it arrives (a terminal or log).
    public init(_ config: MachineConfig, echo: FileHandle?) throws {
        self.echo = echo
        let cmd = config.commandLine
        guard let qemu = Tool.which(cmd[0]) else {
            throw KilnError("\(cmd[0]) is not installed", hint: "run scripts/install-deps.sh")
        }
        let argv = Tool.childCommand([qemu] + cmd.dropFirst())  // dies with kiln
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch { throw KilnError("cannot start QEMU: \(error.localizedDescription)") }
        let handle = output.fileHandleForReading
        let reader = Thread { [weak self] in
            while true {
                let d = handle.availableData
                if d.isEmpty { break }
                self?.append(d)
            }
        }
        reader.start()
    }

    private func append(_ d: Data) {
        lock.lock()
        buffer += String(decoding: d, as: UTF8.self)
        lock.unlock()
        if let echo { try? echo.write(contentsOf: d) }
    }

    public var isRunning: Bool { process.isRunning }

    /// Everything the console printed so far.
    public var consoleLog: String { lock.lock(); defer { lock.unlock() }; return buffer }

    /// Waits until `text` appears in output not yet consumed by an earlier wait.
    /// - Throws: `KilnError` with the console's tail when the timeout passes or QEMU exits.
    @discardableResult
    public func waitFor(_ text: String, timeout: TimeInterval) throws -> TimeInterval {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            lock.lock()
            let hay = buffer.utf8.count > consumed ? String(buffer.utf8.dropFirst(consumed)) ?? "" : ""
            if let r = hay.range(of: text) {
                consumed += hay[..<r.upperBound].utf8.count
                lock.unlock()
                return Date().timeIntervalSince(startTime)
            }
            lock.unlock()
            if !process.isRunning {
                throw KilnError("the machine stopped before printing '\(text)'; console tail:\n\(tail())")
            }
            if Date() > deadline {
                throw KilnError("timed out after \(Int(timeout)) s waiting for '\(text)' on the console; console tail:\n\(tail())")
            }
            usleep(50_000)
        }
    }

    /// Types on the serial console.
    public func send(_ text: String) {
        try? input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
    }

    public func tail(_ lines: Int = 25) -> String {
        consoleLog.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Stops the machine.
    public func stop() {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Waits for QEMU to exit by itself.
    public func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}
