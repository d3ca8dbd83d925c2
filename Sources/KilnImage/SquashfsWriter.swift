import CSquashfs
import Crypto
import Foundation
import KilnPrimitives
import KilnStore
import KilnSupport

/// Parameters of a squashfs image.
public struct SquashfsOptions: Sendable {
    /// Data block size: NixOS's ISOs use 1 MiB (fewer, larger blocks compress better).
    public var blockSize: Int = 1 << 20
    /// zstd's level (1–22); NixOS's ISO uses 19.
    public var zstdLevel: Int
    /// mtime of every inode and of the image.
    public var timestamp: UInt32
    /// Compression threads. The block processor writes blocks in submission order, so the
    /// bytes do not depend on it.
    public var workers: Int

    public init(zstdLevel: Int, timestamp: UInt32, workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.zstdLevel = zstdLevel; self.timestamp = timestamp; self.workers = max(1, workers)
    }
}

/// squashfs images through squashfs-tools-ng's libsquashfs, in process: the live root of an
/// ISO. Owners, modes and times come from the nodes (the store's manifests), never from the
/// host, so no root or fakeroot is needed; directory entries are sorted and inode numbers
/// follow the tree, so the same nodes give the same bytes.
///
/// libsquashfs compresses and deduplicates the data blocks, packs the fragments and encodes
/// the tables; this decides the layout: files' data in tree order, then one inode per node
/// (children before their directory, whose listing needs their inode references), the root
/// last, as mksquashfs numbers them.
public enum SquashfsWriter {
    public static func write(_ nodes: [FileNode], to path: String, options: SquashfsOptions, progress: KilnSupport.Progress?) throws {
        let tree = try Tree(nodes)
        progress?.begin("writing squashfs (zstd \(options.zstdLevel))")
        var writer = try Writer(path: path, options: options)
        defer { writer.close() }
        let bytes = try writer.writeData(tree, progress: progress)
        try writer.writeTables(tree)
        progress?.end("\(tree.nodes.count) entries, \(bytes >> 20) MiB of file data in \(try writer.size() >> 20) MiB")
    }

    /// The nodes as a tree: children by parent, sorted bytewise as squashfs requires.
    struct Tree {
        var nodes: [FileNode]
        /// Index of each directory's children, sorted by name.
        var children: [[Int]]
        var names: [String]
        /// Directories children first (post-order), the root last.
        var order: [Int]

        init(_ input: [FileNode]) throws {
            var nodes = [FileNode(path: "/", kind: .directory, mode: 0o755)]
            var index = ["/": 0]
            for n in input {
                if n.path == "/" { nodes[0] = n; continue }
                guard index[n.path] == nil else { throw KilnError("squashfs: '\(n.path)' is listed twice") }
                index[n.path] = nodes.count
                nodes.append(n)
            }
            var children = [[Int]](repeating: [], count: nodes.count)
            var names = [String](repeating: "", count: nodes.count)
            for (i, n) in nodes.enumerated() where i > 0 {
                let slash = n.path.lastIndex(of: "/") ?? n.path.startIndex
                let parent = slash == n.path.startIndex ? "/" : String(n.path[..<slash])
                guard let p = index[parent], case .directory = nodes[p].kind else {
                    throw KilnError("squashfs: the parent of '\(n.path)' is not a directory listed before it")
                }
                names[i] = String(n.path[n.path.index(after: slash)...])
                children[p].append(i)
            }
            for i in children.indices { children[i].sort { names[$0].utf8.lexicographicallyPrecedes(names[$1].utf8) } }
            var order: [Int] = []
            func visit(_ d: Int) {
                for c in children[d] { if case .directory = nodes[c].kind { visit(c) } }
                order.append(d)
            }
            visit(0)
            self.nodes = nodes; self.children = children; self.names = names; self.order = order
        }
    }

