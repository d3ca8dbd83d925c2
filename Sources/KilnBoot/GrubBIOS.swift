import Foundation
import KilnImage
import KilnPrimitives
import KilnSupport

/// GRUB for BIOS, installed by Kiln itself (grub-install and grub-bios-setup refuse image
/// files): grub-mkimage makes core.img with every module it needs built in, core.img goes
/// into the BIOS boot partition and boot.img's code into the MBR, patched as grub-setup does.
enum GrubBIOS {
    /// Where grub-pc-bin keeps the i386-pc modules, boot.img and the module list.
    static let moduleDirectory = "/usr/lib/grub/i386-pc"

    /// Built into core.img, so the disk needs no module directory: the prefix points at
    /// /boot/grub only for grub.cfg.
    static let modules = [
        "biosdisk", "part_gpt", "part_msdos", "ext2", "fat", "normal", "boot", "linux", "linux16",
        "search", "search_fs_uuid", "search_fs_file", "search_label", "configfile", "echo", "test", "true",
        "serial", "terminal", "gzio", "xzio", "cat", "ls", "halt", "reboot", "minicmd", "sleep", "loadenv",
        "regexp", "probe", "keystatus",
    ]

    /// Runs grub-mkimage and patches boot.img and core.img for a core.img at `coreLBA`, whose
    /// embedded config finds the root filesystem by UUID.
    /// - Parameter extraModules: modules besides the fixed list, e.g. "btrfs" for a btrfs root.
    static func makeImages(rootFilesystemUUID uuid: String, extraModules: [String] = [], moduleDirectory dir: String = moduleDirectory,
                           coreLBA: UInt64, rootPartition: Int, maxCoreBytes: Int, workDirectory: String) throws -> BIOSBootCode {
        guard !uuid.isEmpty, uuid.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw KilnError("GRUB: root filesystem UUID '\(uuid)' is not a UUID")
        }
        let modules = Self.modules + extraModules.filter { !Self.modules.contains($0) }
        for name in ["boot.img", "kernel.img", "moddep.lst"] + modules.map({ $0 + ".mod" }) {
            guard FileManager.default.fileExists(atPath: dir + "/" + name) else {
                throw KilnError("GRUB for BIOS: '\(dir)/\(name)' is missing",
                                hint: "install the GRUB i386-pc modules (Debian: apt-get install grub-pc-bin)")
            }
        }
        let early = workDirectory + "/early.cfg"
        let cfg = "search --no-floppy --fs-uuid --set=root \(uuid)\nset prefix=($root)/boot/grub\n"
        guard FileManager.default.createFile(atPath: early, contents: Data(cfg.utf8)) else {
            throw KilnError("cannot write '\(early)'")
        }
        let core = workDirectory + "/core.img"
        try Tool.run(["grub-mkimage", "-O", "i386-pc", "-d", dir, "-c", early,
                      "-p", "(hd0,gpt\(rootPartition))/boot/grub", "-o", core] + modules)
        guard var coreBytes = FileManager.default.contents(atPath: core).map({ [UInt8]($0) }) else {
            throw KilnError("GRUB: cannot read the core.img grub-mkimage wrote at \(core)")
        }
        guard coreBytes.count >= 512 else { throw KilnError("GRUB: grub-mkimage wrote a core.img of only \(coreBytes.count) bytes") }
        guard coreBytes.count <= maxCoreBytes else {
            throw KilnError("GRUB: core.img is larger than the BIOS boot partition (\(maxCoreBytes) bytes)")
        }
        // diskboot.img's block list (last 12 bytes of core.img's first sector): where the rest starts.
        put64(&coreBytes, 500, coreLBA + 1)

        guard var boot = FileManager.default.contents(atPath: dir + "/boot.img").map({ [UInt8]($0) }),
              boot.count == 512, boot[510] == 0x55, boot[511] == 0xAA else {
            throw KilnError("GRUB: '\(dir)/boot.img' is not a 512-byte boot sector")
        }
        put64(&boot, 0x5C, coreLBA)   // GRUB_BOOT_MACHINE_KERNEL_SECTOR
        boot[0x66] = 0x90; boot[0x67] = 0x90 // GRUB_BOOT_MACHINE_DRIVE_CHECK: NOP the floppy/hd check
        return BIOSBootCode(mbrCode: Array(boot.prefix(440)), core: coreBytes)
    }
}
