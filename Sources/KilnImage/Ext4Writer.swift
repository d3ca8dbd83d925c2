import CExt2fs
import Foundation
import KilnSupport
import KilnPrimitives
import Crypto
import KilnStore

/// Writes ext4 filesystem images in-process through libext2fs (the library behind mke2fs),
/// with every owner, mode and timestamp taken from the entry list rather than the host.
///
/// This is mke2fs's defaults for ext4 (4 KiB blocks, 256-byte inodes, journal, extents,
/// 64bit, flex_bg, metadata_csum, ...) followed by what `mke2fs -d` does in
/// misc/create_inode.c, except that metadata comes from `FileNode` and file data is written
/// in whole extents (allocated with ext2fs_fallocate, written with one I/O per megabyte)
/// instead of block by block.
///
/// Not used: resize_inode (online growing past 1024x), orphan_file and metadata_csum_seed
/// (GRUB 2.06 and older kernels don't know them), inline_data, hard links, xattrs.
public enum Ext4Writer {
    public static let blockSize = 4096

    /// Writes `entries` (parents before children) into a new image at `path`.
    /// The file is written under a temporary name and renamed when complete.
    /// - Throws: `KilnError` naming the entry, the libext2fs call and its error text.
    public static func write(_ entries: [FileNode], to path: String, options: Ext4Options, progress: KilnSupport.Progress?) throws {
        try validate(options)
        let output = try AtomicOutput(path)
        do {
            try createSparseFile(output.temporaryPath, size: options.sizeBytes)
            try write(entries, into: output.temporaryPath, at: 0, options: options, progress: progress)
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
    }

    /// Writes `entries` into `options.sizeBytes` of the existing file `path` from `offset` on
    /// (a disk image's root partition, as `mke2fs -E offset=` does). The caller owns the file:
    /// on failure it holds a partial filesystem there.
    public static func write(_ entries: [FileNode], into path: String, at offset: UInt64, options: Ext4Options,
                             progress: KilnSupport.Progress?) throws {
        try validate(options)
        guard offset % UInt64(blockSize) == 0 else { throw KilnError("internal: ext4 offset \(offset) is not a whole number of blocks") }
        let builder = try Ext4Builder(path: path, offset: offset, options: options, entryCount: entries.count)
        do {
            try builder.populate(entries, progress: progress)
            try builder.close()
        } catch {
            builder.abandon()
            throw error
        }
    }

    static func validate(_ options: Ext4Options) throws {
        // The on-disk structures this file fills in, as the libext2fs headers declare them.
        guard MemoryLayout<ext2_super_block>.size == 1024, MemoryLayout<ext2_inode>.size == 128,
              MemoryLayout<ext2_inode_large>.size == 160 else {
            throw KilnError("internal: libext2fs headers have unexpected structure sizes "
                            + "(superblock \(MemoryLayout<ext2_super_block>.size), inode \(MemoryLayout<ext2_inode_large>.size))")
        }
        guard options.uuid.count == 16 else {
            throw KilnError("ext4 options: uuid must be 16 bytes, got \(options.uuid.count)")
        }
        guard options.hashSeed.count == 16 else {
            throw KilnError("ext4 options: hashSeed must be 16 bytes, got \(options.hashSeed.count)")
        }
        guard options.label.utf8.count <= 16 else {
            throw KilnError("ext4 options: label '\(options.label)' is longer than 16 bytes")
        }
        // At most 2^48 blocks (1 EiB), what ext4 addresses; larger sizes also do not fit off_t.
        guard options.sizeBytes % UInt64(blockSize) == 0, options.sizeBytes >= 16 << 20, options.sizeBytes <= 1 << 60 else {
            throw KilnError("ext4 options: size \(options.sizeBytes) must be a multiple of 4096, at least 16 MiB and at most 1 EiB")
        }
    }
}

/// Creates (or truncates) `path` as a sparse file of `size` bytes.
func createSparseFile(_ path: String, size: UInt64) throws {
    let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw KilnError("cannot create '\(path)': \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    guard ftruncate(fd, off_t(size)) == 0 else {
        throw KilnError("cannot size '\(path)' to \(size) bytes: \(String(cString: strerror(errno)))")
    }
}

/// One open filesystem being built. Not thread-safe; used by one writer call.
final class Ext4Builder {
    private var fs: ext2_filsys?
    private let options: Ext4Options
    private let path: String
    /// Inode numbers of the directories created so far, by path.
    private var directories: [String: ext2_ino_t] = ["/": ext2_ino_t(EXT2_ROOT_INO)]
    private var seen: Set<String> = ["/"]
    /// Planned size in blocks of each listed directory, and the block names are added to.
    private var directoryBlocks: [String: Int] = [:]
    private var directoryCursor: [ext2_ino_t: UInt64] = [:]
    /// Reused I/O buffer for file data (1 MiB, a whole number of blocks).
    private let chunkBlocks = 256
    private var buffer: UnsafeMutableRawPointer
    /// One directory block, for appending names.
    private let dirBlock = UnsafeMutableRawPointer.allocate(byteCount: Ext4Writer.blockSize, alignment: 4096)
    private(set) var bytesWritten: UInt64 = 0