    /// libsquashfs' objects for one image, destroyed together.
    struct Writer {
        let path: String
        let options: SquashfsOptions
        var file: UnsafeMutablePointer<sqfs_file_t>
        var compressor: UnsafeMutablePointer<sqfs_compressor_t>
        var blockWriter: UnsafeMutablePointer<sqfs_block_writer_t>
        var fragments: OpaquePointer
        var ids: OpaquePointer
        var processor: OpaquePointer?
        var superblock = sqfs_super_t()
        /// Each regular file's inode, which the block processor fills in (and may move).
        var fileInodes: UnsafeMutablePointer<UnsafeMutablePointer<sqfs_inode_generic_t>?>?
        var fileInodeOf: [Int: Int] = [:]

        init(path: String, options: SquashfsOptions) throws {
            self.path = path; self.options = options
            guard let file = sqfs_open_file(path, UInt32(SQFS_FILE_OPEN_OVERWRITE.rawValue)) else {
                throw KilnError("squashfs: cannot create '\(path)': \(String(cString: strerror(errno)))")
            }
            self.file = file
            var cfg = sqfs_compressor_config_t()
            func check(_ result: Int32, _ what: String) throws { try sqfsCheck(result, what, path) }
            try check(sqfs_compressor_config_init(&cfg, SQFS_COMP_ZSTD, options.blockSize, 0), "configuring zstd")
            CSquashfs_set_zstd_level(&cfg, UInt32(options.zstdLevel))
            var cmp: UnsafeMutablePointer<sqfs_compressor_t>?
            try check(sqfs_compressor_create(&cfg, &cmp), "creating the zstd compressor (level \(options.zstdLevel))")
            guard let cmp else { throw KilnError("squashfs: libsquashfs returned no compressor") }
            compressor = cmp
            try check(sqfs_super_init(&superblock, options.blockSize, options.timestamp, SQFS_COMP_ZSTD), "initialising the superblock")
            try check(sqfs_super_write(&superblock, file), "writing the superblock")
            let written = CSquashfs_write_compressor_options(cmp, file)
            try check(written, "writing the compressor options")
            if written > 0 { superblock.flags |= UInt16(SQFS_FLAG_COMPRESSOR_OPTIONS.rawValue) }
            guard let bw = sqfs_block_writer_create(file, 4096, 0), let ft = sqfs_frag_table_create(0),
                  let ids = sqfs_id_table_create(0) else {
                throw KilnError("squashfs: libsquashfs could not allocate its writers")
            }
            blockWriter = bw; fragments = ft; self.ids = ids
        }

        mutating func close() {
            if let processor { sqfs_destroy(UnsafeMutableRawPointer(processor)) }
            processor = nil
            if let fileInodes {
                for i in 0..<fileInodeOf.count { free(fileInodes[i]) }
                fileInodes.deallocate()
            }
            fileInodes = nil
            sqfs_destroy(UnsafeMutableRawPointer(ids))
            sqfs_destroy(UnsafeMutableRawPointer(fragments))
            sqfs_destroy(UnsafeMutableRawPointer(blockWriter))
            sqfs_destroy(UnsafeMutableRawPointer(compressor))
            sqfs_destroy(UnsafeMutableRawPointer(file))
        }

        func size() throws -> UInt64 { CSquashfs_file_size(file) }

