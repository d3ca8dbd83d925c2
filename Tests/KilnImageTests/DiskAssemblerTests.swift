import Foundation
import XCTest
@testable import KilnImage
@testable import KilnBoot
import KilnStore
import KilnPrimitives
import KilnSupport

final class DiskAssemblerTests: XCTestCase {
    var dir = ""
    var rootImage = ""
    var rootEntries: [FileNode] = []
    let seed = Array("kiln-test-seed".utf8)
    let rootOptions = Ext4Options(sizeBytes: 48 << 20, label: "nixos",
                                  uuid: SeededUUID.make(seed: Array("kiln-test-seed".utf8), purpose: "root-fs"),
                                  hashSeed: SeededUUID.make(seed: Array("kiln-test-seed".utf8), purpose: "root-fs-hash"),
                                  timestamp: 1_700_000_000)
    static let grubCfg = """
        serial --unit=0 --speed=115200
        terminal_input serial
        terminal_output serial
        echo KILN-GRUB-OK
        cat /boot/grub/hello.txt
        halt

        """

    override func setUpWithError() throws {
        dir = try makeTempDir("kilnimage-disk")
        rootImage = dir + "/root.ext4"
        let entries = [
            FileNode(path: "/boot", kind: .directory, mode: 0o755),
            FileNode(path: "/boot/grub", kind: .directory, mode: 0o755),
            FileNode(path: "/boot/grub/grub.cfg", kind: .data(Array(Self.grubCfg.utf8)), mode: 0o644),
            FileNode(path: "/boot/grub/hello.txt", kind: .data(Array("KILN-FILE-FROM-EXT4\n".utf8)), mode: 0o644),
            FileNode(path: "/etc", kind: .directory, mode: 0o755),
            FileNode(path: "/etc/big", kind: .data(pseudoRandomBytes(count: 3 << 20, seed: 7)), mode: 0o644),
        ]
        rootEntries = entries
        try Ext4Writer.write(entries, to: rootImage, options: rootOptions, progress: nil)
    }