    init(path: String, offset: UInt64 = 0, options: Ext4Options, entryCount: Int) throws {
        self.path = path
        self.options = options
        buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkBlocks * Ext4Writer.blockSize, alignment: 4096)
        try initialize(entryCount: entryCount, offset: offset)
    }

    deinit {
        buffer.deallocate()
        dirBlock.deallocate()
        abandon()
    }

    private func handle() throws -> ext2_filsys {
        guard let fs else { throw KilnError("internal: ext4 image '\(path)' is already closed") }
        return fs
    }

    /// Frees the library's state without writing anything more (after a failure).
    func abandon() {
        if let fs { ext2fs_free(fs) }
        fs = nil
    }

    func close() throws {
        let fs = try handle()
        try ext2fsCheck(ext2fs_close2(fs, 0), "ext2fs_close2", "writing ext4 image '\(path)'")
        self.fs = nil
    }

    // MARK: - mke2fs

    private func initialize(entryCount: Int, offset: UInt64) throws {
        let ctx = "creating ext4 filesystem in '\(path)'"
        let blocks = options.sizeBytes / UInt64(Ext4Writer.blockSize)
        var param = ext2_super_block()
        ext2fs_blocks_count_set(&param, blocks)
        param.s_log_block_size = 2 // 1024 << 2
        param.s_rev_level = UInt32(EXT2_DYNAMIC_REV)
        param.s_inode_size = 256
        param.s_desc_size = UInt16(EXT2_MIN_DESC_SIZE_64BIT)
        param.s_log_groups_per_flex = 4
        let inodes = Ext4Layout.inodeCount(entryCount: entryCount, sizeBytes: options.sizeBytes)
        param.s_inodes_count = UInt32(min(inodes, UInt64(UInt32.max - 1)))
        // mke2fs.conf's ext4: base features + has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
        ext2fs_set_feature_sparse_super(&param)
        ext2fs_set_feature_large_file(&param)
        ext2fs_set_feature_filetype(&param)
        ext2fs_set_feature_dir_index(&param)
        ext2fs_set_feature_xattr(&param)
        ext2fs_set_feature_journal(&param)
        ext2fs_set_feature_extents(&param)
        ext2fs_set_feature_huge_file(&param)
        ext2fs_set_feature_flex_bg(&param)
        ext2fs_set_feature_metadata_csum(&param)
        ext2fs_set_feature_64bit(&param)
        ext2fs_set_feature_dir_nlink(&param)
        ext2fs_set_feature_extra_isize(&param)

        var newFS: ext2_filsys?
        try ext2fsCheck(ext2fs_initialize(path, EXT2_FLAG_RW | EXT2_FLAG_64BITS, &param, CExt2fs_unix_io_manager(), &newFS),
                        "ext2fs_initialize", ctx)
        guard let fs = newFS, let sb = fs.pointee.super else { throw KilnError("\(ctx): ext2fs_initialize returned no filesystem") }
        self.fs = fs
        // Before the first write (ext2fs_initialize writes nothing), as mke2fs -E offset= does.
        if offset > 0 {
            try ext2fsCheck(io_channel_set_options(fs.pointee.io, "offset=\(offset)"), "io_channel_set_options", ctx)
        }

        let ts = options.timestamp
        fs.pointee.now = time_t(ts)
        withUnsafeMutableBytes(of: &sb.pointee.s_uuid) { $0.copyBytes(from: options.uuid) }
        sb.pointee.s_checksum_type = UInt8(EXT2_CRC32C_CHKSUM)
        ext2fs_init_csum_seed(fs)
        withUnsafeMutableBytes(of: &sb.pointee.s_hash_seed) { $0.copyBytes(from: options.hashSeed) }
        sb.pointee.s_def_hash_version = UInt8(EXT2_HASH_HALF_MD4)
        sb.pointee.s_flags |= UInt32(EXT2_FLAGS_SIGNED_HASH) // what mke2fs sets on x86 (signed char)
        withUnsafeMutableBytes(of: &sb.pointee.s_volume_name) { buf in
            buf.initializeMemory(as: UInt8.self, repeating: 0)
            buf.copyBytes(from: Array(options.label.utf8))
        }
        sb.pointee.s_max_mnt_count = -1
        sb.pointee.s_checkinterval = 0
        sb.pointee.s_default_mount_opts = UInt32(EXT2_DEFM_XATTR_USER | EXT2_DEFM_ACL)
        sb.pointee.s_creator_os = UInt32(EXT2_OS_LINUX)
        sb.pointee.s_mkfs_time = ts
        sb.pointee.s_lastcheck = ts
        sb.pointee.s_wtime = ts
        sb.pointee.s_mtime = 0

        try ext2fsCheck(ext2fs_allocate_tables(fs), "ext2fs_allocate_tables", ctx)
        // The image file is fresh (all zeros), so the inode tables are already zeroed: say so,
        // as mke2fs does after writing them, so the kernel does not start a lazyinit thread.
        for group in 0..<fs.pointee.group_desc_count {
            ext2fs_bg_flags_set(fs, group, UInt16(EXT2_BG_INODE_ZEROED))
            ext2fs_group_desc_csum_set(fs, group)
        }

        let root = ext2_ino_t(EXT2_ROOT_INO)
        try ext2fsCheck(ext2fs_mkdir(fs, root, root, nil), "ext2fs_mkdir", "\(ctx): root directory")
        var lostFound: ext2_ino_t = 0
        try ext2fsCheck(ext2fs_new_inode(fs, root, Int32(LINUX_S_IFDIR) | 0o700, nil, &lostFound), "ext2fs_new_inode", "\(ctx): lost+found")
        try ext2fsCheck(ext2fs_mkdir(fs, root, lostFound, nil), "ext2fs_mkdir", "\(ctx): lost+found")
        try link(parent: root, name: "lost+found", ino: lostFound, fileType: EXT2_FT_DIR, path: "/lost+found")
        // mke2fs gives lost+found 16 KiB so e2fsck can use it without allocating.
        for _ in 0..<3 { try ext2fsCheck(ext2fs_expand_dir(fs, lostFound), "ext2fs_expand_dir", "\(ctx): lost+found") }
        directories["/lost+found"] = lostFound
        seen.insert("/lost+found")

        // Reserved inodes (3 .. first_ino-1) and the bad-blocks inode, as mke2fs does.
        for ino in (UInt32(EXT2_ROOT_INO) + 1)..<sb.pointee.s_first_ino {
            ext2fs_inode_alloc_stats2(fs, ino, 1, 0)
        }
        ext2fs_inode_alloc_stats2(fs, ext2_ino_t(EXT2_BAD_INO), 1, 0)
        try ext2fsCheck(ext2fs_update_bb_inode(fs, nil), "ext2fs_update_bb_inode", ctx)

        var journal = ext2fs_journal_params()
        try ext2fsCheck(ext2fs_get_journal_params(&journal, fs), "ext2fs_get_journal_params", ctx)
        // LAZYINIT: the journal's blocks are zero already in the fresh file; don't write them.
        try ext2fsCheck(ext2fs_add_journal_inode3(fs, &journal, ~0, EXT2_MKJOURNAL_LAZYINIT | EXT2_MKJOURNAL_NO_MNT_CHECK),
                        "ext2fs_add_journal_inode3", ctx)

        // Library-made inodes got their times from fs->now; make sure of every field.
        for ino in [ext2_ino_t(EXT2_BAD_INO), root, lostFound, sb.pointee.s_journal_inum] {
            try updateInode(ino, context: ctx) { inode in Self.setTimes(&inode, ts) }
        }
    }

