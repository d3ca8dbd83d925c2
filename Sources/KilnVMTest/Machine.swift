import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnPlan
import KilnSupport

/// One machine of a test, as the driver starts it.
public struct MachineSpec: Sendable {
    public var name: String
    /// The disk image and how QEMU runs it; the driver adds its devices in `extraArguments`.
    public var config: MachineConfig
    /// The serial console's device in the guest ("ttyS0", "ttyAMA0").
    public var consoleDevice: String
    /// `-netdev socket,udp=…` ports: the hub's and this machine's own; nil for no network.
    public var network: (hubPort: UInt16, ownPort: UInt16, mac: String)?
    /// Where its boot is saved for reruns (nil: always boot).
    public var snapshotSlot: VMSnapshots.Slot?

    public init(name: String, config: MachineConfig, consoleDevice: String = "ttyS0",
                network: (hubPort: UInt16, ownPort: UInt16, mac: String)? = nil, snapshotSlot: VMSnapshots.Slot? = nil) {
        self.name = name; self.config = config; self.consoleDevice = consoleDevice; self.network = network
        self.snapshotSlot = snapshotSlot
    }
}

/// How a machine's first start goes; later starts (after a shutdown) boot its disk.
enum FirstBoot: Sendable {
    case boot
    /// Load the saved state instead of booting; the drive is an overlay of the saved disk.
    /// If QEMU cannot load it, the slot is dropped and the machine boots `image`.
    case restore(state: String, slot: VMSnapshots.Slot, image: String, imageFormat: String)
    /// Boot, and save the state when the backdoor first answers: the drive is the pair's new
    /// disk, and writes move to `overlay` from then on.
    case save(slot: VMSnapshots.Slot, tag: String, overlay: String)
}

/// The NixOS test driver's `Machine`: a QEMU process with its serial console on a pipe, a
/// root shell on a virtio console (the `backdoor` unit of `modules/testing.nix`) and a QMP
/// monitor. Every check is built on `execute`, and every wait on `retry`.
public final class TestMachine: @unchecked Sendable {
    public let name: String
    public let spec: MachineSpec
    private let outputDirectory: String
    private let socketDirectory: String
    private let logger: TestLogger
    public var defaultTimeout: Double

    private var process: Process?
    private var stdinPipe: Pipe?
    private var backdoor: LineSocket?
    private var qmp: LineSocket?
    private var shellReady = false
    private let consoleLock = NSLock()
    private var console = ""
    private var consoleConsumed = 0
    private var consoleLine = ""
    private let consoleLog: FileHandle?
    private var startedAt: Date?
    /// Seconds from `start()` to the first command that succeeded, for the speed report.
    public private(set) var firstSuccessAfter: Double?
    /// The disk QEMU runs on (an overlay: the image is never written) and its format.
    private var drive: (path: String, format: String)
    private var firstBoot: FirstBoot
    /// Whether the first start loaded a saved boot, for the speed report.
    public private(set) var restoredFromSnapshot = false

    static let banner = "Spawning backdoor root shell..."

    init(spec: MachineSpec, outputDirectory: String, socketDirectory: String, logger: TestLogger, defaultTimeout: Double,
         firstBoot: FirstBoot = .boot) {
        self.name = spec.name
        self.drive = (spec.config.image, spec.config.format)
        self.firstBoot = firstBoot
        self.spec = spec
        self.outputDirectory = outputDirectory
        self.socketDirectory = socketDirectory
        self.logger = logger
        self.defaultTimeout = defaultTimeout
        let logPath = outputDirectory + "/\(spec.name).console.log"
        consoleLog = FileManager.default.createFile(atPath: logPath, contents: nil) ? FileHandle(forWritingAtPath: logPath) : nil
    }

    public var isRunning: Bool { process?.isRunning ?? false }

    // MARK: - Process

