import Foundation
import KilnSupport

/// How QEMU runs the guest. KVM when it really works; TCG (emulation) otherwise.
public enum Accelerator: String, Sendable {
    case kvm, tcg

    /// Probes KVM with a short time limit instead of assuming it: `/dev/kvm` can exist while
    /// nested KVM hangs a guest kernel. The probe boots `kernel` (no root, so it panics at
    /// once) under KVM and accepts KVM only if the panic message arrives within the limit.
    /// The result is remembered for the host's boot in Kiln's cache.
    public static func probe(kernel: String?, cacheDirectory: String) -> Accelerator {
        if let forced = ProcessInfo.processInfo.environment["KILN_ACCEL"], let a = Accelerator(rawValue: forced) { return a }
        guard access("/dev/kvm", R_OK | W_OK) == 0 else { return .tcg }
        let bootID = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        let memo = cacheDirectory + "/kvm-probe"
        if let text = try? String(contentsOfFile: memo, encoding: .utf8) {
            let parts = text.split(separator: " ")
            if parts.count == 2, parts[0] == bootID, let a = Accelerator(rawValue: String(parts[1])) { return a }
        }
        guard let kernel else { return .tcg }
        let result = runProbe(kernel: kernel)
        try? FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        try? "\(bootID) \(result.rawValue)".write(toFile: memo, atomically: true, encoding: .utf8)
        return result
    }

    private static func runProbe(kernel: String) -> Accelerator {
        guard let qemu = Tool.which("qemu-system-x86_64") else { return .tcg }
        let p = Process()
        let argv = Tool.childCommand([qemu])  // dies with kiln
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst()) + ["-accel", "kvm", "-cpu", "host", "-m", "256", "-nodefaults", "-display", "none", "-no-reboot",
                       "-serial", "stdio", "-kernel", kernel, "-append", "console=ttyS0 panic=-1 root=/dev/nonexistent"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return .tcg }
        let box = ProbeBox()
        let reader = Thread {
            let h = out.fileHandleForReading
            while true {
                let d = h.availableData
                if d.isEmpty { break }
                box.append(d)
            }
        }
        reader.start()
        let deadline = Date().addingTimeInterval(8)
        while Date() < deadline && p.isRunning && !box.sawPanic { usleep(100_000) }
        let ok = box.sawPanic
        if p.isRunning { p.terminate(); usleep(200_000); if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        return ok ? .kvm : .tcg
    }
}

private final class ProbeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func append(_ d: Data) { lock.lock(); text += String(decoding: d, as: UTF8.self); lock.unlock() }
    var sawPanic: Bool { lock.lock(); defer { lock.unlock() }; return text.contains("Kernel panic") || text.contains("VFS: Unable") }
}
