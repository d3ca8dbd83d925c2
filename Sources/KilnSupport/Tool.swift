import Foundation

/// The result of running an external tool.
public struct ToolOutput: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    public init(status: Int32, stdout: Data, stderr: Data) { self.status = status; self.stdout = stdout; self.stderr = stderr }
}

/// Every external program Kiln uses is run through here: argument lists, never shell strings,
/// and failures that say which command failed and how.
public enum Tool {
    /// Runs `arguments[0]` (looked up in PATH) and waits for it.
    /// - Throws: `KilnError` if the tool is missing, is killed, or exits non-zero (unless `check` is false).
    @discardableResult
    public static func run(_ arguments: [String], cwd: String? = nil, environment: [String: String]? = nil,
                           stdin: Data? = nil, check: Bool = true, passthroughStderr: Bool = false) throws -> ToolOutput {
        guard let name = arguments.first else { throw KilnError("internal: empty command line") }
        guard let path = which(name) else {
            throw KilnError("required tool '\(name)' was not found in PATH",
                            hint: "run scripts/install-deps.sh (it installs the Debian packages Kiln needs)")
        }
        let process = Process()
        let argv = childCommand([path] + arguments.dropFirst())
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        if let environment {
            var env = ProcessInfo.processInfo.environment
            for (k, v) in environment { env[k] = v }
            process.environment = env
        }
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = passthroughStderr ? FileHandle.standardError : errPipe
        process.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        do { try process.run() } catch {
            throw KilnError("could not start '\(name)': \(error.systemReason)")
        }
        if let stdin {
            let h = inPipe.fileHandleForWriting
            DispatchQueue.global().async { try? h.write(contentsOf: stdin); try? h.close() }
        }
        // Read both pipes concurrently so neither can fill up and block the child.
        let errBox = DataBox()
        let group = DispatchGroup()
        if !passthroughStderr {
            group.enter()
            DispatchQueue.global().async {
                errBox.set(errPipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        let result = ToolOutput(status: process.terminationStatus, stdout: out, stderr: errBox.get())
        if check {
            if process.terminationReason == .uncaughtSignal {
                throw KilnError("'\(shellQuoted(arguments))' was killed by signal \(process.terminationStatus)")
            }
            if process.terminationStatus != 0 {
                let tail = result.stderrText.split(separator: "\n").suffix(15).joined(separator: "\n")
                throw KilnError("'\(shellQuoted(arguments))' failed with exit status \(process.terminationStatus)"
                                + (tail.isEmpty ? "" : ":\n\(tail)"))
            }
        }
        return result
    }

    /// `command` run so that it dies with kiln: util-linux's setpriv sets the parent-death
    /// signal (SIGKILL) and execs it, so a kiln killed with SIGKILL leaves no apt-get, qemu-img
    /// or QEMU behind (the thread that starts a child waits for it, so the child's parent
    /// lives as long as it should). Without setpriv the command runs as is.
    public static func childCommand(_ command: [String]) -> [String] {
        guard let setpriv = setprivPath, !command.isEmpty else { return command }
        return [setpriv, "--pdeathsig", "KILL", "--"] + command
    }

    private static let setprivPath: String? = which("setpriv")

    /// The absolute path of a program in PATH (plus the sbin directories an ordinary user lacks).
    public static func which(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// A command line one can paste into a shell.
    public static func shellQuoted(_ arguments: [String]) -> String {
        arguments.map { arg in
            if !arg.isEmpty && arg.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }) { return arg }
            return "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}

private final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
