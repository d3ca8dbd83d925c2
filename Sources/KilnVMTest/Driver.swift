import Foundation
import KilnSupport

/// The NixOS test driver's `Driver`, kiln's half: owns the machines, the test LAN and the
/// timeouts, runs the script in python3 and answers its requests, and writes the report
/// directory. The Machine API itself is Python (driver/kiln_test_driver.py).
public final class Driver: @unchecked Sendable {
    public let testName: String
    public let machines: [TestMachine]
    public let logger: TestLogger
    public let outputDirectory: String
    public let defaultTimeout: Double
    private let hub: VirtualHub?
    private let socketDirectory: String

    /// - Parameters:
    ///   - specs: the machines in node order; the driver adds the backdoor, monitor and LAN.
    ///   - outputDirectory: the run's report directory (console logs, screenshots, log.txt).
    public init(testName: String, specs: [MachineSpec], outputDirectory: String, defaultTimeout: Double, echoConsole: Bool,
                network: Bool = true) throws {
        self.testName = testName
        self.outputDirectory = outputDirectory
        self.defaultTimeout = defaultTimeout
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        logger = TestLogger(logPath: outputDirectory + "/log.txt", echoConsole: echoConsole)
        // Unix socket paths are limited to 108 bytes: keep them short, under /tmp.
        socketDirectory = try KilnPaths.makeTemporaryDirectory("kvt")
        let hub = network ? try VirtualHub() : nil
        var ms: [TestMachine] = []
        for var s in specs {
            // Each machine writes to an overlay of its own for the whole run, never to the
            // image: a machine shut down and started again finds its disk as it left it.
            var firstBoot = FirstBoot.boot
            if s.config.snapshot {
                let image = URL(fileURLWithPath: s.config.image).standardizedFileURL.path, format = s.config.format
                let overlay = socketDirectory + "/\(s.name).qcow2"
                func create(_ file: String, over backing: String, _ backingFormat: String) throws {
                    try Tool.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", backingFormat, "-b", backing, file])
                }
                s.config.format = "qcow2"
                s.config.snapshot = false
                s.config.image = overlay
                if let slot = s.snapshotSlot, let saved = slot.saved {
                    try create(overlay, over: saved.disk, "qcow2")
                    firstBoot = .restore(state: saved.state, slot: slot, image: image, imageFormat: format)
                    slot.touch()
                } else if let slot = s.snapshotSlot {
                    try FileManager.default.createDirectory(atPath: slot.directory, withIntermediateDirectories: true)
                    let tag = VMSnapshots.Slot.newTag()
                    try create(slot.paths(tag).disk, over: image, format)
                    s.config.image = slot.paths(tag).disk
                    firstBoot = .save(slot: slot, tag: tag, overlay: overlay)
                } else {
                    try create(overlay, over: image, format)
                }
            }
            if let hub, s.network == nil {
                s.network = (hub.port, try hub.addMember(), String(format: "52:54:00:12:01:%02x", ms.count + 1))
            }
            ms.append(TestMachine(spec: s, outputDirectory: outputDirectory, socketDirectory: socketDirectory, logger: logger,
                                  defaultTimeout: defaultTimeout, firstBoot: firstBoot))
        }
        machines = ms
        self.hub = hub
        hub?.start()
    }

    deinit { cleanup() }

    /// Stops every machine and the hub.
    public func cleanup() {
        for m in machines { m.kill() }
        hub?.stop()
        try? FileManager.default.removeItem(atPath: socketDirectory)
    }

    /// Runs the script in python3 (PythonDriver) and answers its requests until it exits,
    /// then checks that no running machine has a failed unit (but those in
    /// `allowedFailedUnits`; "*" allows any). - Returns: nil when it passed, or the failure
    /// (the script's traceback and message).
    public func run(_ script: TestScriptSource, interactive: Bool = false, allowedFailedUnits: [String] = []) -> String? {
        defer { cleanup() }
        do {
            let listener = try ListeningSocket(path: socketDirectory + "/driver")
            let python = try PythonDriver.process(script, mode: interactive ? .interactive : .run, directory: socketDirectory,
                                                  socket: listener.path)
            // The prompt of --interactive reads the terminal; a script run reads nothing.
            if !interactive { python.standardInput = FileHandle.nullDevice }
            do { try python.run() } catch { throw KilnError("cannot start python3: \(error.localizedDescription)") }
            defer { if python.isRunning { python.terminate() }; python.waitUntilExit() }
            let connection = try listener.accept(deadline: Date().addingTimeInterval(30), alive: { python.isRunning })
            let outcome = serve(connection)
            python.waitUntilExit()
            switch outcome {
            case .failed(let message): return message
            case .unfinished:
                throw KilnError("the test driver (python3) stopped before the script ended (exit status \(python.terminationStatus))")
            case .passed: break
            }
            if interactive { return nil }
            if !allowedFailedUnits.contains("*") {
                for m in machines where m.isRunning {
                    let (_, out) = try m.execute("systemctl list-units --failed --no-legend --plain", timeout: 60)
                    let failed = String(decoding: out, as: UTF8.self).split(separator: "\n")
                        .compactMap { $0.split(separator: " ").first.map(String.init) }
                        .filter { !allowedFailedUnits.contains($0) }
                    if !failed.isEmpty {
                        throw KilnError("\(m.name): units failed during the test: \(failed.joined(separator: ", "))"
                                        + "\n" + (try unitStatus(m, failed[0])),
                                        hint: "fix them, or list them in the test's allowedFailedUnits")
                    }
                }
            }
            return nil
        } catch {
            return error.kilnMessage
        }
    }