        /// Every regular file's bytes, in tree order; store files are checked against their
        /// manifests' hashes as they are read. Returns the bytes read.
        mutating func writeData(_ tree: Tree, progress: KilnSupport.Progress?) throws -> UInt64 {
            guard let proc = sqfs_block_processor_create(options.blockSize, compressor, UInt32(options.workers),
                                                         options.workers * 8, blockWriter, fragments) else {
                throw KilnError("squashfs: cannot start libsquashfs' block processor")
            }
            processor = proc
            let files = tree.nodes.indices.filter {
                switch tree.nodes[$0].kind { case .file, .data: return true; default: return false }
            }
            let slots = UnsafeMutablePointer<UnsafeMutablePointer<sqfs_inode_generic_t>?>.allocate(capacity: max(files.count, 1))
            slots.initialize(repeating: nil, count: max(files.count, 1))
            fileInodes = slots
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 4096)
            defer { buffer.deallocate() }
            var total: UInt64 = 0
            for (k, i) in files.enumerated() {
                fileInodeOf[i] = k
                let node = tree.nodes[i]
                try check(sqfs_block_processor_begin_file(proc, slots + k, nil, 0), "starting \(node.path)")
                switch node.kind {
                case .data(let bytes):
                    if !bytes.isEmpty {
                        try bytes.withUnsafeBytes { b in try check(sqfs_block_processor_append(proc, b.baseAddress, b.count), "writing \(node.path)") }
                    }
                    total += UInt64(bytes.count)
                case .file(let source):
                    let input = try OpenFile(source, flags: O_RDONLY)
                    _ = posix_fadvise(input.fd, 0, 0, POSIX_FADV_SEQUENTIAL)
                    var hasher = node.sha256.map { _ in SHA256() }
                    var offset: UInt64 = 0
                    while true {
                        let n = try input.read(buffer, count: 1 << 20, at: offset)
                        if n == 0 { break }
                        hasher?.update(bufferPointer: UnsafeRawBufferPointer(start: buffer, count: n))
                        try check(sqfs_block_processor_append(proc, buffer, n), "writing \(node.path)")
                        offset += UInt64(n)
                    }
                    total += offset
                    if let expected = node.sha256, let digest = hasher?.finalize() {
                        let actual = Hex.encode(digest)
                        guard actual == expected else { throw ContentMismatch(path: node.path, source: source, expected: expected, actual: actual) }
                    }
                default: break
                }
                try check(sqfs_block_processor_end_file(proc), "finishing \(node.path)")
                if k % 256 == 0 { progress?.update(k, of: files.count, unit: "files") }
            }
            try check(sqfs_block_processor_finish(proc), "compressing the data blocks")
            progress?.update(files.count, of: files.count, unit: "files")
            return total
        }

