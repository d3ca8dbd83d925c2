import Foundation
import XCTest
@testable import KilnImage
@testable import KilnBoot
import KilnPlan
import KilnSystem
import KilnStore
import KilnPrimitives

/// The pieces of the boot matrix that need no package store: the ESP's files, systemd-boot's
/// entries, output formats, btrfs under fakeroot, reading a disk back. Real tools throughout.
final class BootMatrixTests: XCTestCase {
    var dir = ""
    let seed = Array("kiln-matrix-seed".utf8)

    override func setUpWithError() throws { dir = try makeTempDir("kilnimage-matrix") }
    override func tearDownWithError() throws {
        if ProcessInfo.processInfo.environment["KILN_TEST_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// A small disk: ext4 root, optional ESP files, optional BIOS GRUB.
    func makeDisk(_ name: String, espFiles: [ESPFile] = [], bios: Bool = false, arm: Bool = false) throws -> String {
        let root = dir + "/\(name).root"
        let uuid = SeededUUID.make(seed: seed, purpose: "root")
        try Ext4Writer.write([FileNode(path: "/etc", kind: .directory, mode: 0o755),
                              FileNode(path: "/etc/hostname", kind: .data(Array("m\n".utf8)), mode: 0o644)],
                             to: root, options: Ext4Options(sizeBytes: 16 << 20, label: "r", uuid: uuid,
                                                            hashSeed: uuid, timestamp: 1), progress: nil)
        let disk = dir + "/\(name).raw"
        let code = bios ? try GrubBIOS.makeImages(rootFilesystemUUID: SeededUUID.string(uuid), coreLBA: DiskAssembler.biosBootPartitionLBA,
                                                  rootPartition: DiskAssembler.rootPartition,
                                                  maxCoreBytes: DiskAssembler.biosBootPartitionBytes, workDirectory: dir) : nil
        try DiskAssembler.assemble(DiskSpec(root: .image(root), espSizeMiB: DiskAssembler.espSizeMiB(for: espFiles),
                                            architecture: arm ? .aarch64 : .x86_64, seed: seed, biosBootCode: code,
                                            espFiles: espFiles, timestamp: 1), output: disk, progress: nil)
        return disk
    }

    func esp(of disk: String) throws -> String {
        let info = try runTool(["sgdisk", "-i", "2", disk]).text
        let first = try XCTUnwrap(info.split(separator: "\n").first { $0.hasPrefix("First sector") }?
            .split(separator: " ").dropFirst(2).first.flatMap { UInt64($0) })
        let out = disk + ".esp"
        XCTAssertEqual(try runTool(["dd", "if=\(disk)", "of=\(out)", "bs=512", "skip=\(first)", "count=\(64 * 2048)", "status=none"]).status, 0)
        return out
    }

    func testESPFilesAreWrittenReproduciblyAndFsckClean() throws {
        let files = [ESPFile("EFI/BOOT/BOOTX64.EFI", .data(pseudoRandomBytes(count: 100_000, seed: 3))),
                     ESPFile("loader/loader.conf", .data(Array("timeout 3\n".utf8)))]
        let a = try makeDisk("a", espFiles: files), b = try makeDisk("b", espFiles: files)
        XCTAssertEqual(FileManager.default.contents(atPath: a), FileManager.default.contents(atPath: b))
        let e = try esp(of: a)
        let fsck = try runTool(["fsck.vfat", "-n", e])
        XCTAssertEqual(fsck.status, 0, fsck.stderr + fsck.text)
        let got = try runTool(["mtype", "-i", e, "::/loader/loader.conf"], environment: ["MTOOLS_SKIP_CHECK": "1"])
        XCTAssertEqual(got.text, "timeout 3\n")
        let listing = try runTool(["mdir", "-i", e, "::/EFI/BOOT"], environment: ["MTOOLS_SKIP_CHECK": "1"]).text
        XCTAssertTrue(listing.contains("1980-01-01"), "FAT times clamp to 1980, not wrap to 2098: \(listing)")
    }

    func testSystemdBootEntriesNewestDefaultAndTimeout() throws {
        let loader = dir + "/systemd-bootx64.efi"
        XCTAssertTrue(FileManager.default.createFile(atPath: loader, contents: Data([0x4d, 0x5a])))
        func entry(_ g: Int, kernel: String) -> Bootspec {
            Bootspec(generation: g, title: "Kiln - generation \(g)", kernel: "/k", initrd: "/i", kernelSource: loader, initrdData: [2],
                     kernelName: kernel, initrdName: "initrd-\(g)", commandLine: "init=/g\(g)/init root=UUID=x")
        }
        let files = try SystemdBoot(architecture: .x86_64, timeout: 5).files(loader: loader, [entry(1, kernel: "k-a"), entry(2, kernel: "k-a")])
        let paths = files.map(\.path)
        XCTAssertTrue(paths.contains("EFI/BOOT/BOOTX64.EFI"))
        XCTAssertTrue(paths.contains("loader/entries/kiln-generation-1.conf"))
        XCTAssertTrue(paths.contains("loader/entries/kiln-generation-2.conf"))
        XCTAssertEqual(paths.filter { $0 == "EFI/kiln/k-a.efi" }.count, 1, "a kernel shared by generations is copied once")
        guard case .data(let conf)? = files.first(where: { $0.path == "loader/loader.conf" })?.content else {
            return XCTFail("no loader.conf")
        }
        let text = String(decoding: conf, as: UTF8.self)
        XCTAssertTrue(text.contains("timeout 5\n"))
        XCTAssertTrue(text.contains("default kiln-generation-2.conf\n"))
        XCTAssertEqual(Architecture.aarch64.efiRemovablePath, "EFI/BOOT/BOOTAA64.EFI")
        guard case .data(let e2)? = files.first(where: { $0.path == "loader/entries/kiln-generation-2.conf" })?.content else {
            return XCTFail("no entry for generation 2")
        }
        XCTAssertTrue(String(decoding: e2, as: UTF8.self).contains("options init=/g2/init root=UUID=x\n"))
    }

    func testGrubListsTheDefaultThenEveryGenerationInASubmenu() throws {
        func entry(_ g: Int, variant: String? = nil) -> Bootspec {
            Bootspec(generation: g, title: "Kiln h - generation \(g)", kernel: "/k\(g)", initrd: "/i\(g)", kernelSource: "/k", initrdData: [],
                     kernelName: "abc-linux-6.1.0-9-amd64", initrdName: "i", commandLine: "init=/g\(g)/init", specialisation: variant)
        }
        let grub = Grub(platforms: .bios, architecture: .x86_64, rootFilesystem: .ext4, timeout: 1, limit: 2)
        let cfg = grub.config([entry(1), entry(2), entry(3), entry(3, variant: "debug")])
        XCTAssertTrue(cfg.contains("menuentry \"Kiln h - generation 3\" --id kiln-default {\n  linux /k3 init=/g3/init"), cfg)
        XCTAssertTrue(cfg.contains("submenu \"All generations\""))
        XCTAssertTrue(cfg.contains("--id kiln-generation-3-debug"), "a specialisation has its own entry")
        XCTAssertTrue(cfg.contains("--id kiln-generation-2 "), cfg)
        XCTAssertFalse(cfg.contains("--id kiln-generation-1 "), "configurationLimit = 2 keeps the newest two")
        XCTAssertTrue(cfg.contains("linux 6.1.0-9-amd64"), "the submenu names each generation's kernel")
        XCTAssertTrue(cfg.contains("next_entry"), "a trial generation boots once through next_entry")
        let script = grub.installScript(bash: "/b/bash")
        XCTAssertTrue(script.hasPrefix("#!/b/bash\n"))
        XCTAssertTrue(script.contains("| replace /boot/grub/grub.cfg"), "grub.cfg is replaced atomically")
    }

    func testDiskInfoReadsArchitectureAndBIOSCode() throws {
        let x = try makeDisk("x", bios: true)
        XCTAssertEqual(try DiskInfo.inspect(x), DiskInfo(architecture: .x86_64, biosBootable: true))
        let a = try makeDisk("arm", arm: true)
        XCTAssertEqual(try DiskInfo.inspect(a), DiskInfo(architecture: .aarch64, biosBootable: false))
        let q = dir + "/arm.qcow2"
        try FormatConverter.convert(raw: a, to: .qcow2, output: q)
        XCTAssertEqual(try DiskInfo.inspect(q, format: "qcow2").architecture, .aarch64)
    }

    func testOutputFormatsAreReproducibleAndValid() throws {
        let raw = try makeDisk("f", bios: true)
        for format in OutputFormat.allCases where format != .raw && format != .iso {  // an ISO is written from a system (LiveMediaTests)
            let a = dir + "/1/disk.\(format.rawValue)", b = dir + "/2/disk.\(format.rawValue)"
            for p in [a, b] {
                try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FormatConverter.convert(raw: raw, to: format, output: p, timestamp: 1_700_000_000, seed: seed)
            }
            XCTAssertEqual(FileManager.default.contents(atPath: a), FileManager.default.contents(atPath: b),
                           "\(format) is not bit-reproducible")
            if let qf = format.qemuFormat {
                let cmp = try runTool(["qemu-img", "compare", "-f", qf, "-F", "raw", a, raw])
                XCTAssertEqual(cmp.status, 0, "\(format): \(cmp.text) \(cmp.stderr)")
            }
        }
        // VHD: fixed, virtual size = raw size (whole MiB), footer checksum valid.
        let vhd = try XCTUnwrap(FileManager.default.contents(atPath: dir + "/1/disk.vhd"))
        let rawSize = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: raw)[.size] as? Int)
        XCTAssertEqual(vhd.count, rawSize + 512)
        XCTAssertEqual(rawSize % (1 << 20), 0)
        var footer = [UInt8](vhd.suffix(512))
        let stored = footer[64..<68].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        for i in 64..<68 { footer[i] = 0 }
        XCTAssertEqual(~footer.reduce(UInt32(0)) { $0 &+ UInt32($1) }, stored)
        // VMDK: the descriptor names the extent after the file, not a temporary name.
        let vmdk = try XCTUnwrap(FileManager.default.contents(atPath: dir + "/1/disk.vmdk"))
        XCTAssertNotNil(String(decoding: vmdk.prefix(4096), as: UTF8.self).range(of: "SPARSE \"disk.vmdk\""))
        // GCE: libarchive (bsdtar) reads back exactly disk.raw, the raw disk.
        let list = try runTool(["bsdtar", "-tvf", dir + "/1/disk.gce"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertEqual(list.text.split(separator: "\n").count, 1)
        XCTAssertTrue(list.text.contains("disk.raw"))
        let x = dir + "/x"
        try FileManager.default.createDirectory(atPath: x, withIntermediateDirectories: true)
        XCTAssertEqual(try runTool(["bsdtar", "-xf", dir + "/1/disk.gce", "-C", x]).status, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: x + "/disk.raw"), FileManager.default.contents(atPath: raw))
    }

    func testBtrfsOwnersAndModesComeFromTheEntriesUnprivileged() throws {
        let src = dir + "/su-source"
        XCTAssertTrue(FileManager.default.createFile(atPath: src, contents: Data("#!/bin/sh\n".utf8)))
        let entries = [
            FileNode(path: "/", kind: .directory, mode: 0o755),
            FileNode(path: "/bin", kind: .directory, mode: 0o755),
            FileNode(path: "/bin/su", kind: .file(source: src), mode: 0o4755),
            FileNode(path: "/etc", kind: .directory, mode: 0o755),
            FileNode(path: "/etc/shadow", kind: .data(Array("root:*:1::::::\n".utf8)), mode: 0o640, gid: 42),
            FileNode(path: "/ro", kind: .directory, mode: 0o555),
            FileNode(path: "/ro/f", kind: .data([1]), mode: 0o444),
            FileNode(path: "/tmp", kind: .directory, mode: 0o1777),
            FileNode(path: "/home", kind: .directory, mode: 0o700, uid: 1000, gid: 100),
            FileNode(path: "/link", kind: .symlink(target: "/bin/su"), mode: 0o777),
        ]
        let img = dir + "/root.btrfs"
        try BtrfsWriter.write(entries, to: img, options: BtrfsOptions(sizeBytes: 256 << 20, label: "kiln-root",
                                                                       uuid: "30662315-6d93-43cc-ad99-700baabe02eb", timestamp: 1),
                              progress: nil)
        let check = try runTool(["btrfs", "check", img])
        XCTAssertEqual(check.status, 0, check.stderr)
        let tree = try runTool(["btrfs", "inspect-internal", "dump-tree", "-t", "fs", img]).text
        for expected in ["mode 104755 links 1 uid 0 gid 0", "mode 100640 links 1 uid 0 gid 42", "mode 41777 links 1 uid 0 gid 0",
                         "mode 40700 links 1 uid 1000 gid 100", "mode 40555 links 1 uid 0 gid 0", "mode 100444 links 1 uid 0 gid 0",
                         "mode 120777 links 1 uid 0 gid 0"] {
            XCTAssertTrue(tree.contains(expected), "btrfs lacks an inode with \(expected)")
        }
        let me = getuid()
        if me != 0 { XCTAssertFalse(tree.contains("uid \(me) "), "the build user's uid leaked into the image") }
        let fsid = try runTool(["btrfs", "inspect-internal", "dump-super", img]).text
        XCTAssertTrue(fsid.contains("30662315-6d93-43cc-ad99-700baabe02eb"))
    }
}
