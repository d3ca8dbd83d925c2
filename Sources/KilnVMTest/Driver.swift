import Foundation
import KilnSupport

/// The NixOS test driver's `Driver`: owns the machines, the test LAN and the timeouts, runs
/// the script against them, and writes the report directory.
public final class Driver: ScriptHost, @unchecked Sendable {
    public let testName: String
    public let machines: [TestMachine]
    public let logger: TestLogger
    public let outputDirectory: String
    private let hub: VirtualHub?
    private let socketDirectory: String

    /// - Parameters:
    ///   - specs: the machines in node order; the driver adds the backdoor, monitor and LAN.
    ///   - outputDirectory: the run's report directory (console logs, screenshots, log.txt).
    public init(testName: String, specs: [MachineSpec], outputDirectory: String, defaultTimeout: Double, echoConsole: Bool,
                network: Bool = true) throws {
        self.testName = testName
        self.outputDirectory = outputDirectory
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        logger = TestLogger(logPath: outputDirectory + "/log.txt", echoConsole: echoConsole)
        // Unix socket paths are limited to 108 bytes: keep them short, under /tmp.
        socketDirectory = try KilnPaths.makeTemporaryDirectory("kvt")
        let hub = network ? try VirtualHub() : nil
        var ms: [TestMachine] = []
        for var s in specs {
            if let hub, s.network == nil {
                s.network = (hub.port, try hub.addMember(), String(format: "52:54:00:12:01:%02x", ms.count + 1))
            }
            ms.append(TestMachine(spec: s, outputDirectory: outputDirectory, socketDirectory: socketDirectory, logger: logger,
                                  defaultTimeout: defaultTimeout))
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

    /// Runs the script, then checks that no running machine has a failed unit (but those in
    /// `allowedFailedUnits`; "*" allows any). - Returns: nil when it passed, or the failure
    /// message (with the line).
    public func run(_ script: TestScript, allowedFailedUnits: [String] = []) -> String? {
        defer { cleanup() }
        do {
            try ScriptRunner(host: self).run(script)
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

    // MARK: - ScriptHost

    public var machineNames: [String] { machines.map(\.name) }

    public func startAll() throws {
        try logger.nested("starting all machines") { for m in machines { try m.start() } }
    }

    public func beginSubtest(_ name: String) { logger.beginSubtest(name) }
    public func endSubtest(_ name: String, error: Error?) { logger.endSubtest(name, error: error) }
    public func log(_ text: String) { logger.log(text) }

    private func machine(_ name: String) throws -> TestMachine {
        guard let m = machines.first(where: { $0.name == name }) else { throw KilnError("there is no machine '\(name)'") }
        return m
    }

    static let unitStateCommand = "systemctl show --property=ActiveState,SubState,LoadState -- "

    public func callMachine(_ name: String, _ method: String, _ a: CallArguments) throws -> ScriptValue {
        let m = try machine(name)
        let log = logger
        func text(_ d: Data) -> String { String(decoding: d, as: UTF8.self) }
        func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

        switch method {
        case "start":
            _ = try a.bind(["allow_reboot"])
            try m.start(); return .none

        case "succeed", "fail":
            let kw = try a.bind([], required: 0, extra: ["timeout"])
            guard !a.positional.isEmpty else { throw KilnError("\(a.function)() needs a command") }
            var out = ""
            for case let cmd in a.positional {
                guard case .str(let c) = cmd else { throw KilnError("\(a.function)() takes commands as strings, not \(cmd.typeName)") }
                try log.nested("\(method == "succeed" ? "must succeed" : "must fail"): \(c)", machine: name) {
                    let (status, output) = try m.execute(c, timeout: try kw.number("timeout"))
                    if method == "succeed" && status != 0 {
                        throw m.failure("command `\(c)` failed (exit status \(status))" + Self.outputNote(text(output)))
                    }
                    if method == "fail" && status == 0 {
                        throw m.failure("command `\(c)` unexpectedly succeeded" + Self.outputNote(text(output)))
                    }
                    out += text(output)
                }
            }
            return .str(out)

        case "execute":
            let kw = try a.bind(["command", "check_return", "check_output", "timeout"], required: 1)
            let c = try kw.string("command") ?? ""
            let (status, output) = try log.nested("running: \(c)", machine: name) { try m.execute(c, timeout: try kw.number("timeout")) }
            return .tuple([.int(Int(status)), .str(text(output))])

        case "wait_until_succeeds", "wait_until_fails":
            let kw = try a.bind(["command", "timeout"], required: 1)
            let c = try kw.string("command") ?? ""
            let want0 = method == "wait_until_succeeds"
            return try log.nested("waiting until `\(c)` \(want0 ? "succeeds" : "fails")", machine: name) {
                var last = ""
                do {
                    return try m.retry("`\(c)` to \(want0 ? "succeed" : "fail")", timeout: try kw.number("timeout")) { _ -> ScriptValue? in
                        let (status, output) = try m.execute(c, timeout: nil)
                        last = text(output)
                        return (status == 0) == want0 ? .str(last) : nil
                    }
                } catch let e as KilnError {
                    throw KilnError(e.message + Self.outputNote(last, label: "its output on the last try"))
                }
            }

        case "wait_for_unit":
            let kw = try a.bind(["unit", "user", "timeout"], required: 1)
            let unit = try kw.string("unit") ?? ""
            if try kw.string("user") != nil { throw KilnError("wait_for_unit(user=…) is not supported: Kiln test machines have no user sessions") }
            try log.nested("waiting for unit \(unit)", machine: name) {
                var last = "unknown"
                do {
                    _ = try m.retry("unit \(unit) to become active", timeout: try kw.number("timeout")) { _ -> Bool? in
                        let info = try self.unitInfo(m, unit)
                        let state = info["ActiveState"] ?? ""
                        last = "\(state)/\(info["SubState"] ?? "")"
                        if info["LoadState"] == "not-found" { throw m.failure("unit \(unit) does not exist (LoadState=not-found)") }
                        if state == "failed" { throw m.failure("unit \(unit) failed\n" + (try self.unitStatus(m, unit))) }
                        if state == "inactive" {
                            let (_, jobs) = try m.execute("systemctl list-jobs --full 2>&1", timeout: nil)
                            if text(jobs).contains("No jobs"), try self.unitInfo(m, unit)["ActiveState"] == "inactive" {
                                throw m.failure("unit \(unit) is inactive and there are no pending jobs")
                            }
                        }
                        return state == "active" ? true : nil
                    }
                } catch let e as KilnError where e.message.contains("timed out") {
                    throw KilnError(e.message + "\n  the unit's last state: \(last)")
                }
            }
            return .none

        case "wait_for_open_port", "wait_for_closed_port":
            let kw = try a.bind(["port", "addr", "timeout"], required: 1)
            guard let port = try kw.number("port") else { throw KilnError("\(a.function)() needs a port") }
            let addr = try kw.string("addr") ?? "localhost"
            let open = method == "wait_for_open_port"
            let probe = "timeout 3 bash -c \(quote("exec 3<>/dev/tcp/\(addr)/\(Int(port))")) 2>/dev/null"
            try log.nested("waiting for TCP port \(Int(port)) on \(addr) to be \(open ? "open" : "closed")", machine: name) {
                _ = try m.retry("TCP port \(Int(port)) on \(addr) to be \(open ? "open" : "closed")", timeout: try kw.number("timeout")) { _ -> Bool? in
                    let (status, _) = try m.execute(probe, timeout: nil)
                    return (status == 0) == open ? true : nil
                }
            }
            return .none

        case "wait_for_file":
            let kw = try a.bind(["filename", "timeout"], required: 1)
            let f = try kw.string("filename") ?? ""
            try log.nested("waiting for file \(f)", machine: name) {
                _ = try m.retry("file \(f) to exist", timeout: try kw.number("timeout")) { _ -> Bool? in
                    try m.execute("test -e \(quote(f))", timeout: nil).status == 0 ? true : nil
                }
            }
            return .none

        case "wait_for_console_text":
            let kw = try a.bind(["regex", "timeout"], required: 1)
            let re = try kw.string("regex") ?? ""
            if !m.isRunning { try m.start() }
            return .str(try log.nested("waiting for /\(re)/ on the console", machine: name) { try m.waitForConsoleText(re, timeout: try kw.number("timeout")) })

        case "get_console_log":
            _ = try a.bind([])
            return .str(m.consoleText)

        case "send_chars":
            let kw = try a.bind(["chars", "delay"], required: 1)
            let chars = try kw.string("chars") ?? ""
            log.log("typing \(ScriptValue.str(chars).repr) on the console", machine: name)
            try m.sendChars(chars, delay: try kw.number("delay") ?? 0.01)
            return .none

        case "send_key":
            let kw = try a.bind(["key", "delay"], required: 1)
            let key = try kw.string("key") ?? ""
            log.log("pressing \(key)", machine: name)
            try m.monitor("sendkey \(key)")
            if let d = try kw.number("delay") { Thread.sleep(forTimeInterval: d) } else { Thread.sleep(forTimeInterval: 0.01) }
            return .none

        case "send_monitor_command":
            let kw = try a.bind(["command"], required: 1)
            return .str(try m.monitor(try kw.string("command") ?? ""))

        case "screenshot":
            let kw = try a.bind(["filename"], required: 1)
            let path = try m.screenshot(try kw.string("filename") ?? "screenshot")
            log.log("screenshot saved to \(path)", machine: name)
            return .str(path)

        case "copy_from_vm":
            let kw = try a.bind(["source", "target_dir"], required: 1)
            let dest = try m.copyFromVM(try kw.string("source") ?? "", targetDirectory: try kw.string("target_dir") ?? "")
            log.log("copied \(try kw.string("source") ?? "") to \(dest)", machine: name)
            return .str(dest)

        case "shutdown":
            let kw = try a.bind(["timeout"])
            try log.nested("shutting down", machine: name) { try m.shutdown(timeout: try kw.number("timeout")) }
            return .none

        case "wait_for_shutdown":
            let kw = try a.bind(["timeout"])
            try log.nested("waiting for the machine to power off", machine: name) { try m.waitForShutdown(timeout: try kw.number("timeout")) }
            return .none

        case "crash":
            _ = try a.bind([])
            try log.nested("crashing (quitting QEMU)", machine: name) { try m.crash() }
            return .none

        case "reboot":
            _ = try a.bind([])
            log.log("rebooting", machine: name)
            try m.reboot()
            return .none

        case "block", "unblock":
            _ = try a.bind([])
            guard m.spec.network != nil else { throw KilnError("\(name) has no network link to \(method)") }
            log.log(method == "block" ? "cutting the network link" : "restoring the network link", machine: name)
            try m.monitor("set_link net0 \(method == "block" ? "off" : "on")")
            return .none

        case "systemctl":
            let kw = try a.bind(["q", "user"], required: 1)
            if try kw.string("user") != nil { throw KilnError("systemctl(user=…) is not supported: Kiln test machines have no user sessions") }
            let q = try kw.string("q") ?? ""
            let (status, output) = try log.nested("systemctl \(q)", machine: name) { try m.execute("systemctl \(q)", timeout: nil) }
            return .tuple([.int(Int(status)), .str(text(output))])

        case "sleep":
            let kw = try a.bind(["secs"], required: 1)
            Thread.sleep(forTimeInterval: try kw.number("secs") ?? 0)
            return .none

        case "is_up":
            return .bool(m.isRunning)

        default:
            throw KilnError("machines have no method '\(method)'", hint: "see the machine API in README.md (kiln test)")
        }
    }

    private func unitInfo(_ m: TestMachine, _ unit: String) throws -> [String: String] {
        let (status, out) = try m.execute(Self.unitStateCommand + "'" + unit + "'", timeout: nil)
        guard status == 0 else { throw m.failure("systemctl show \(unit) failed with status \(status)") }
        var info: [String: String] = [:]
        for l in String(decoding: out, as: UTF8.self).split(separator: "\n") {
            let kv = l.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 { info[kv[0]] = kv[1] }
        }
        return info
    }

    private func unitStatus(_ m: TestMachine, _ unit: String) throws -> String {
        let (_, out) = try m.execute("systemctl status --no-pager --lines=15 -- '\(unit)' 2>&1 || true", timeout: 30)
        return String(decoding: out, as: UTF8.self).split(separator: "\n").map { "    > " + $0 }.joined(separator: "\n")
    }

    static func outputNote(_ output: String, label: String = "its output") -> String {
        let t = output.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty { return "" }
        let lines = t.split(separator: "\n").suffix(15).map { "    > " + $0 }.joined(separator: "\n")
        return "\n  \(label):\n" + lines
    }

    /// Seconds from each machine's start to its first successful command.
    public var firstSuccessTimes: [(String, Double)] { machines.compactMap { m in m.firstSuccessAfter.map { (m.name, $0) } } }
}

extension CallArguments {
    /// For variadic functions (`succeed(*commands, timeout=…)`): only keywords are bound.
    func bind(_ names: [String], required: Int, extra keywords: [String]) throws -> [String: ScriptValue] {
        var out: [String: ScriptValue] = [:]
        for (k, v) in self.keywords {
            guard keywords.contains(k) else { throw KilnError("\(function)() got an unexpected keyword argument '\(k)'") }
            out[k] = v
        }
        return out
    }
}
