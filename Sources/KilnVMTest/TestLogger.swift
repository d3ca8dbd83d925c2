import Foundation
import KilnSupport

/// What a test run reports: progress lines on the terminal (`[  12.3s] server: waiting for
/// unit sshd.service`), the same lines in `log.txt` of the run directory, and the subtests'
/// results for JUnit XML. Console output goes to a file per machine (and to the terminal
/// too with `echoConsole`).
public final class TestLogger: @unchecked Sendable {
    public struct SubtestResult: Sendable {
        public var name: String
        public var seconds: Double
        public var failure: String?
    }

    private let lock = NSLock()
    private let start = Date()
    private let logFile: FileHandle?
    private var depth = 0
    /// Nesting opened by the script's driver (`nest_begin`), closed by `endNested`.
    private var openNested: [(what: String, machine: String?, since: Date)] = []
    private var echo: Bool
    /// Whether console output goes to the terminal too (`serial_stdout_on()` / `_off()`).
    public var echoConsole: Bool {
        get { lock.lock(); defer { lock.unlock() }; return echo }
        set { lock.lock(); echo = newValue; lock.unlock() }
    }
    public private(set) var subtests: [SubtestResult] = []
    private var openSubtest: (String, Date)?

    public init(logPath: String?, echoConsole: Bool) {
        if let logPath, FileManager.default.createFile(atPath: logPath, contents: nil) {
            logFile = FileHandle(forWritingAtPath: logPath)
        } else {
            logFile = nil
        }
        self.echo = echoConsole
    }

    private func stamp() -> String { String(format: "[%6.1fs]", Date().timeIntervalSince(start)) }

    /// One progress line, attributed to a machine when there is one.
    public func log(_ text: String, machine: String? = nil) {
        lock.lock(); defer { lock.unlock() }
        let prefix = String(repeating: "  ", count: depth) + (machine.map { "\($0): " } ?? "")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var out = ""
        for (i, l) in lines.enumerated() { out += (i == 0 ? stamp() + " " + prefix : String(repeating: " ", count: 10) + prefix) + l + "\n" }
        FileHandle.standardError.write(Data(out.utf8))
        try? logFile?.write(contentsOf: Data(out.utf8))
    }

    /// Logs what is about to happen, runs it, and logs how long it took (or that it failed).
    @discardableResult
    public func nested<T>(_ what: String, machine: String? = nil, _ body: () throws -> T) throws -> T {
        log(what, machine: machine)
        lock.lock(); depth += 1; lock.unlock()
        let t0 = Date()
        defer { lock.lock(); depth -= 1; lock.unlock() }
        do {
            let r = try body()
            let secs = Date().timeIntervalSince(t0)
            if secs >= 1 { log(String(format: "(done in %.1f s)", secs), machine: machine) }
            return r
        } catch {
            log(String(format: "(failed after %.1f s)", Date().timeIntervalSince(t0)), machine: machine)
            throw error
        }
    }

    /// The start of a nested step whose end comes later (`endNested`): the test driver's
    /// `with log.nested(…)`, which spans several requests.
    public func beginNested(_ what: String, machine: String? = nil) {
        log(what, machine: machine)
        lock.lock(); openNested.append((what, machine, Date())); depth += 1; lock.unlock()
    }

    public func endNested(failed: Bool) {
        lock.lock()
        guard let step = openNested.popLast() else { lock.unlock(); return }
        depth = max(0, depth - 1)
        lock.unlock()
        let secs = Date().timeIntervalSince(step.since)
        if failed {
            log(String(format: "(failed after %.1f s)", secs), machine: step.machine)
        } else if secs >= 1 {
            log(String(format: "(done in %.1f s)", secs), machine: step.machine)
        }
    }

    /// Console output of a machine, when echoing is on.
    public func console(_ machine: String, _ line: String) {
        guard echoConsole else { return }
        FileHandle.standardError.write(Data("\(machine) # \(line)\n".utf8))
    }

    public func beginSubtest(_ name: String) {
        log("subtest: \(name)")
        lock.lock(); openSubtest = (name, Date()); depth += 1; lock.unlock()
    }

    public func endSubtest(_ name: String, failure: String?) {
        lock.lock()
        let began = openSubtest?.1 ?? Date()
        openSubtest = nil
        depth = max(0, depth - 1)
        subtests.append(SubtestResult(name: name, seconds: Date().timeIntervalSince(began), failure: failure))
        lock.unlock()
    }

    /// JUnit XML: one test case per subtest; a script without subtests is one test case named
    /// after the test. A failure outside every subtest becomes its own failed case.
    public func junitXML(testName: String, failure: String?, seconds: Double) -> String {
        var cases = subtests
        if cases.isEmpty {
            cases = [SubtestResult(name: testName, seconds: seconds, failure: failure)]
        } else if let failure, !cases.contains(where: { $0.failure != nil }) {
            cases.append(SubtestResult(name: "\(testName) (outside subtests)", seconds: 0, failure: failure))
        }
        let failures = cases.filter { $0.failure != nil }.count
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites>\n"
        x += "  <testsuite name=\"\(Self.escape(testName))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" time=\"\(String(format: "%.3f", seconds))\">\n"
        for c in cases {
            x += "    <testcase classname=\"\(Self.escape(testName))\" name=\"\(Self.escape(c.name))\" time=\"\(String(format: "%.3f", c.seconds))\""
            if let f = c.failure {
                let first = f.split(separator: "\n").first.map(String.init) ?? f
                x += ">\n      <failure message=\"\(Self.escape(first))\">\(Self.escape(f))</failure>\n    </testcase>\n"
            } else {
                x += "/>\n"
            }
        }
        x += "  </testsuite>\n</testsuites>\n"
        return x
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n", "\t": out.unicodeScalars.append(u)
            case _ where u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF: out += "?"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
