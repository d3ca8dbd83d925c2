import Foundation

/// Progress for long work. On a terminal a stage redraws one line with its count; elsewhere
/// (CI logs, pipes) it prints a line when a stage begins and one when it ends.
public final class Progress: @unchecked Sendable {
    public static let shared = Progress()

    private let lock = NSLock()
    private let interactive: Bool
    private var stage: String?
    private var started = Date()
    private var lastDraw = Date.distantPast
    public var quiet = false

    public init() {
        interactive = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["CI"] == nil
    }

    /// Begins a named stage ("fetching", "unpacking", "writing ext4", ...). Logs get a line
    /// when it begins and one when it ends, so a long stage shows what it is doing.
    public func begin(_ name: String) {
        lock.lock(); defer { lock.unlock() }
        stage = name
        started = Date()
        if !quiet { write(interactive ? "\r\u{1B}[K\(name)..." : "\(name)...\n") }
    }

    /// Reports `done` of `total` units (nil when unknown) for the current stage.
    public func update(_ done: Int, of total: Int?, unit: String = "") {
        guard interactive, !quiet else { return }
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
        lastDraw = now
        let name = stage ?? ""
        if let total { write("\r\u{1B}[K\(name): \(done)/\(total) \(unit)") } else { write("\r\u{1B}[K\(name): \(done) \(unit)") }
    }

    /// Ends the current stage with a one-line summary.
    public func end(_ summary: String = "") {
        lock.lock(); defer { lock.unlock() }
        guard let name = stage, !quiet else { stage = nil; return }
        let secs = String(format: "%.1f", Date().timeIntervalSince(started))
        let line = "\(name): done in \(secs)s" + (summary.isEmpty ? "" : " (\(summary))")
        write(interactive ? "\r\u{1B}[K\(line)\n" : "\(line)\n")
        stage = nil
    }

    /// A plain informational line.
    public func note(_ text: String) {
        guard !quiet else { return }
        lock.lock(); defer { lock.unlock() }
        write((interactive && stage != nil ? "\r\u{1B}[K" : "") + text + "\n")
    }

    private func write(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }
}