    /// The QEMU command line: the image's, plus the backdoor console, QMP, a display for
    /// screenshots and the test LAN. Without `-no-reboot`, so `reboot()` works.
    public var commandLine: [String] {
        var c = spec.config
        c.image = drive.path
        c.format = drive.format
        let backdoorPath = socketDirectory + "/\(name).shell"
        let qmpPath = socketDirectory + "/\(name).qmp"
        c.extraArguments += [
            "-chardev", "socket,id=backdoor,path=\(backdoorPath),server=on,wait=off",
            "-device", "virtio-serial-pci", "-device", "virtconsole,chardev=backdoor",
            "-qmp", "unix:\(qmpPath),server=on,wait=off",
        ]
        if c.architecture == .x86_64 { c.extraArguments += ["-device", "VGA"] }
        if let n = spec.network {
            // ctrl_vlan=off: with the VLAN filter on, QEMU 7.2 clears the filter table when it
            // loads a saved boot (virtio_net_set_features runs after the table is restored), so
            // a machine saved with a VLAN up dropped that VLAN's frames after resuming. Without
            // it the device passes every tag and the guest's kernel filters, as on a bridge.
            c.extraArguments += ["-netdev", "socket,id=net0,udp=127.0.0.1:\(n.hubPort),localaddr=127.0.0.1:\(n.ownPort)",
                                 "-device", "virtio-net-pci,netdev=net0,mac=\(n.mac),ctrl_vlan=off"]
        }
        return c.commandLine.filter { $0 != "-no-reboot" }
    }

    /// Boots the machine (a no-op when it runs already).
    public func start() throws {
        if isRunning { return }
        var cmd = commandLine
        if case .restore(let state, _, _, _) = firstBoot {
            cmd += ["-incoming", "exec:zstd -dcq '" + state.replacingOccurrences(of: "'", with: "'\\''") + "'"]
        }
        guard let qemu = Tool.which(cmd[0]) else { throw KilnError("\(cmd[0]) is not installed", hint: "run scripts/install-deps.sh") }
        for s in ["shell", "qmp"] { try? FileManager.default.removeItem(atPath: socketDirectory + "/\(name).\(s)") }
        logger.log("starting (\(spec.config.accelerator.rawValue), \(spec.config.architecture.rawValue))", machine: name)
        let p = Process()
        let argv = Tool.childCommand([qemu] + cmd.dropFirst())  // dies with kiln
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let inp = Pipe(), out = Pipe()
        p.standardInput = inp
        p.standardOutput = out
        p.standardError = out
        do { try p.run() } catch { throw KilnError("cannot start QEMU for \(name): \(error.localizedDescription)") }
        process = p
        stdinPipe = inp
        startedAt = Date()
        shellReady = false
        let h = out.fileHandleForReading
        let t = Thread { [weak self] in
            while true {
                let d = h.availableData
                if d.isEmpty { break }
                self?.consoleReceived(d)
            }
        }
        t.name = "kiln-console-\(name)"
        t.start()
        let deadline = Date().addingTimeInterval(15)
        qmp = try LineSocket.connect(path: socketDirectory + "/\(name).qmp", deadline: deadline, alive: { p.isRunning })
        backdoor = try LineSocket.connect(path: socketDirectory + "/\(name).shell", deadline: deadline, alive: { p.isRunning })
        guard let qmp, try qmp.readUntil("QMP", deadline: deadline) != nil else { throw failure("QEMU's monitor did not greet") }
        try qmp.write("{\"execute\":\"qmp_capabilities\"}\n")
        guard try qmp.readUntil("return", deadline: deadline) != nil else { throw failure("QEMU's monitor did not answer") }
        if case .restore(_, let slot, let image, let imageFormat) = firstBoot {
            firstBoot = .boot
            do {
                try resumeSavedBoot()
            } catch {
                // A state this QEMU cannot load (another QEMU version, a damaged file): boot.
                logger.log("the saved boot did not load (\(error.kilnMessage.split(separator: "\n").first ?? "")); booting instead", machine: name)
                kill()
                slot.discard()
                try Tool.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", imageFormat, "-b", image, drive.path])
                try start()
            }
        }
    }