    override func tearDownWithError() throws {
        // KILN_TEST_KEEP=1 keeps the images for inspection.
        if ProcessInfo.processInfo.environment["KILN_TEST_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// GRUB for BIOS made for the fixed layout's BIOS boot partition.
    func grubBIOS(uuid: String, moduleDirectory: String = GrubBIOS.moduleDirectory) throws -> BIOSBootCode {
        try GrubBIOS.makeImages(rootFilesystemUUID: uuid, moduleDirectory: moduleDirectory, coreLBA: DiskAssembler.biosBootPartitionLBA,
                                rootPartition: DiskAssembler.rootPartition, maxCoreBytes: DiskAssembler.biosBootPartitionBytes,
                                workDirectory: dir)
    }

    var spec: DiskSpec {
        get throws {
            DiskSpec(root: .image(rootImage), espSizeMiB: 64, seed: seed,
                     biosBootCode: try grubBIOS(uuid: SeededUUID.string(rootOptions.uuid)), timestamp: 1_700_000_000)
        }
    }

    func bytes(_ path: String, at offset: UInt64, count: Int) throws -> [UInt8] {
        let h = try XCTUnwrap(FileHandle(forReadingAtPath: path))
        defer { try? h.close() }
        try h.seek(toOffset: offset)
        return Array(try h.read(upToCount: count) ?? Data())
    }

    func extract(_ disk: String, firstLBA: UInt64, sectors: UInt64, to path: String) throws {
        let r = try runTool(["dd", "if=\(disk)", "of=\(path)", "bs=512", "skip=\(firstLBA)", "count=\(sectors)", "status=none"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testGPTLayoutIsValid() throws {
        let disk = dir + "/disk.raw"
        try DiskAssembler.assemble(try spec, output: disk, progress: nil)

        let verify = try runTool(["sgdisk", "-v", disk])
        XCTAssertEqual(verify.status, 0, verify.text + verify.stderr)
        XCTAssertTrue(verify.text.contains("No problems found"), verify.text)
        let print = try runTool(["sgdisk", "-p", disk]).text
        XCTAssertTrue(print.contains("BIOS boot") && print.contains("ESP") && print.contains("root-x86-64"), print)
        let info3 = try runTool(["sgdisk", "-i", "3", disk]).text
        XCTAssertTrue(info3.contains("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"), info3)
        let info2 = try runTool(["sgdisk", "-i", "2", disk]).text
        XCTAssertTrue(info2.contains("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"), info2)
        XCTAssertTrue(info2.contains("First sector: 4096 "), info2)
        let info1 = try runTool(["sgdisk", "-i", "1", disk]).text
        XCTAssertTrue(info1.contains("21686148-6449-6E6F-744E-656564454649") && info1.contains("First sector: 2048 "), info1)

        // Snapshot of the primary header.
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: disk)[.size] as? UInt64)
        let total = size / 512
        XCTAssertEqual(size % (1 << 20), 0)
        let h = try bytes(disk, at: 512, count: 512)
        XCTAssertEqual(Array(h[0..<8]), Array("EFI PART".utf8))
        XCTAssertEqual(get32(h, 8), 0x0001_0000)
        XCTAssertEqual(get32(h, 12), 92)
        XCTAssertEqual(get64(h, 24), 1)
        XCTAssertEqual(get64(h, 32), total - 1)
        XCTAssertEqual(get64(h, 40), 34)
        XCTAssertEqual(get64(h, 48), total - 34)
        XCTAssertEqual(get64(h, 72), 2)
        XCTAssertEqual(get32(h, 80), 128)
        XCTAssertEqual(get32(h, 84), 128)
        var zeroed = Array(h[0..<92]); zeroed.replaceSubrange(16..<20, with: [0, 0, 0, 0])
        XCTAssertEqual(get32(h, 16), CRC32.checksum(zeroed))
        let diskGUID = try GUID(bytes: SeededUUID.make(seed: seed, purpose: "disk"))
        XCTAssertEqual(Array(h[56..<72]), diskGUID.gptBytes)
        XCTAssertTrue(try runTool(["sgdisk", "-p", disk]).text.contains("Disk identifier (GUID): \(diskGUID)"))
        let entries = try bytes(disk, at: 1024, count: 128 * 128)
        XCTAssertEqual(get32(h, 88), CRC32.checksum(entries))
        // Backup header mirrors the primary.
        let b = try bytes(disk, at: (total - 1) * 512, count: 512)
        XCTAssertEqual(get64(b, 24), total - 1)
        XCTAssertEqual(get64(b, 32), 1)
        XCTAssertEqual(get64(b, 72), total - 33)
        XCTAssertEqual(try bytes(disk, at: (total - 33) * 512, count: 128 * 128), entries)
        // Protective MBR.
        let mbr = try bytes(disk, at: 0, count: 512)
        XCTAssertEqual(mbr[450], 0xEE)
        XCTAssertEqual(Array(mbr[510..<512]), [0x55, 0xAA])
        XCTAssertEqual(get32(mbr, 454), 1)

        // GRUB: boot.img patched into the MBR, core.img at partition 1 pointing at its second sector.
        let bootImg = try bytes("/usr/lib/grub/i386-pc/boot.img", at: 0, count: 512)
        XCTAssertEqual(get64(mbr, 0x5C), 2048)
        XCTAssertEqual(Array(mbr[0x66..<0x68]), [0x90, 0x90])
        XCTAssertEqual(Array(mbr[0..<0x5C]), Array(bootImg[0..<0x5C]))
        XCTAssertEqual(Array(mbr[0x68..<440]), Array(bootImg[0x68..<440]))
        let core = try bytes(disk, at: 2048 * 512, count: 512)
        XCTAssertEqual(get64(core, 500), 2049)

        // ESP: a clean FAT32 with the seeded serial.
        let esp = dir + "/esp.img"
        try extract(disk, firstLBA: 4096, sectors: 64 * 2048, to: esp)
        let fsck = try runTool(["fsck.vfat", "-n", esp])
        XCTAssertEqual(fsck.status, 0, fsck.text + fsck.stderr)
        let serial = DiskAssembler.espSerial(seed: seed)
        // Boot sector fields: volume ID at 0x43 (FAT32), label at 0x47, "FAT32   " at 0x52.
        let bs = try bytes(esp, at: 0, count: 512)
        XCTAssertEqual(String(format: "%08X", get32(bs, 0x43)), serial)
        XCTAssertEqual(String(decoding: bs[0x47..<0x52], as: UTF8.self), "ESP        ")
        XCTAssertEqual(String(decoding: bs[0x52..<0x5A], as: UTF8.self), "FAT32   ")
        XCTAssertEqual(Array(bs[510..<512]), [0x55, 0xAA])

        // Root: the ext4 image, byte for byte, and still clean.
        let rootCopy = dir + "/root-copy.ext4"
        try extract(disk, firstLBA: 4096 + 64 * 2048, sectors: (48 << 20) / 512, to: rootCopy)
        XCTAssertTrue(FileManager.default.contentsEqual(atPath: rootCopy, andPath: rootImage))
        XCTAssertEqual(try runTool(["e2fsck", "-fn", rootCopy]).status, 0)

        // Written sparsely: far less allocated than the apparent size.
        var st = stat()
        XCTAssertEqual(stat(disk, &st), 0)
        XCTAssertLessThan(UInt64(st.st_blocks) * 512, size / 2)
    }

    func testDiskAndQcow2AreReproducible() throws {
        let a = dir + "/a.raw", b = dir + "/b.raw"
        try DiskAssembler.assemble(try spec, output: a, progress: nil)
        sleep(1)
        try DiskAssembler.assemble(try spec, output: b, progress: nil)
        XCTAssertEqual(try runTool(["sha256sum", a]).text.prefix(64), try runTool(["sha256sum", b]).text.prefix(64))
        try FormatConverter.convert(raw: a, to: .qcow2, output: dir + "/a.qcow2")
        try FormatConverter.convert(raw: b, to: .qcow2, output: dir + "/b.qcow2")
        XCTAssertEqual(try runTool(["sha256sum", dir + "/a.qcow2"]).text.prefix(64),
                       try runTool(["sha256sum", dir + "/b.qcow2"]).text.prefix(64))
        XCTAssertEqual(try runTool(["qemu-img", "check", dir + "/a.qcow2"]).status, 0)
        let cmp = try runTool(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", a, dir + "/a.qcow2"])
        XCTAssertEqual(cmp.status, 0, cmp.text)
        try FormatConverter.convert(raw: a, to: .raw, output: dir + "/c.raw")
        XCTAssertTrue(FileManager.default.contentsEqual(atPath: a, andPath: dir + "/c.raw"))
    }

    /// A root written straight into the disk (what `kiln build` does for ext4) is, byte for
    /// byte, the filesystem Ext4Writer writes to a file of its own, at the root partition's
    /// offset, and the rest of the disk is the same as when that file is copied in.
    func testRootWrittenInPlaceIsTheCopiedImage() throws {
        let copied = dir + "/copied.raw", inPlace = dir + "/in-place.raw"
        try DiskAssembler.assemble(try spec, output: copied, progress: nil)
        var direct = try spec
        let entries = rootEntries, options = rootOptions
        direct.root = .inPlace(bytes: options.sizeBytes) { disk, offset in
            try Ext4Writer.write(entries, into: disk, at: offset, options: options, progress: nil)
        }
        try DiskAssembler.assemble(direct, output: inPlace, progress: nil)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: copied)), try Data(contentsOf: URL(fileURLWithPath: inPlace)))
        let first = try XCTUnwrap(UInt64(try runTool(["sgdisk", "-i", "3", inPlace]).text
            .split(separator: "\n").first { $0.hasPrefix("First sector") }?.split(separator: " ")[2] ?? ""))
        XCTAssertEqual(try bytes(inPlace, at: first * 512, count: Int(options.sizeBytes)),
                       Array(try Data(contentsOf: URL(fileURLWithPath: rootImage))))
    }

    func testFailureLeavesNothing() throws {
        XCTAssertThrowsError(try grubBIOS(uuid: "not a uuid; evil")) { error in
            XCTAssertTrue("\(error)".contains("is not a UUID"), "\(error)")
        }
        XCTAssertThrowsError(try grubBIOS(uuid: "1234", moduleDirectory: dir + "/no-grub")) { error in
            XCTAssertTrue("\(error)".contains("no-grub/boot.img' is missing"), "\(error)")
        }
        var bad = try spec
        bad.biosBootCode = BIOSBootCode(mbrCode: [1], core: [UInt8](repeating: 1, count: DiskAssembler.biosBootPartitionBytes + 1))
        XCTAssertThrowsError(try DiskAssembler.assemble(bad, output: dir + "/bad.raw", progress: nil)) { error in
            XCTAssertTrue("\(error)".contains("does not fit"), "\(error)")
        }
        bad = try spec
        bad.root = .image(dir + "/no-root.ext4")
        XCTAssertThrowsError(try DiskAssembler.assemble(bad, output: dir + "/bad.raw", progress: nil))
        bad.root = .inPlace(bytes: 16 << 20) { _, _ in throw KilnError("the root writer failed") }
        XCTAssertThrowsError(try DiskAssembler.assemble(bad, output: dir + "/bad.raw", progress: nil))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("bad") }, [])
    }

    /// Boots the disk with SeaBIOS under TCG: GRUB must start from the MBR, find the root
    /// filesystem by UUID, read /boot/grub/grub.cfg and a file from ext4, and print to serial.
    func testGrubBootsUnderQEMU() throws {
        let disk = dir + "/disk.raw"
        try DiskAssembler.assemble(try spec, output: disk, progress: nil)
        let result = try runTool(["timeout", "60", "qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-nographic",
                                  "-no-reboot", "-drive", "file=\(disk),format=raw,if=virtio"])
        let out = result.text
        XCTAssertTrue(out.contains("KILN-GRUB-OK"), "serial output:\n\(out)\n\(result.stderr)")
        XCTAssertTrue(out.contains("KILN-FILE-FROM-EXT4"), "serial output:\n\(out)")
    }

    /// With a kernel ($KILN_TEST_KERNEL, else the host's /boot/vmlinuz-*), GRUB must load and start it.
    func testKernelBootsThroughGrub() throws {
        let kernels = ((try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? [])
            .filter { $0.hasPrefix("vmlinuz-") }.sorted().map { "/boot/" + $0 }
        let candidates = [ProcessInfo.processInfo.environment["KILN_TEST_KERNEL"]].compactMap { $0 } + kernels.reversed()
        guard let kernel = candidates.first(where: { access($0, R_OK) == 0 }) else {
            throw XCTSkip("no kernel: set KILN_TEST_KERNEL or install one in /boot")
        }
        let cfg = """
            serial --unit=0 --speed=115200
            terminal_input serial
            terminal_output serial
            echo KILN-GRUB-OK
            linux /boot/vmlinuz console=ttyS0 panic=-1 root=/dev/nonexistent
            boot

            """
        let entries = [
            FileNode(path: "/boot", kind: .directory, mode: 0o755),
            FileNode(path: "/boot/grub", kind: .directory, mode: 0o755),
            FileNode(path: "/boot/grub/grub.cfg", kind: .data(Array(cfg.utf8)), mode: 0o644),
            FileNode(path: "/boot/vmlinuz", kind: .file(source: kernel), mode: 0o644),
        ]
        var options = rootOptions
        options.sizeBytes = 128 << 20
        try Ext4Writer.write(entries, to: rootImage, options: options, progress: nil)
        let disk = dir + "/disk.raw"
        try DiskAssembler.assemble(try spec, output: disk, progress: nil)
        let result = try runTool(["timeout", "90", "qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-nographic",
                                  "-no-reboot", "-drive", "file=\(disk),format=raw,if=virtio"])
        XCTAssertTrue(result.text.contains("KILN-GRUB-OK"), result.text)
        XCTAssertTrue(result.text.contains("Linux version"), "kernel did not start:\n\(result.text.suffix(3000))")
    }
}
