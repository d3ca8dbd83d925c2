import Foundation
import XCTest

/// Runs a host tool (looked up in PATH and the sbin directories) and returns its output.
struct Run {
    var status: Int32
    var stdout: Data
    var stderr: String
    var text: String { String(decoding: stdout, as: UTF8.self) }
}

func runTool(_ args: [String], environment: [String: String]? = nil) throws -> Run {
    let process = Process()
    let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
    guard let exe = dirs.map({ $0 + "/" + args[0] }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw XCTSkip("tool \(args[0]) is not installed")
    }
    process.executableURL = URL(fileURLWithPath: exe)
    process.arguments = Array(args.dropFirst())
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let errBox = ErrBox()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, stdout: o, stderr: String(decoding: errBox.data, as: UTF8.self))
}

private final class ErrBox: @unchecked Sendable { var data = Data() }

func makeTempDir(_ name: String = "kilnimage-test") throws -> String {
    var template = Array((NSTemporaryDirectory() + "/\(name).XXXXXX").utf8CString)
    guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw NSError(domain: "test", code: 1)
    }
    return String(cString: p)
}

/// Deterministic pseudo-random bytes (xorshift), so big test files don't compress to nothing.
func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var x = seed | 1
    var out = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        var v = x
        for _ in 0..<8 where i < count { out[i] = UInt8(truncatingIfNeeded: v); v >>= 8; i += 1 }
    }
    return out
}
