import Foundation
import KilnSupport

/// A file to put on the ESP. Paths are relative to the ESP's root ("EFI/BOOT/BOOTX64.EFI").
public struct ESPFile: Sendable {
    public enum Content: Sendable {
        case file(String)
        case data([UInt8])
    }
    public var path: String
    public var content: Content

    public init(_ path: String, _ content: Content) {
        self.path = path; self.content = content
    }

    var size: UInt64 {
        switch content {
        case .data(let d): return UInt64(d.count)
        case .file(let p):
            var st = stat()
            return stat(p, &st) == 0 ? UInt64(st.st_size) : 0
        }
    }
}

/// The UEFI architectures Kiln boots, with the names the specification fixes for them.
public enum EFIArchitecture: String, Sendable {
    case x64, aa64

    public init(debianArchitecture: String) {
        self = debianArchitecture == "arm64" ? .aa64 : .x64
    }

    /// The removable-media path firmware boots without NVRAM entries (UEFI 2.x, 3.5.1.1).
    public var removablePath: String { "EFI/BOOT/BOOT\(rawValue.uppercased()).EFI" }
    /// grub-mkimage's -O target.
    public var grubTarget: String { self == .x64 ? "x86_64-efi" : "arm64-efi" }
}

/// GRUB for UEFI: grub-mkimage (a host tool; it only packs files) makes one EFI binary from a
/// module directory of the target architecture (grub-efi-{amd64,arm64}-bin from the lock
/// file), with every module built in and an early config that finds the root filesystem by
/// UUID and reads the same /boot/grub/grub.cfg as BIOS GRUB. Installed as the removable
/// loader, so no NVRAM entry is needed.
public enum GrubEFI {
    static let modules = [
        "part_gpt", "part_msdos", "fat", "ext2", "btrfs", "normal", "boot", "linux", "search", "search_fs_uuid",
        "search_fs_file", "search_label", "configfile", "echo", "test", "true", "gzio", "xzio", "cat", "ls",
        "halt", "reboot", "minicmd", "sleep", "loadenv", "regexp", "probe", "keystatus", "serial", "terminal",
        "efi_gop", "all_video",
    ]
    /// Without these GRUB cannot read the disk or boot a kernel.
    static let required: Set<String> = ["part_gpt", "ext2", "btrfs", "normal", "linux", "search_fs_uuid", "configfile"]

    /// The EFI binary's bytes.
    /// - Parameter moduleDirectory: e.g. `<store>/usr/lib/grub/x86_64-efi`.
    public static func makeImage(architecture: EFIArchitecture, moduleDirectory: String, rootFilesystemUUID uuid: String,
                                 workDirectory: String) throws -> [UInt8] {
        guard !uuid.isEmpty, uuid.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw KilnError("GRUB: root filesystem UUID '\(uuid)' is not a UUID")
        }
        let fm = FileManager.default
        for name in ["kernel.img", "moddep.lst"] + required.sorted().map({ $0 + ".mod" })
            where !fm.fileExists(atPath: moduleDirectory + "/" + name) {
            throw KilnError("GRUB for \(architecture.grubTarget): '\(moduleDirectory)/\(name)' is missing",
                            hint: "the lock file's grub-efi package should hold usr/lib/grub/\(architecture.grubTarget)")
        }
        let present = modules.filter { fm.fileExists(atPath: moduleDirectory + "/" + $0 + ".mod") }
        let early = workDirectory + "/early-\(architecture.rawValue).cfg"
        let cfg = "search --no-floppy --fs-uuid --set=root \(uuid)\nset prefix=($root)/boot/grub\n"
        guard fm.createFile(atPath: early, contents: Data(cfg.utf8)) else { throw KilnError("cannot write '\(early)'") }
        let out = workDirectory + "/grub-\(architecture.rawValue).efi"
        try Tool.run(["grub-mkimage", "-O", architecture.grubTarget, "-d", moduleDirectory, "-c", early,
                      "-p", "/boot/grub", "-o", out] + present)
        guard let data = fm.contents(atPath: out), data.count > 512 else {
            throw KilnError("GRUB: grub-mkimage wrote no usable \(out)")
        }
        return [UInt8](data)
    }
}

/// systemd-boot with Boot Loader Specification Type #1 entries. systemd-boot reads only the
/// ESP (or XBOOTLDR), so each entry's kernel and initrd are copied there, named after their
/// store paths (content-addressed, so generations sharing a kernel share the copy).
public enum SystemdBoot {
    public struct Entry: Sendable {
        public var generation: Int
        public var title: String
        public var kernel: ESPFile.Content
        public var initrd: ESPFile.Content
        /// Unique names for the ESP copies (store base names).
        public var kernelName: String
        public var initrdName: String
        public var options: String

        public init(generation: Int, title: String, kernel: ESPFile.Content, initrd: ESPFile.Content,
                    kernelName: String, initrdName: String, options: String) {
            self.generation = generation; self.title = title; self.kernel = kernel; self.initrd = initrd
            self.kernelName = kernelName; self.initrdName = initrdName; self.options = options
        }
    }

    /// The ESP's files: the loader as the removable path, loader.conf (newest generation
    /// default, `timeout`), one entry per generation, and the kernels and initrds.
    /// - Parameter loader: systemd-boot{x64,aa64}.efi from the lock file's systemd-boot-efi.
    public static func files(loader: String, architecture: EFIArchitecture, entries: [Entry], timeout: Int) throws -> [ESPFile] {
        guard FileManager.default.fileExists(atPath: loader) else {
            throw KilnError("systemd-boot: '\(loader)' is missing", hint: "the lock file's systemd-boot-efi package should hold it")
        }
        guard let newest = entries.max(by: { $0.generation < $1.generation }) else {
            throw KilnError("systemd-boot: no generation to boot")
        }
        var files = [ESPFile(architecture.removablePath, .file(loader))]
        // `timeout 0` hides the menu; systemd-boot has no "wait forever" but menu-force.
        files.append(ESPFile("loader/loader.conf", .data(Array("""
            timeout \(max(timeout, 0))
            default kiln-generation-\(newest.generation).conf
            editor no
            console-mode keep

            """.utf8))))
        var copied = Set<String>()
        for e in entries.sorted(by: { $0.generation > $1.generation }) {
            let kernel = "EFI/kiln/\(e.kernelName).efi", initrd = "EFI/kiln/\(e.initrdName).img"
            if copied.insert(kernel).inserted { files.append(ESPFile(kernel, e.kernel)) }
            if copied.insert(initrd).inserted { files.append(ESPFile(initrd, e.initrd)) }
            files.append(ESPFile("loader/entries/kiln-generation-\(e.generation).conf", .data(Array("""
                title \(e.title)
                version \(e.generation)
                sort-key kiln
                linux /\(kernel)
                initrd /\(initrd)
                options \(e.options)

                """.utf8))))
        }
        return files
    }
}
