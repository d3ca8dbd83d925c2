import Foundation

/// A cpio "newc" archive as the kernel unpacks an initramfs. Written by hand so that owners,
/// modes, inode numbers and times are exactly what we say: reproducible and root-free.
struct CpioWriter {
    private(set) var data = Data()
    private var inode: UInt32 = 1
    let mtime: UInt32

    init(mtime: UInt32) { self.mtime = mtime }

    enum Kind { case directory, file([UInt8]), symlink(String), charDevice(major: UInt32, minor: UInt32) }

    mutating func add(_ path: String, _ kind: Kind, mode: UInt32) {
        let (type, body): (UInt32, [UInt8])
        var rmaj: UInt32 = 0, rmin: UInt32 = 0
        switch kind {
        case .directory: (type, body) = (0o040000, [])
        case .file(let b): (type, body) = (0o100000, b)
        case .symlink(let t): (type, body) = (0o120000, Array(t.utf8))
        case .charDevice(let ma, let mi): (type, body) = (0o020000, []); rmaj = ma; rmin = mi
        }
        header(path: path, mode: type | mode, nlink: { if case .directory = kind { return 2 } else { return 1 } }(),
               size: UInt32(body.count), rdevMajor: rmaj, rdevMinor: rmin)
        data.append(contentsOf: body)
        pad()
    }

    mutating func finish() {
        inode = 0
        header(path: "TRAILER!!!", mode: 0, nlink: 1, size: 0, rdevMajor: 0, rdevMinor: 0)
        // The kernel reads the archive in 512-byte blocks.
        while data.count % 512 != 0 { data.append(0) }
    }

    private mutating func header(path: String, mode: UInt32, nlink: UInt32, size: UInt32, rdevMajor: UInt32, rdevMinor: UInt32) {
        let name = Array(path.utf8) + [0]
        let fields: [UInt32] = [inode, mode, 0, 0, nlink, mtime, size, 0, 0, rdevMajor, rdevMinor, UInt32(name.count), 0]
        var h = "070701"
        for f in fields { h += String(format: "%08x", f) }
        data.append(contentsOf: Array(h.utf8))
        data.append(contentsOf: name)
        pad()
        if inode != 0 { inode += 1 }
    }

    private mutating func pad() { while data.count % 4 != 0 { data.append(0) } }
}