    // MARK: - populate

    func populate(_ entries: [FileNode], progress: KilnSupport.Progress?) throws {
        progress?.begin("writing ext4")
        directoryBlocks = Self.directorySizes(entries, blockSize: Ext4Writer.blockSize,
                                              tail: ext2fs_has_feature_metadata_csum(try handle().pointee.super) != 0 ? 12 : 0)
        try presize(ext2_ino_t(EXT2_ROOT_INO), path: "/")
        for (index, entry) in entries.enumerated() {
            try add(entry)
            if index % 256 == 0 { progress?.update(index, of: entries.count, unit: "entries") }
        }
        progress?.update(entries.count, of: entries.count, unit: "entries")
        progress?.end("\(entries.count) entries, \(bytesWritten >> 20) MiB of file data")
    }

    private func add(_ entry: FileNode) throws {
        let fs = try handle()
        let ts = options.timestamp
        let path = entry.path
        let ctx = "writing '\(path)' into ext4 image"
        guard entry.mode & ~0o7777 == 0 else {
            throw KilnError("\(ctx): mode \(String(entry.mode, radix: 8)) has bits outside 07777")
        }

        if path == "/" {
            guard case .directory = entry.kind else { throw KilnError("\(ctx): the root must be a directory") }
            try updateInode(ext2_ino_t(EXT2_ROOT_INO), context: ctx) { inode in
                Self.setOwnership(&inode, type: LINUX_S_IFDIR, entry, ts)
            }
            return
        }
        let (parentPath, name) = try Self.split(path)
        guard let parent = directories[parentPath] else {
            throw KilnError("\(ctx): parent directory '\(parentPath)' was not listed before it",
                            hint: "entries must list every directory before its contents")
        }
        if seen.contains(path) {
            // lost+found may be listed to set its metadata; anything else twice is a bug upstream.
            if let existing = directories[path], case .directory = entry.kind {
                try updateInode(existing, context: ctx) { inode in Self.setOwnership(&inode, type: LINUX_S_IFDIR, entry, ts) }
                return
            }
            throw KilnError("\(ctx): the path is listed twice")
        }
        seen.insert(path)

        switch entry.kind {
        case .directory:
            var ino: ext2_ino_t = 0
            try ext2fsCheck(ext2fs_new_inode(fs, parent, Int32(LINUX_S_IFDIR) | 0o755, nil, &ino), "ext2fs_new_inode", ctx)
            try ext2fsCheck(ext2fs_mkdir(fs, parent, ino, nil), "ext2fs_mkdir", ctx)
            try updateInode(ino, context: ctx) { inode in Self.setOwnership(&inode, type: LINUX_S_IFDIR, entry, ts) }
            try link(parent: parent, name: name, ino: ino, fileType: EXT2_FT_DIR, path: path)
            directories[path] = ino
            try presize(ino, path: path)

        case .symlink(let target):
            guard !target.isEmpty, target.utf8.count < Ext4Writer.blockSize else {
                throw KilnError("\(ctx): symlink target must be 1 to 4095 bytes, got \(target.utf8.count)")
            }
            var ino: ext2_ino_t = 0
            try ext2fsCheck(ext2fs_new_inode(fs, parent, Int32(LINUX_S_IFLNK) | 0o777, nil, &ino), "ext2fs_new_inode", ctx)
            var targetC = Array(target.utf8CString)
            try ext2fsCheck(ext2fs_symlink(fs, parent, ino, nil, &targetC), "ext2fs_symlink", ctx)
            try updateInode(ino, context: ctx) { inode in Self.setOwnership(&inode, type: LINUX_S_IFLNK, entry, ts) }
            try link(parent: parent, name: name, ino: ino, fileType: EXT2_FT_SYMLINK, path: path)

        case .file(let source):
            let fd = open(source, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw KilnError("\(ctx): cannot open source '\(source)': \(String(cString: strerror(errno)))") }
            defer { Foundation.close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw KilnError("\(ctx): cannot stat '\(source)': \(String(cString: strerror(errno)))") }
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw KilnError("\(ctx): source '\(source)' is not a regular file") }
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
            // A store file is checked against its manifest's hash while its bytes are copied
            // (they are read once, in order): a damaged store never reaches an image.
            var hasher = entry.sha256.map { _ in SHA256() }
            try writeRegular(entry, parent: parent, name: name, size: UInt64(st.st_size), context: ctx) { offset, dest, count in
                var done = 0
                while done < count {
                    let n = pread(fd, dest + done, count - done, off_t(offset) + off_t(done))
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw KilnError("\(ctx): cannot read '\(source)': \(String(cString: strerror(errno)))")
                    }
                    if n == 0 { break } // file shrank while we read it: the rest stays zero
                    done += n
                }
                hasher?.update(bufferPointer: UnsafeRawBufferPointer(start: dest, count: done))
                return done
            }
            if let expected = entry.sha256, let digest = hasher?.finalize() {
                let actual = Hex.encode(digest)
                guard actual == expected else { throw ContentMismatch(path: path, source: source, expected: expected, actual: actual) }
            }

