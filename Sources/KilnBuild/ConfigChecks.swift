import Foundation
import KilnPackages
import KilnPlan
import KilnStore
import KilnSupport

/// Generated configuration files checked while the system is built, by the checker of the
/// package that reads them, as NixOS's build checks them: a sudoers that `visudo -c` refuses
/// or an sshd_config that `sshd -t` refuses stops the build with the checker's words, before
/// any image is written. The checkers run from the realised store objects (their own dynamic
/// loader and libraries), so the build host needs none of these packages installed and no
/// privilege; a system for another architecture is left to the checks on the machine
/// (the VM tests run each checker there).
enum ConfigChecks {
    struct Checker: Sendable {
        /// The file, relative to /etc.
        let etcPath: String
        /// The options that write it, for the error.
        let options: String
        let package: String
        /// The program, relative to the package's root.
        let program: String
        var programName: String { (program as NSString).lastPathComponent }
        /// The checker's arguments, given the file to check.
        let arguments: @Sendable (String) -> [String]
        /// Whether what the checker said is about the file: sshd -t, run as an ordinary user
        /// on a host without sshd's account or host keys, stops at those after it has parsed
        /// the file; only the errors that name the file count.
        let failed: @Sendable (ToolOutput, String) -> Bool
    }

    static let checkers: [Checker] = [
        Checker(etcPath: "sudoers", options: "security.sudo (extraRules, extraConfig)", package: "sudo",
                program: "usr/sbin/visudo", arguments: { ["-c", "-f", $0] },
                failed: { out, _ in out.status != 0 }),
        Checker(etcPath: "ssh/sshd_config", options: "services.openssh (settings, extraConfig)", package: "openssh-server",
                program: "usr/sbin/sshd", arguments: { ["-t", "-f", $0] },
                failed: { out, file in out.status != 0 && (out.stderrText + out.stdoutText).contains(file) }),
    ]

    /// The dynamic loader of Debian's libc6 for `architecture`, relative to its root.
    static func loader(_ architecture: Architecture) -> String {
        switch architecture {
        case .x86_64: return "lib64/ld-linux-x86-64.so.2"
        case .aarch64: return "lib/ld-linux-aarch64.so.1"
        }
    }

    /// Runs every checker whose file the plan writes and whose package the lock holds.
    /// - Throws: `KilnError` naming the file, the options and the checker's complaint.
    static func run(plan: SystemPlan, lock: LockFile, objects: [String: StoreObject]) throws {
        guard plan.architecture == Architecture.host else { return }
        let due = checkers.compactMap { c in plan.etc.first(where: { $0.path == c.etcPath && $0.text != nil }).map { (c, $0) } }
        guard !due.isEmpty, let libc = objects["libc6"] else { return }
        let work = try KilnPaths.makeTemporaryDirectory("kiln-check")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let triplet = plan.architecture.rawValue + "-linux-gnu"
        for (checker, file) in due {
            guard let package = objects[checker.package] else { continue }
            let closure = lock.closure(of: [checker.package]).compactMap { objects[$0.name] }
            let libraryPath = closure.flatMap { o in
                ["lib/\(triplet)", "usr/lib/\(triplet)", "usr/libexec/\(checker.package)"].map { o.hostFile($0) }
            }.filter { FileManager.default.fileExists(atPath: $0) }.joined(separator: ":")
            let path = work + "/" + checker.etcPath.replacingOccurrences(of: "/", with: "_")
            try Data((file.text ?? "").utf8).write(to: URL(fileURLWithPath: path))
            Progress.shared.begin("checking /etc/\(checker.etcPath) with \(checker.programName)")
            let out = try Tool.run([libc.hostFile(loader(plan.architecture)), "--library-path", libraryPath,
                                    package.hostFile(checker.program)] + checker.arguments(path), check: false)
            Progress.shared.end()
            if checker.failed(out, path) {
                let said = (out.stderrText + out.stdoutText).replacingOccurrences(of: path, with: "/etc/" + checker.etcPath)
                    .split(separator: "\n", omittingEmptySubsequences: true).prefix(20).joined(separator: "\n")
                throw KilnError("/etc/\(checker.etcPath), written from \(checker.options), is refused by \(checker.programName):\n\(said)",
                                hint: "run `kiln config PROFILE` to see the generated file; the VM tests run the same check on the machine")
            }
        }
    }
}