    /// Waits for QEMU to load the saved state, then sets the guest's clock (it stood still
    /// since the save) through the backdoor, which answers at once: it had just started.
    private func resumeSavedBoot() throws {
        let deadline = Date().addingTimeInterval(60)
        while true {
            let status = (try qmpCommand("query-status") as? [String: Any])?["status"] as? String
            if status == "running" { break }
            // The state was saved with the machine stopped, and QEMU keeps that run state.
            if status == "paused" { try qmpCommand("cont"); continue }
            if !isRunning { throw failure("QEMU exited while loading the saved boot") }
            if Date() > deadline { throw failure("QEMU did not load the saved boot within 60 s (status \(status ?? "?"))") }
            usleep(20_000)
        }
        let loaded = startedAt.map { Date().timeIntervalSince($0) } ?? 0
        shellReady = true
        restoredFromSnapshot = true
        // Not waited for (it prints nothing): the first command then comes as soon as it can.
        try backdoor?.write("date -u -s @\(Int(Date().timeIntervalSince1970)) >/dev/null 2>&1\n")
        logger.log(String(format: "resumed its saved boot: running %.1f s after start", loaded), machine: name)
    }

    /// Saves the machine's state (QEMU's migration stream) and freezes its disk at this
    /// moment, for the next run of an unchanged machine. A failure only costs the speed-up.
    private func saveBoot(slot: VMSnapshots.Slot, tag: String, overlay: String) {
        let t0 = Date()
        let pair = slot.paths(tag)
        do {
            try qmpCommand("stop")
            defer { _ = try? qmpCommand("cont") }
            try qmpCommand("migrate-set-parameters", ["max-bandwidth": 1 << 40])
            let partial = pair.state + ".part"
            // Written under another name and renamed when zstd is done, so a whole file is all
            // another run can find.
            func q(_ p: String) -> String { "'" + p.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            try qmpCommand("migrate", ["uri": "exec:zstd -q -1 -o \(q(partial)) && mv \(q(partial)) \(q(pair.state))"])
            let deadline = Date().addingTimeInterval(120)
            while true {
                let info = try qmpCommand("query-migrate") as? [String: Any]
                let status = info?["status"] as? String ?? ""
                if status == "completed" { break }
                if status == "failed" || status == "cancelled" { throw KilnError("migration \(status): \(info?["error-desc"] ?? "")") }
                if Date() > deadline { throw KilnError("saving took over 120 s") }
                usleep(50_000)
            }
            // The disk as it is now stays in the pair; the machine writes on a new overlay.
            try qmpCommand("blockdev-snapshot-sync", ["device": "virtio0", "snapshot-file": overlay, "format": "qcow2"])
            drive = (overlay, "qcow2")
            // QEMU reports completion when its end of the pipe is closed; zstd may still be writing.
            let written = Date().addingTimeInterval(30)
            while !FileManager.default.fileExists(atPath: pair.state) {
                if Date() > written { throw KilnError("zstd did not finish writing \(pair.state)") }
                usleep(20_000)
            }
            try slot.publish(tag)
            let size = ((try? FileManager.default.attributesOfItem(atPath: pair.state)[.size] as? UInt64) ?? 0) >> 20
            logger.log(String(format: "saved its boot for reruns (%llu MiB, %.1f s)", size, Date().timeIntervalSince(t0)), machine: name)
        } catch {
            logger.log("could not save its boot for reruns: \(error.kilnMessage)", machine: name)
        }
    }

    private func consoleReceived(_ d: Data) {
        try? consoleLog?.write(contentsOf: d)
        let text = String(decoding: d, as: UTF8.self)
        consoleLock.lock()
        console += text
        var lines: [String] = []
        if logger.echoConsole {
            consoleLine += text
            while let nl = consoleLine.firstIndex(of: "\n") {
                lines.append(String(consoleLine[..<nl]).replacingOccurrences(of: "\r", with: ""))
                consoleLine = String(consoleLine[consoleLine.index(after: nl)...])
            }
        }
        consoleLock.unlock()
        for l in lines { logger.console(name, l) }
    }

    /// Stops QEMU at once (end of the test or cleanup).
    public func kill() {
        guard let p = process, p.isRunning else { return }
        p.terminate()
        let deadline = Date().addingTimeInterval(5)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { Glibc.kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    private func waitForExit(timeout: Double) throws {
        guard let p = process else { return }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning {
            if Date() > deadline { throw failure("timed out after \(Int(timeout)) s waiting for the machine to power off") }
            usleep(100_000)
        }
        backdoor?.shutdown(); qmp?.shutdown()
        backdoor = nil; qmp = nil; shellReady = false
    }

    // MARK: - Errors

    /// The console's last lines, for failure messages.
    public func consoleTail(_ lines: Int = 20) -> String {
        consoleLock.lock(); defer { consoleLock.unlock() }
        return console.replacingOccurrences(of: "\r", with: "").split(separator: "\n", omittingEmptySubsequences: false)
            .suffix(lines).map { "    | " + $0 }.joined(separator: "\n")
    }

    func failure(_ message: String) -> KilnError {
        KilnError("\(name): \(message)\n  \(name)'s console, last lines:\n\(consoleTail())")
    }

    // MARK: - The backdoor shell

    private func connect(timeout: Double) throws {
        if !isRunning { try start() }
        if shellReady { return }
        guard let shell = backdoor else { throw failure("has no backdoor connection") }
        let waited = Date()
        try logger.nested("waiting for the backdoor shell", machine: name) {
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                if try shell.readUntil(Self.banner, deadline: min(deadline, Date().addingTimeInterval(1))) != nil { break }
                if !isRunning { throw failure("QEMU exited before the backdoor shell started") }
                if Date() > deadline {
                    throw failure("timed out after \(Int(timeout)) s waiting for the backdoor shell ('\(Self.banner)' on hvc0); does the image import modules/testing.nix and load virtio_console?")
                }
            }
            if let t = startedAt, Date().timeIntervalSince(waited) > 1 {
                logger.log(String(format: "backdoor shell up %.1f s after start", Date().timeIntervalSince(t)), machine: name)
            }
        }
        shellReady = true
        if case .save(let slot, let tag, let overlay) = firstBoot {
            firstBoot = .boot
            saveBoot(slot: slot, tag: tag, overlay: overlay)
        }
    }

    /// Runs `command` under `bash -euo pipefail` in the guest; returns its exit status and stdout.
    /// The command and its output travel base64-encoded, so any bytes survive.
    public func execute(_ command: String, timeout: Double? = nil) throws -> (status: Int32, output: Data) {
        let limit = timeout ?? defaultTimeout
        try connect(timeout: limit)
        guard let shell = backdoor else { throw failure("has no backdoor connection") }
        let script = Data(("set -euo pipefail; " + command).utf8).base64EncodedString()
        // stderr is the console opened for this command (see KILN_STDERR in testing.nix).
        try shell.write("timeout -k 5 \(Int(limit.rounded(.up))) bash -c \"$(echo \(script) | base64 -d)\" </dev/null 2>>\"${KILN_STDERR:-/dev/null}\" | (base64 -w 0; echo); echo \"${PIPESTATUS[0]}\"\n")
        let deadline = Date().addingTimeInterval(limit + 30)
        func line() throws -> String {
            while true {
                if let l = try shell.readLine(deadline: min(deadline, Date().addingTimeInterval(1))) { return l }
                if !isRunning { throw failure("QEMU exited while running '\(command)'") }
                if Date() > deadline { throw failure("the backdoor shell did not answer within \(Int(limit)) s (running '\(command)')") }
            }
        }
        let encoded = try line()
        let statusText = try line()
        guard let output = Data(base64Encoded: encoded.trimmingCharacters(in: .whitespaces)), let status = Int32(statusText.trimmingCharacters(in: .whitespaces)) else {
            throw failure("the backdoor shell answered something unexpected: \(encoded.prefix(200)) / \(statusText.prefix(200))")
        }
        if status == 0, firstSuccessAfter == nil, let t = startedAt { firstSuccessAfter = Date().timeIntervalSince(t) }
        return (status, output)
    }

    /// Sends a line to the backdoor shell without waiting for an answer (power off, reboot).
    private func fireAndForget(_ command: String) throws {
        try connect(timeout: defaultTimeout)
        try backdoor?.write(command + "\n")
        shellReady = false
    }

    // MARK: - Monitor

    /// Runs a human monitor command through QMP and returns its output.
    @discardableResult
    public func monitor(_ command: String) throws -> String {
        if !isRunning { try start() }
        return (try qmpCommand("human-monitor-command", ["command-line": command]) as? String) ?? ""
    }

    /// Runs a QMP command and returns its `return` value (events in between are skipped).
    @discardableResult
    func qmpCommand(_ command: String, _ arguments: [String: Any]? = nil) throws -> Any {
        guard let qmp else { throw failure("has no monitor connection") }
        var request: [String: Any] = ["execute": command]
        if let arguments { request["arguments"] = arguments }
        try qmp.write(String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self) + "\n")
        let deadline = Date().addingTimeInterval(30)
        while let l = try qmp.readLine(deadline: deadline) {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any] else { continue }
            if let r = obj["return"] { return r }
            if let e = obj["error"] as? [String: Any] { throw failure("monitor command '\(command)' failed: \(e["desc"] ?? e)") }
        }
        throw failure("the monitor did not answer '\(command)' within 30 s")
    }

