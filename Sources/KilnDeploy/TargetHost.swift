import Foundation
import KilnSupport

/// A machine reached over SSH, as `--target-host [USER@]HOST[:PORT]` names it. Every call
/// is one `ssh` in batch mode (a password prompt would hang a deployment) with the options
/// in KILN_SSH_OPTS (like nixos-rebuild's NIX_SSHOPTS), e.g. `-i KEY` or
/// `-o StrictHostKeyChecking=accept-new`; the user's ~/.ssh/config applies as usual.
public struct TargetHost: Sendable, CustomStringConvertible {
    public var user: String?
    public var host: String
    public var port: Int?
    /// Extra ssh options (KILN_SSH_OPTS, split at spaces).
    public var options: [String]
    /// Log in as `user` and run every command through `sudo -n` (nixos-rebuild's
    /// --use-remote-sudo): for machines where root does not log in over SSH.
    public var sudo: Bool

    public init(_ spec: String, options: [String] = TargetHost.environmentOptions, sudo: Bool = false) throws {
        self.options = options
        self.sudo = sudo
        var rest = Substring(spec)
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        func port(_ s: Substring) throws -> Int {
            guard let p = Int(s), (1...65535).contains(p) else {
                throw KilnError("--target-host '\(spec)': '\(s)' is not a port number", hint: "write [USER@]HOST[:PORT], e.g. root@10.0.0.5:2222")
            }
            return p
        }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            // [IPv6]:PORT
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { self.port = try port(after.dropFirst()) } else if !after.isEmpty {
                throw KilnError("--target-host '\(spec)': unexpected '\(after)' after the address")
            }
        } else if rest.filter({ $0 == ":" }).count == 1, let colon = rest.firstIndex(of: ":") {
            host = String(rest[..<colon])
            self.port = try port(rest[rest.index(after: colon)...])
        } else {
            host = String(rest)
        }
        if host.isEmpty || user == "" || host.hasPrefix("-") {
            throw KilnError("--target-host '\(spec)' names no machine", hint: "write [USER@]HOST[:PORT], e.g. root@10.0.0.5:2222")
        }
    }

    public static var environmentOptions: [String] {
        (ProcessInfo.processInfo.environment["KILN_SSH_OPTS"] ?? "").split(separator: " ").map(String.init)
    }

    public var description: String {
        (user.map { $0 + "@" } ?? "") + (host.contains(":") ? "[\(host)]" : host) + (port.map { ":\($0)" } ?? "")
    }

    var sshArguments: [String] {
        var a = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4"]
        if let port { a += ["-p", String(port)] }
        return a + options + [(user.map { $0 + "@" } ?? "") + host]
    }

    /// Runs `script` with bash on the machine (sent on stdin, so nothing is quoted). With
    /// `live`, the machine's output is shown as it comes (and stderr is still kept for errors).
    @discardableResult
    public func run(_ script: String, live: Bool = false, check: Bool = true, what: String) throws -> ToolOutput {
        try stream(command: "bash -s", live: live, check: check, what: what) { fd in
            let bytes = Array(script.utf8)
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; throw KilnError.posix("sending the script to \(self)") }
                off += n
            }
        }
    }

    /// Runs `command` on the machine with `send` writing its stdin (a pipe's descriptor).
    @discardableResult
    public func stream(command: String, live: Bool = false, check: Bool = true, what: String,
                       send: (Int32) throws -> Void) throws -> ToolOutput {
        guard let ssh = Tool.which("ssh") else {
            throw KilnError("required tool 'ssh' was not found in PATH", hint: "install Debian's openssh-client (scripts/install-deps.sh does)")
        }
        // -n: a sudo that wants a password fails at once instead of waiting for one.
        let remote = sudo ? "sudo -n -- " + command : command
        let argv = Tool.childCommand([ssh] + sshArguments.dropFirst() + ["--", remote])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        // A machine that goes away mid-stream must be an error here, not a SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        do { try process.run() } catch { throw KilnError("could not start ssh: \(error.systemReason)") }
        let out = Collected(), err = Collected()
        let group = DispatchGroup()
        for (pipe, box, echo) in [(outPipe, out, live ? FileHandle.standardOutput : nil), (errPipe, err, live ? FileHandle.standardError : nil)] {
            group.enter()
            DispatchQueue.global().async {
                let h = pipe.fileHandleForReading
                while true {
                    let d = h.availableData
                    if d.isEmpty { break }
                    box.append(d)
                    echo?.write(d)
                }
                group.leave()
            }
        }
        var sendError: Error?
        do { try send(inPipe.fileHandleForWriting.fileDescriptor) } catch { sendError = error }
        try? inPipe.fileHandleForWriting.close()
        group.wait()
        process.waitUntilExit()
        let result = ToolOutput(status: process.terminationStatus, stdout: out.data, stderr: err.data)
        if process.terminationReason == .uncaughtSignal {
            throw KilnError("\(what) on \(self): ssh was killed by signal \(process.terminationStatus)")
        }
        if result.status == 255 { throw sshFailure(result.stderrText) }
        if sudo && result.status != 0 && result.stderrText.contains("sudo:") && result.stderrText.contains("password") {
            throw KilnError("\(self): sudo wants a password, and kiln switch cannot type one (\(result.stderrText.split(separator: "\n").last ?? ""))",
                            hint: "let \(user ?? "the user") run commands as root without a password: security.sudo.wheelNeedsPassword = false with the user in the wheel group, or a NOPASSWD rule in security.sudo.extraRules")
        }
        if check && result.status != 0 {
            throw remoteFailure(result, what: what, live: live)
        }
        if let sendError { throw sendError }
        return result
    }

    /// What went wrong reaching the machine, and how to fix it.
    func sshFailure(_ stderr: String) -> KilnError {
        let p = port.map { "-p \($0) " } ?? ""
        let last = stderr.split(separator: "\n").suffix(3).joined(separator: "\n")
        if stderr.contains("Host key verification failed") || stderr.contains("IDENTIFICATION HAS CHANGED") {
            return KilnError("\(self): the machine's SSH host key is not known (or changed), so ssh refused to trust it:\n\(last)",
                             hint: "check the key's fingerprint on the machine's console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then add it: ssh-keyscan \(p)\(host) >> ~/.ssh/known_hosts; or trust it on first use with KILN_SSH_OPTS='-o StrictHostKeyChecking=accept-new'")
        }
        if stderr.contains("Connection refused") {
            return KilnError("\(self): the connection was refused (nothing listens on port \(port ?? 22))",
                             hint: "is the machine up, and does its configuration set services.openssh.enable = true?")
        }
        if stderr.contains("Permission denied") {
            return KilnError("\(self): the machine refused the login as \(user ?? "your user name"):\n\(last)",
                             hint: "kiln switch logs in with a key: list your public key in users.users.\(user ?? "root").openssh.authorizedKeys.keys, and pass its private key with KILN_SSH_OPTS='-i KEY' if ssh does not find it")
        }
        if stderr.contains("timed out") || stderr.contains("No route to host") || stderr.contains("Could not resolve") {
            return KilnError("\(self): cannot reach the machine:\n\(last)")
        }
        return KilnError("\(self): ssh failed:\n\(last.isEmpty ? "(no message)" : last)")
    }

    func remoteFailure(_ r: ToolOutput, what: String, live: Bool) -> KilnError {
        let text = r.stderrText
        if text.contains("No space left on device") {
            return KilnError("\(what) on \(self): the machine's disk is full; nothing was installed",
                             hint: "free space with kiln gc --target-host \(self) --delete-older-than 30d (or --keep N)")
        }
        let tail = live ? "" : ":\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
        return KilnError("\(what) on \(self) failed with exit status \(r.status)\(live ? " (its output is above)" : tail)")
    }
}

/// Bytes read by a reader thread.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = Data()
    func append(_ d: Data) { lock.lock(); buffer.append(d); lock.unlock() }
    var data: Data { lock.lock(); defer { lock.unlock() }; return buffer }
}