        /// The inode and directory tables, then the fragment and id tables, then the
        /// superblock that points at them all.
        mutating func writeTables(_ tree: Tree) throws {
            guard let inodes = sqfs_meta_writer_create(file, compressor, 0),
                  let listings = sqfs_meta_writer_create(file, compressor, UInt32(SQFS_META_WRITER_KEEP_IN_MEMORY.rawValue)),
                  let dirWriter = sqfs_dir_writer_create(listings, 0) else {
                throw KilnError("squashfs: libsquashfs could not allocate its table writers")
            }
            defer {
                sqfs_destroy(UnsafeMutableRawPointer(dirWriter))
                sqfs_destroy(UnsafeMutableRawPointer(listings))
                sqfs_destroy(UnsafeMutableRawPointer(inodes))
            }
            superblock.inode_table_start = CSquashfs_file_size(file)
            // Numbers: within each directory (post-order) its non-directory children, then the
            // directory itself; a directory's subdirectories got theirs before it.
            var number = [UInt32](repeating: 0, count: tree.nodes.count)
            var next: UInt32 = 1
            for d in tree.order {
                for c in tree.children[d] where !isDirectory(tree.nodes[c]) { number[c] = next; next += 1 }
                number[d] = next; next += 1
            }
            let count = next - 1
            var parentOf = [Int](repeating: -1, count: tree.nodes.count)
            for d in tree.order { for c in tree.children[d] { parentOf[c] = d } }
            var reference = [UInt64](repeating: 0, count: tree.nodes.count)

            func writeInode(_ inode: UnsafeMutablePointer<sqfs_inode_generic_t>, for i: Int) throws {
                let n = tree.nodes[i]
                var uid: UInt16 = 0, gid: UInt16 = 0
                try check(sqfs_id_table_id_to_index(ids, n.uid, &uid), "recording owner \(n.uid) of \(n.path)")
                try check(sqfs_id_table_id_to_index(ids, n.gid, &gid), "recording group \(n.gid) of \(n.path)")
                let type: UInt16
                switch n.kind {
                case .directory: type = UInt16(S_IFDIR)
                case .file, .data: type = UInt16(S_IFREG)
                case .symlink: type = UInt16(S_IFLNK)
                }
                CSquashfs_set_base(inode, type | (n.mode & 0o7777), uid, gid, options.timestamp, number[i])
                var block: UInt64 = 0, offset: UInt32 = 0
                sqfs_meta_writer_get_position(inodes, &block, &offset)
                reference[i] = (block << 16) | UInt64(offset)
                try check(sqfs_meta_writer_write_inode(inodes, inode), "writing the inode of \(n.path)")
            }

            for d in tree.order {
                for c in tree.children[d] where !isDirectory(tree.nodes[c]) {
                    switch tree.nodes[c].kind {
                    case .symlink(let target):
                        guard let inode = target.withCString({ CSquashfs_symlink_inode($0, strlen($0)) }) else {
                            throw KilnError("squashfs: out of memory")
                        }
                        defer { free(inode) }
                        try writeInode(inode, for: c)
                    default:
                        guard let k = fileInodeOf[c], let inode = fileInodes?[k] else {
                            throw KilnError("squashfs: no data was written for \(tree.nodes[c].path)")
                        }
                        try writeInode(inode, for: c)
                    }
                }
                try check(sqfs_dir_writer_begin(dirWriter, 0), "starting the listing of \(tree.nodes[d].path)")
                for c in tree.children[d] {
                    let type: UInt16 = isDirectory(tree.nodes[c]) ? UInt16(S_IFDIR)
                        : { if case .symlink = tree.nodes[c].kind { return UInt16(S_IFLNK) } else { return UInt16(S_IFREG) } }()
                    try check(sqfs_dir_writer_add_entry(dirWriter, tree.names[c], number[c], reference[c], type | (tree.nodes[c].mode & 0o7777)),
                              "listing \(tree.nodes[c].path)")
                }
                try check(sqfs_dir_writer_end(dirWriter), "finishing the listing of \(tree.nodes[d].path)")
                let subdirectories = tree.children[d].filter { isDirectory(tree.nodes[$0]) }.count
                let parent = d == 0 ? count + 1 : number[parentOf[d]]
                guard let inode = sqfs_dir_writer_create_inode(dirWriter, 2 + subdirectories, 0xFFFF_FFFF, parent) else {
                    throw KilnError("squashfs: out of memory")
                }
                defer { free(inode) }
                try writeInode(inode, for: d)
            }
            try check(sqfs_meta_writer_flush(inodes), "writing the inode table")
            superblock.directory_table_start = CSquashfs_file_size(file)
            try check(sqfs_meta_writer_flush(listings), "finishing the directory table")
            try check(sqfs_meta_write_write_to_file(listings), "writing the directory table")
            try check(sqfs_frag_table_write(fragments, file, &superblock, compressor), "writing the fragment table")
            try check(sqfs_id_table_write(ids, file, &superblock, compressor), "writing the id table")
            superblock.inode_count = count
            superblock.root_inode_ref = reference[0]
            superblock.flags |= UInt16(SQFS_FLAG_NO_XATTRS.rawValue)
            superblock.xattr_id_table_start = 0xFFFF_FFFF_FFFF_FFFF
            superblock.bytes_used = CSquashfs_file_size(file)
            // Devices read in 4 KiB blocks: the image is padded as mksquashfs pads it.
            let padding = Int((4096 - superblock.bytes_used % 4096) % 4096)
            if padding > 0 {
                let zeros = [UInt8](repeating: 0, count: padding)
                try check(CSquashfs_write_at(file, superblock.bytes_used, zeros, padding), "padding the image")
            }
            try check(sqfs_super_write(&superblock, file), "writing the superblock")
        }

        private func isDirectory(_ n: FileNode) -> Bool {
            if case .directory = n.kind { return true }
            return false
        }

        private func check(_ result: Int32, _ what: String) throws { try sqfsCheck(result, what, path) }
    }
}

private func sqfsCheck(_ result: Int32, _ what: String, _ path: String) throws {
    guard result >= 0 else { throw KilnError("squashfs: \(what) in '\(path)' failed (libsquashfs error \(result))") }
}