    // MARK: - Waiting

    /// Calls `attempt` once a second until it returns a value; the last call gets `lastTry`.
    /// - Throws: `attempt`'s errors at once, or a timeout error that says what was awaited.
    public func retry<T>(_ what: String, timeout: Double?, interval: Double = 1, _ attempt: (_ lastTry: Bool) throws -> T?) throws -> T {
        let limit = timeout ?? defaultTimeout
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if let v = try attempt(false) { return v }
            if !isRunning { throw failure("QEMU exited while waiting for \(what)") }
            Thread.sleep(forTimeInterval: interval)
        }
        if let v = try attempt(true) { return v }
        throw failure("timed out after \(Int(limit)) s waiting for \(what)")
    }

    /// `wait_for_console_text`: waits until `regex` matches console output that no earlier
    /// wait has consumed, and consumes it up to the match.
    public func waitForConsoleText(_ regex: String, timeout: Double?) throws -> String {
        let re: NSRegularExpression
        do { re = try NSRegularExpression(pattern: regex) } catch { throw KilnError("'\(regex)' is not a regular expression") }
        return try retry("'\(regex)' on the console", timeout: timeout, interval: 0.1) { _ in
            consoleLock.lock(); defer { consoleLock.unlock() }
            let utf8 = console.utf8
            let rest = String(decoding: utf8.dropFirst(consoleConsumed), as: UTF8.self)
            let ns = rest as NSString
            guard let m = re.firstMatch(in: rest, range: NSRange(location: 0, length: ns.length)) else { return nil }
            consoleConsumed += ns.substring(to: m.range.location + m.range.length).utf8.count
            return ns.substring(with: m.range)
        }
    }

    public var consoleText: String { consoleLock.lock(); defer { consoleLock.unlock() }; return console }

    /// Types on the serial console.
    public func sendChars(_ chars: String, delay: Double) throws {
        if !isRunning { try start() }
        guard let h = stdinPipe?.fileHandleForWriting else { throw failure("has no console input") }
        for c in chars {
            try h.write(contentsOf: Data(String(c).utf8))
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        }
    }

    // MARK: - Power

    public func shutdown(timeout: Double?) throws {
        guard isRunning else { return }
        try fireAndForget("systemctl poweroff")
        try waitForExit(timeout: timeout ?? defaultTimeout)
    }

    public func crash() throws {
        guard isRunning else { return }
        _ = try? monitor("quit")
        try waitForExit(timeout: 30)
    }

    public func reboot() throws {
        try fireAndForget("systemctl reboot")
    }

    public func waitForShutdown(timeout: Double?) throws {
        try waitForExit(timeout: timeout ?? defaultTimeout)
    }

    // MARK: - Files

    public func screenshot(_ filename: String) throws -> String {
        var path = filename.contains("/") ? filename : outputDirectory + "/" + filename
        if !path.hasSuffix(".png") { path += ".png" }
        try monitor("screendump \(path) -f png")
        guard FileManager.default.fileExists(atPath: path) else { throw failure("QEMU wrote no screenshot to \(path)") }
        return path
    }
}
