import Foundation

/// Where Kiln keeps its host-side cache: `$KILN_CACHE_DIR`, else `$XDG_CACHE_HOME/kiln`,
/// else `~/.cache/kiln`.
public enum KilnPaths {
    public static var cacheDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["KILN_CACHE_DIR"], !d.isEmpty { return d }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/kiln" }
        return NSHomeDirectory() + "/.cache/kiln"
    }

    /// A fresh private temporary directory.
    public static func makeTemporaryDirectory(_ prefix: String = "kiln") throws -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array((base + "/\(prefix).XXXXXX").utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ buf in buf.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw KilnError("cannot create a temporary directory in \(base): \(String(cString: strerror(errno)))")
        }
        return String(cString: p)
    }
}
