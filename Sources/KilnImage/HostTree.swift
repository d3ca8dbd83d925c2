import Foundation
import KilnSupport
import KilnStore

extension FileNode {
    /// The entries of a directory tree on the build host, parents before children and
    /// siblings sorted, with each entry's mode, owner and group as `lstat` reports them
    /// (what `mke2fs -d` copies). `kiln mkfs` writes these; the build pipeline never does,
    /// since its owners come from the store's manifests instead.
    /// - Returns: the entries and the total size of the regular files in bytes.
    /// - Throws: when the tree or an entry cannot be read.
    public static func hostTree(_ root: String) throws -> (entries: [FileNode], bytes: UInt64) {
        var st = stat()
        guard lstat(root, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw KilnError("'\(root)' is not a directory")
        }
        var entries = [FileNode(path: "/", kind: .directory, mode: UInt16(st.st_mode & 0o7777), uid: st.st_uid, gid: st.st_gid)]
        var bytes: UInt64 = 0
        func walk(_ host: String, _ path: String) throws {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: host).sorted() } catch {
                throw KilnError.file("cannot list '\(host)'", error)
            }
            var subdirectories: [(String, String)] = []
            for name in names {
                let h = host + "/" + name, p = (path == "/" ? "" : path) + "/" + name
                var st = stat()
                guard lstat(h, &st) == 0 else { throw KilnError("cannot stat '\(h)': \(String(cString: strerror(errno)))") }
                let mode = UInt16(st.st_mode & 0o7777)
                switch st.st_mode & S_IFMT {
                case S_IFDIR:
                    entries.append(FileNode(path: p, kind: .directory, mode: mode, uid: st.st_uid, gid: st.st_gid))
                    subdirectories.append((h, p))
                case S_IFREG:
                    entries.append(FileNode(path: p, kind: .file(source: h), mode: mode, uid: st.st_uid, gid: st.st_gid))
                    bytes += UInt64(st.st_size)
                case S_IFLNK:
                    let target: String
                    do { target = try FileManager.default.destinationOfSymbolicLink(atPath: h) } catch {
                        throw KilnError.file("cannot read the link '\(h)'", error)
                    }
                    entries.append(FileNode(path: p, kind: .symlink(target: target), mode: 0o777, uid: st.st_uid, gid: st.st_gid))
                default:
                    throw KilnError("'\(h)' is a device, socket or FIFO, which kiln mkfs does not copy")
                }
            }
            for (h, p) in subdirectories { try walk(h, p) }
        }
        try walk(root, "/")
        return (entries, bytes)
    }
}