        case .data(let bytes):
            try writeRegular(entry, parent: parent, name: name, size: UInt64(bytes.count), context: ctx) { offset, dest, count in
                let start = Int(offset)
                let n = max(0, min(count, bytes.count - start))
                if n > 0 {
                    bytes.withUnsafeBytes { src in
                        if let base = src.baseAddress { dest.copyMemory(from: base + start, byteCount: n) }
                    }
                }
                return n
            }
        }
    }

    /// Creates a regular file of `size` bytes: allocates all of its blocks in as few extents as
    /// possible, then fills them from `read(offset, buffer, count)` a megabyte at a time.
    private func writeRegular(_ entry: FileNode, parent: ext2_ino_t, name: String, size: UInt64, context ctx: String,
                              read: (UInt64, UnsafeMutableRawPointer, Int) throws -> Int) throws {
        let fs = try handle()
        var ino: ext2_ino_t = 0
        try ext2fsCheck(ext2fs_new_inode(fs, parent, Int32(LINUX_S_IFREG) | 0o644, nil, &ino), "ext2fs_new_inode", ctx)
        try link(parent: parent, name: name, ino: ino, fileType: EXT2_FT_REG_FILE, path: entry.path)
        ext2fs_inode_alloc_stats2(fs, ino, 1, 0)

        var inode = ext2_inode_large()
        Self.setOwnership(&inode, type: LINUX_S_IFREG, entry, options.timestamp)
        inode.i_links_count = 1
        inode.i_extra_isize = UInt16(MemoryLayout<ext2_inode_large>.size - Int(EXT2_GOOD_OLD_INODE_SIZE))
        try withSmallInode(&inode) { small in
            try ext2fsCheck(ext2fs_inode_size_set(fs, small, ext2_off64_t(size)), "ext2fs_inode_size_set", ctx)
            // Opening an extent handle on an inode without blocks sets up an empty extent tree.
            var handle: ext2_extent_handle_t?
            try ext2fsCheck(ext2fs_extent_open2(fs, ino, small, &handle), "ext2fs_extent_open2", ctx)
            ext2fs_extent_free(handle)
        }
        try writeInode(ino, &inode, context: ctx)
        guard size > 0 else { return }

        let bs = UInt64(Ext4Writer.blockSize)
        let blocks = (size + bs - 1) / bs
        try withSmallInode(&inode) { small in
            try ext2fsCheck(ext2fs_fallocate(fs, EXT2_FALLOCATE_FORCE_INIT, ino, small, ~0, 0, blocks),
                            "ext2fs_fallocate", "\(ctx) (\(size) bytes)")
        }
        for extent in try extents(ino, &inode, context: ctx) {
            var done: UInt64 = 0
            while done < extent.length {
                let count = Int(min(UInt64(chunkBlocks), extent.length - done))
                let logical = extent.logical + done
                let byteCount = count * Ext4Writer.blockSize
                let got = try read(logical * bs, buffer, byteCount)
                if got < byteCount { (buffer + got).initializeMemory(as: UInt8.self, repeating: 0, count: byteCount - got) }
                try ext2fsCheck(io_channel_write_blk64(fs.pointee.io, extent.physical + done, Int32(count), buffer),
                                "io_channel_write_blk64", ctx)
                done += UInt64(count)
            }
        }
        bytesWritten += size
        try writeInode(ino, &inode, context: ctx)
    }

    private struct Extent { var logical: UInt64; var physical: UInt64; var length: UInt64 }

    /// The leaf extents of `ino`, in logical order.
    private func extents(_ ino: ext2_ino_t, _ inode: inout ext2_inode_large, context ctx: String) throws -> [Extent] {
        let fs = try handle()
        var result: [Extent] = []
        try withSmallInode(&inode) { small in
            var handle: ext2_extent_handle_t?
            try ext2fsCheck(ext2fs_extent_open2(fs, ino, small, &handle), "ext2fs_extent_open2", ctx)
            defer { ext2fs_extent_free(handle) }
            var extent = ext2fs_extent()
            var code = ext2fs_extent_get(handle, Int32(EXT2_EXTENT_ROOT), &extent)
            while code == 0 {
                if extent.e_flags & UInt32(EXT2_EXTENT_FLAGS_LEAF) != 0 {
                    result.append(Extent(logical: UInt64(extent.e_lblk), physical: extent.e_pblk, length: UInt64(extent.e_len)))
                }
                code = ext2fs_extent_get(handle, Int32(EXT2_EXTENT_NEXT), &extent)
            }
            if code != EXT2_ET_EXTENT_NO_NEXT && code != EXT2_ET_EXTENT_NO_PREV {
                try ext2fsCheck(code, "ext2fs_extent_get", ctx)
            }
        }
        return result
    }

    // MARK: - helpers

    /// How many blocks each directory will need, by path, packing names in list order as
    /// `link` does. Directories are grown to this size as soon as they are made, so their
    /// blocks are contiguous (one extent) instead of interleaved with file data.
    static func directorySizes(_ entries: [FileNode], blockSize: Int, tail: Int) -> [String: Int] {
        let limit = blockSize - tail
        var state: [String: (blocks: Int, used: Int)] = ["/": (1, 12 + 12 + 20)] // ".", "..", "lost+found"
        for entry in entries where entry.path != "/" {
            guard let slash = entry.path.lastIndex(of: "/") else { continue }
            let parent = slash == entry.path.startIndex ? "/" : String(entry.path[..<slash])
            let nameBytes = entry.path[entry.path.index(after: slash)...].utf8.count
            let need = (8 + nameBytes + 3) & ~3
            var s = state[parent] ?? (1, 24)
            if s.used + need > limit { s = (s.blocks + 1, need) } else { s.used += need }
            state[parent] = s
            if case .directory = entry.kind, state[entry.path] == nil { state[entry.path] = (1, 24) }
        }
        return state.mapValues(\.blocks)
    }

    private func presize(_ ino: ext2_ino_t, path: String) throws {
        let fs = try handle()
        guard let want = directoryBlocks[path], want > 1 else { return }
        for _ in 1..<want {
            try ext2fsCheck(ext2fs_expand_dir(fs, ino), "ext2fs_expand_dir", "writing '\(path)' into ext4 image")
        }
    }

    /// Links `ino` into `parent` by appending to the directory's current block, moving on to
    /// the next block (or growing the directory) when it is full.
    ///
    /// ext2fs_link scans the directory from its first block for free space on every call,
    /// which is quadratic in the number of entries (20,000 names in one directory: ~9 s).
    /// Entries are only ever added here, so free space can only be at the end of the current
    /// block: this reads that one block, splits its last entry, and writes it back
    /// (ext2fs_read/write_dir_block4 check and set the metadata_csum tail).
    private func link(parent: ext2_ino_t, name: String, ino: ext2_ino_t, fileType: Int32, path: String) throws {
        let fs = try handle()
        let ctx = "writing '\(path)' into ext4 image"
        let nameBytes = Array(name.utf8)
        let bs = Ext4Writer.blockSize
        let tail = ext2fs_has_feature_metadata_csum(fs.pointee.super) != 0 ? 12 : 0
        let limit = bs - tail
        let needed = (8 + nameBytes.count + 3) & ~3
        let block = dirBlock
        var cursor = directoryCursor[parent] ?? 0
        var expanded = false
        while true {
            var dirInode = ext2_inode()
            try ext2fsCheck(ext2fs_read_inode(fs, parent, &dirInode), "ext2fs_read_inode", ctx)
            let size = UInt64(dirInode.i_size) | UInt64(dirInode.i_size_high) << 32
            if cursor >= size / UInt64(bs) {
                guard !expanded else { throw KilnError("\(ctx): no room for the name in a fresh directory block") }
                try ext2fsCheck(ext2fs_expand_dir(fs, parent), "ext2fs_expand_dir", ctx)
                expanded = true
                continue
            }
            var physical: blk64_t = 0
            try ext2fsCheck(ext2fs_bmap2(fs, parent, &dirInode, nil, 0, cursor, nil, &physical), "ext2fs_bmap2", ctx)
            try ext2fsCheck(ext2fs_read_dir_block4(fs, physical, block, 0, parent), "ext2fs_read_dir_block4", ctx)
            // Find the entry that reaches the end of the block.
            var offset = 0
            while true {
                let recLen = Int(block.load(fromByteOffset: offset + 4, as: UInt16.self).littleEndian)
                guard recLen >= 8, offset + recLen <= limit else {
                    throw KilnError("\(ctx): corrupt directory block \(physical) in inode \(parent) at offset \(offset)")
                }
                if offset + recLen == limit { break }
                offset += recLen
            }
            let lastIno = block.load(fromByteOffset: offset, as: UInt32.self)
            let lastRecLen = Int(block.load(fromByteOffset: offset + 4, as: UInt16.self).littleEndian)
            let used = lastIno == 0 ? 0 : (8 + Int(block.load(fromByteOffset: offset + 6, as: UInt8.self)) + 3) & ~3
            if lastRecLen - used >= needed {
                if used > 0 { block.storeBytes(of: UInt16(used).littleEndian, toByteOffset: offset + 4, as: UInt16.self) }
                let at = offset + used
                block.storeBytes(of: ino.littleEndian, toByteOffset: at, as: UInt32.self)
                block.storeBytes(of: UInt16(lastRecLen - used).littleEndian, toByteOffset: at + 4, as: UInt16.self)
                block.storeBytes(of: UInt8(nameBytes.count), toByteOffset: at + 6, as: UInt8.self)
                block.storeBytes(of: UInt8(fileType), toByteOffset: at + 7, as: UInt8.self)
                nameBytes.withUnsafeBytes { (block + at + 8).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(block), byteCount: nameBytes.count) }
                let padding = (lastRecLen - used) - 8 - nameBytes.count
                if padding > 0 { (block + at + 8 + nameBytes.count).initializeMemory(as: UInt8.self, repeating: 0, count: min(padding, 3)) }
                try ext2fsCheck(ext2fs_write_dir_block4(fs, physical, block, 0, parent), "ext2fs_write_dir_block4", ctx)
                directoryCursor[parent] = cursor
                return
            }
            cursor += 1
        }
    }

    private func updateInode(_ ino: ext2_ino_t, context ctx: String, _ change: (inout ext2_inode_large) -> Void) throws {
        let fs = try handle()
        var inode = ext2_inode_large()
        let size = Int32(MemoryLayout<ext2_inode_large>.size)
        try withSmallInode(&inode) { small in
            try ext2fsCheck(ext2fs_read_inode_full(fs, ino, small, size), "ext2fs_read_inode_full", ctx)
        }
        change(&inode)
        try writeInode(ino, &inode, context: ctx)
    }

    private func writeInode(_ ino: ext2_ino_t, _ inode: inout ext2_inode_large, context ctx: String) throws {
        let fs = try handle()
        let size = Int32(MemoryLayout<ext2_inode_large>.size)
        try withSmallInode(&inode) { small in
            try ext2fsCheck(ext2fs_write_inode_full(fs, ino, small, size), "ext2fs_write_inode_full", ctx)
        }
    }

    private func withSmallInode<R>(_ inode: inout ext2_inode_large, _ body: (UnsafeMutablePointer<ext2_inode>) throws -> R) rethrows -> R {
        try withUnsafeMutablePointer(to: &inode) { large in
            try large.withMemoryRebound(to: ext2_inode.self, capacity: 1) { try body($0) }
        }
    }

    private static func setOwnership(_ inode: inout ext2_inode_large, type: Int32, _ entry: FileNode, _ ts: UInt32) {
        inode.i_mode = UInt16(type) | entry.mode
        inode.i_uid = UInt16(truncatingIfNeeded: entry.uid)
        inode.osd2.linux2.l_i_uid_high = UInt16(truncatingIfNeeded: entry.uid >> 16)
        inode.i_gid = UInt16(truncatingIfNeeded: entry.gid)
        inode.osd2.linux2.l_i_gid_high = UInt16(truncatingIfNeeded: entry.gid >> 16)
        setTimes(&inode, ts)
    }

    static func setTimes(_ inode: inout ext2_inode_large, _ ts: UInt32) {
        inode.i_atime = ts; inode.i_ctime = ts; inode.i_mtime = ts; inode.i_crtime = ts
        inode.i_atime_extra = 0; inode.i_ctime_extra = 0; inode.i_mtime_extra = 0; inode.i_crtime_extra = 0
    }

    /// "/a/b/c" -> ("/a/b", "c"), rejecting relative paths, empty, "." and ".." components.
    static func split(_ path: String) throws -> (String, String) {
        guard path.hasPrefix("/"), !path.hasSuffix("/"), let slash = path.lastIndex(of: "/") else {
            throw KilnError("invalid path '\(path)' for an image entry: must be absolute with no trailing '/'")
        }
        let name = String(path[path.index(after: slash)...])
        let parent = slash == path.startIndex ? "/" : String(path[..<slash])
        guard !name.isEmpty, name != ".", name != "..", name.utf8.count <= 255, !path.contains("//"), !name.contains("\0") else {
            throw KilnError("invalid path '\(path)' for an image entry: bad file name '\(name)'")
        }
        return (parent, name)
    }
}
