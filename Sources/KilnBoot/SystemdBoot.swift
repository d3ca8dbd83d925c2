import Foundation
import KilnImage
import KilnPlan
import KilnStore
import KilnSupport
import KilnSystem

/// systemd-boot with Boot Loader Specification Type #1 entries. systemd-boot reads only the
/// ESP (or XBOOTLDR), so each entry's kernel and initrd are copied there, named after their
/// store paths (content-addressed, so generations sharing a kernel share the copy).
struct SystemdBoot: BootLoaderInstaller {
    var architecture: Architecture
    var timeout: Int

    var packages: [String] { ["systemd-boot-efi"] }
    var packagesOption: String { "boot.loader.systemd-boot.enable" }

    func rootFiles(_ generations: [Bootspec]) -> [FileNode] { [] }

    func biosBootCode(context: BootContext) throws -> BIOSBootCode? { nil }

    func espFiles(_ generations: [Bootspec], context: BootContext) throws -> [ESPFile] {
        let sdboot = try context.package("systemd-boot-efi")
        return try files(loader: sdboot.hostFile("usr/lib/systemd/boot/efi/systemd-boot\(architecture.efi).efi"), generations)
    }

    /// The ESP's files: the loader as the removable path, loader.conf (newest generation
    /// default, `timeout`), one entry per generation, and the kernels and initrds.
    /// - Parameter loader: systemd-boot{x64,aa64}.efi from the lock file's systemd-boot-efi.
    func files(loader: String, _ generations: [Bootspec]) throws -> [ESPFile] {
        guard FileManager.default.fileExists(atPath: loader) else {
            throw KilnError("systemd-boot: '\(loader)' is missing", hint: "the lock file's systemd-boot-efi package should hold it")
        }
        guard let newest = generations.max(by: { $0.generation < $1.generation }) else {
            throw KilnError("systemd-boot: no generation to boot")
        }
        var files = [ESPFile(architecture.efiRemovablePath, .file(loader))]
        // `timeout 0` hides the menu; systemd-boot has no "wait forever" but menu-force.
        files.append(ESPFile("loader/loader.conf", .data(Array("""
            timeout \(max(timeout, 0))
            default kiln-generation-\(newest.generation).conf
            editor no
            console-mode keep

            """.utf8))))
        var copied = Set<String>()
        for e in generations.sorted(by: { $0.generation > $1.generation }) {
            let kernel = "EFI/kiln/\(e.kernelName).efi", initrd = "EFI/kiln/\(e.initrdName).img"
            if copied.insert(kernel).inserted { files.append(ESPFile(kernel, .file(e.kernelSource))) }
            if copied.insert(initrd).inserted { files.append(ESPFile(initrd, .data(e.initrdData))) }
            files.append(ESPFile("loader/entries/kiln-generation-\(e.generation).conf", .data(Array("""
                title \(e.title)
                version \(e.generation)
                sort-key kiln
                linux /\(kernel)
                initrd /\(initrd)
                options \(e.commandLine)

                """.utf8))))
        }
        return files
    }
}
