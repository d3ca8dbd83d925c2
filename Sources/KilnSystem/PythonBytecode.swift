import Foundation
import KilnPrimitives
import KilnStore
import KilnSupport

/// Bytecode for the Python modules of the system path, compiled when the generation is built.
///
/// Debian compiles a package's modules in its maintainer scripts (py3compile), which Kiln
/// does not run, and the store is read-only on the machine, so Python compiled every module
/// again in every process: cloud-init spent ~50 s of its first boot on it under TCG, every
/// `fail2ban-client` call 2–4 s. The system path is a forest of real folders with a link
/// per file, so the bytecode can sit where Python looks for it, in `__pycache__` beside each
/// link, inside the `sw` object: nothing in a package's store object changes, and Python on
/// the machine needs no setting. The files are checked-hash pycs (PEP 552): Python
/// validates them against the source's hash, never its mtime, so a stale one can never be
/// used and the bytes do not depend on the build host's clock.
///
/// The host's python3 compiles them, so it must be the system's version (the tag, e.g.
/// cpython-311, is the check); otherwise the system goes without, as before, with a note.
/// Compiled files are kept in the cache by source hash, path and tag: a rebuild compiles
/// nothing.
enum PythonBytecode {
    /// Adds `DIR/__pycache__/NAME.TAG.pyc` to `sw` for every module `sw` links to under
    /// lib/python3*/. Returns how many modules got bytecode.
    @discardableResult
    static func add(to sw: inout GeneratedObject, packages: [StoreObject], cacheDirectory: String) throws -> Int {
        // The system's Python: its lib/python3.X folder.
        let versions = Set(sw.entries.keys.compactMap { rel -> String? in
            let parts = rel.split(separator: "/", maxSplits: 3)
            guard parts.count >= 2, parts[0] == "lib", parts[1].hasPrefix("python3."),
                  parts[1].dropFirst(8).allSatisfy(\.isNumber) else { return nil }
            return String(parts[1].dropFirst(6))
        })
        guard versions.count == 1, let version = versions.first else { return 0 }
        let tag = "cpython-" + version.replacingOccurrences(of: ".", with: "")
        guard let hostTag = hostCacheTag() else {
            Progress.shared.note("no python3 on the build host: the system's Python modules get no bytecode (Python compiles them at every start)")
            return 0
        }
        guard hostTag == tag else {
            Progress.shared.note("the build host's python3 is \(hostTag), the system's \(tag): its modules get no bytecode (Python compiles them at every start)")
            return 0
        }

        // The modules the forest links to, each with the file it links to.
        struct Module { var rel: String; var source: String; var key: String; var cached: String }
        var modules: [Module] = []
        for obj in packages {
            for e in obj.manifest.entries where e.kind == .file && e.path.hasPrefix("usr/lib/python3") && e.path.hasSuffix(".py") {
                let rel = String(e.path.dropFirst(4))
                guard rel.hasPrefix("lib/python3/") || rel.hasPrefix("lib/python\(version)/"),
                      case .symlink(let target)? = sw.entries[rel]?.kind, target == obj.storeFile(e.path),
                      let sha = e.sha256 else { continue }
                // What the bytecode depends on: the source, the path Python imports it by (its
                // co_filename) and the interpreter.
                let key = Hex.encode(Digest.sha256("\(sha)\n/usr/\(rel)\n\(tag)\nchecked-hash\n"))
                let cached = cacheDirectory + "/" + key.prefix(2) + "/" + key + ".pyc"
                modules.append(Module(rel: rel, source: obj.hostFile(e.path), key: key, cached: cached))
            }
        }
        guard !modules.isEmpty else { return 0 }
        let fm = FileManager.default
        let missing = modules.filter { !fm.fileExists(atPath: $0.cached) && !fm.fileExists(atPath: $0.cached + ".skip") }
        if !missing.isEmpty {
            let started = Date()
            Progress.shared.note("compiling \(missing.count) Python modules (\(tag)) with the host's python3...")
            for dir in Set(missing.map { ($0.cached as NSString).deletingLastPathComponent }) {
                try KilnPaths.createCacheFolder(dir, cache: cacheDirectory)
            }
            var jobs = ""
            for m in missing {
                let job: [String: String] = ["src": m.source, "dfile": "/usr/" + m.rel, "out": m.cached]
                let data = try JSONSerialization.data(withJSONObject: job, options: [.sortedKeys])
                jobs += String(decoding: data, as: UTF8.self) + "\n"
            }
            let out = try Tool.run(["python3", "-I", "-c", compiler], stdin: Data(jobs.utf8))
            Progress.shared.note("compiling Python modules: " + out.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
                                 + String(format: " in %.1fs", Date().timeIntervalSince(started)))
        }
        var added = 0
        for m in modules {
            guard let bytes = fm.contents(atPath: m.cached) else { continue }   // a .skip: not valid Python 3
            let dir = (m.rel as NSString).deletingLastPathComponent
            let name = ((m.rel as NSString).lastPathComponent as NSString).deletingPathExtension
            sw.data(dir + "/__pycache__/" + name + "." + tag + ".pyc", [UInt8](bytes))
            added += 1
        }
        return added
    }

    /// The host python3's bytecode tag, or nil without a python3.
    static func hostCacheTag() -> String? {
        guard let out = try? Tool.run(["python3", "-I", "-c", "import sys; print(sys.implementation.cache_tag)"], check: false),
              out.status == 0 else { return nil }
        let tag = out.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        return tag.isEmpty ? nil : tag
    }

    /// Compiles the jobs on stdin (one JSON object per line: src, dfile, out), each to a
    /// temporary file renamed into place, so concurrent builds never see half a pyc. A
    /// source Python 3 cannot compile (a Python 2 file a package ships unused) gets a .skip
    /// marker, as py3compile skips it.
    static let compiler = """
        import json, os, py_compile, sys
        done = skipped = 0
        for line in sys.stdin:
            job = json.loads(line)
            # In the cache's bytecode folder itself, where kiln's sweep finds a killed build's leftovers.
            tmp = os.path.join(os.path.dirname(os.path.dirname(job["out"])), "%s.tmp-%d" % (os.path.basename(job["out"]), os.getpid()))
            try:
                py_compile.compile(job["src"], cfile=tmp, dfile=job["dfile"], doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
                os.replace(tmp, job["out"])
                done += 1
            except (py_compile.PyCompileError, SyntaxError, ValueError):
                with open(job["out"] + ".skip", "w"):
                    pass
                skipped += 1
        print("%d compiled, %d not Python 3" % (done, skipped))
        """
}