    private enum Outcome { case passed, failed(String), unfinished }

    /// Answers the driver's requests, one JSON line each way, until it says `finish` or goes.
    private func serve(_ connection: LineSocket) -> Outcome {
        var outcome = Outcome.unfinished
        while true {
            let line: String
            do {
                guard let l = try connection.readLine(deadline: .distantFuture) else { continue }
                line = l
            } catch {
                return outcome  // python3 closed the connection: it has exited
            }
            var answer: [String: Any]
            do {
                guard let request = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let op = request["op"] as? String else {
                    throw KilnError("the test driver sent a request kiln cannot read: \(line.prefix(200))")
                }
                if op == "finish" {
                    outcome = (request["error"] as? String).map { .failed($0) } ?? .passed
                }
                answer = ["ok": try handle(op, request) ?? NSNull()]
            } catch {
                answer = ["error": error.kilnMessage]
            }
            do {
                let data = try JSONSerialization.data(withJSONObject: answer)
                try connection.write(String(decoding: data, as: UTF8.self) + "\n")
            } catch {
                return outcome
            }
        }
    }

    /// One request of the driver's protocol (the ops are listed in kiln_test_driver.py).
    private func handle(_ op: String, _ r: [String: Any]) throws -> Any? {
        func string(_ key: String) -> String? { r[key] as? String }
        func number(_ key: String) -> Double? { (r[key] as? NSNumber)?.doubleValue }
        func m() throws -> TestMachine { try machine(string("machine") ?? "") }
        switch op {
        case "hello":
            return ["machines": machineNames, "defaultTimeout": defaultTimeout, "outputDirectory": outputDirectory,
                    "testName": testName] as [String: Any]
        case "finish": return nil
        case "log": logger.log(string("text") ?? "", machine: string("machine")); return nil
        case "nest_begin": logger.beginNested(string("text") ?? "", machine: string("machine")); return nil
        case "nest_end": logger.endNested(failed: (r["failed"] as? Bool) ?? false); return nil
        case "subtest_begin": logger.beginSubtest(string("name") ?? ""); return nil
        case "subtest_end": logger.endSubtest(string("name") ?? "", failure: string("error")); return nil
        case "serial_stdout": logger.echoConsole = (r["on"] as? Bool) ?? false; return nil
        case "start": try m().start(); return nil
        case "is_up": return try m().isRunning
        case "execute":
            let (status, output) = try m().execute(string("command") ?? "", timeout: number("timeout"))
            return ["status": Int(status), "output": String(decoding: output, as: UTF8.self)] as [String: Any]
        case "monitor": return try m().monitor(string("command") ?? "")
        case "console_wait":
            let machine = try m()
            if !machine.isRunning { try machine.start() }
            return try machine.waitForConsoleText(string("regex") ?? "", timeout: number("timeout"))
        case "console_log": return try m().consoleText
        case "console_tail": return try m().consoleTail()
        case "send_console": try m().sendChars(string("chars") ?? "", delay: 0); return nil
        case "shutdown": try m().shutdown(timeout: number("timeout")); return nil
        case "wait_for_shutdown": try m().waitForShutdown(timeout: number("timeout")); return nil
        case "crash": try m().crash(); return nil
        case "reboot": try m().reboot(); return nil
        case "screenshot": return try m().screenshot(string("filename") ?? "screenshot")
        default: throw KilnError("kiln's driver has no operation '\(op)' (a kiln_test_driver.py of another kiln version?)")
        }
    }

    public var machineNames: [String] { machines.map(\.name) }

    private func machine(_ name: String) throws -> TestMachine {
        guard let m = machines.first(where: { $0.name == name }) else { throw KilnError("there is no machine '\(name)'") }
        return m
    }

    private func unitStatus(_ m: TestMachine, _ unit: String) throws -> String {
        let (_, out) = try m.execute("systemctl status --no-pager --lines=15 -- '\(unit)' 2>&1 || true", timeout: 30)
        return String(decoding: out, as: UTF8.self).split(separator: "\n").map { "    > " + $0 }.joined(separator: "\n")
    }
}
