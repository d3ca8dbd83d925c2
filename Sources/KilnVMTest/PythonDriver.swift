import Foundation
import KilnSupport

/// A test script as the driver runs it: its text and where it comes from, so that Python's
/// tracebacks and syntax errors name the test file's own lines.
public struct TestScriptSource: Sendable {
    public var text: String
    /// The test file (.nix) the script is written in.
    public var file: String
    /// The line of `file` holding the script's first line; 0 when it cannot be told.
    public var firstLine: Int

    public init(text: String, file: String, firstLine: Int) {
        self.text = text; self.file = file; self.firstLine = firstLine
    }
}

/// The Python half of the test driver (driver/kiln_test_driver.py, carried inside kiln) and
/// how to start it: python3 runs the script; kiln answers its requests (Driver.swift).
enum PythonDriver {
    enum Mode: String { case check = "--check", run = "--run", interactive = "--interactive" }

    /// Debian's python3 first: a pyenv or virtualenv python3 earlier in PATH may not be
    /// readable by the user the tests run as, and the driver needs nothing beyond the
    /// standard library.
    static func python() throws -> String {
        for candidate in ["/usr/bin/python3", "python3"] {
            if let p = Tool.which(candidate) { return p }
        }
        throw KilnError("python3 is not installed: kiln test runs the test script in python3",
                        hint: "run scripts/install-deps.sh (Debian package python3)")
    }

    /// The driver's source: the embedded one, or `KILN_TEST_DRIVER`'s file (a developer's
    /// override, to edit and rerun without rebuilding kiln).
    static func source() throws -> Data {
        if let path = ProcessInfo.processInfo.environment["KILN_TEST_DRIVER"], !path.isEmpty {
            guard let d = FileManager.default.contents(atPath: path) else { throw KilnError("KILN_TEST_DRIVER: cannot read \(path)") }
            return d
        }
        guard let b64 = EmbeddedFiles.files["driver/kiln_test_driver.py"], let d = Data(base64Encoded: b64) else {
            throw KilnError("internal: the test driver is not embedded in kiln")
        }
        return d
    }

    /// Writes the driver and the script into `directory` and returns python3's process, not
    /// yet started. `socket`: where kiln listens (nil for `.check`).
    static func process(_ script: TestScriptSource, mode: Mode, directory: String, socket: String?) throws -> Process {
        let driverPath = directory + "/kiln_test_driver.py", scriptPath = directory + "/test-script.py"
        guard FileManager.default.createFile(atPath: driverPath, contents: try source()),
              FileManager.default.createFile(atPath: scriptPath, contents: Data(script.text.utf8)) else {
            throw KilnError("cannot write the test driver into \(directory)")
        }
        let p = Process()
        let argv = Tool.childCommand([try python(), "-B", "-u", driverPath, mode.rawValue])  // dies with kiln
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env["KILN_TEST_SCRIPT"] = scriptPath
        env["KILN_TEST_FILE"] = script.file
        env["KILN_TEST_LINE"] = String(script.firstLine)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if let socket { env["KILN_DRIVER_SOCKET"] = socket }
        p.environment = env
        return p
    }

    /// Compiles the script without running it, so a syntax error is reported before any node
    /// is built. - Throws: `KilnError` with Python's message at the test file's line.
    static func check(_ script: TestScriptSource) throws {
        let dir = try KilnPaths.makeTemporaryDirectory("kvt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try process(script, mode: .check, directory: dir, socket: nil)
        let err = Pipe()
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        do { try p.run() } catch { throw KilnError("cannot start python3: \(error.localizedDescription)") }
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            throw KilnError("the test script does not compile:\n" + message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
