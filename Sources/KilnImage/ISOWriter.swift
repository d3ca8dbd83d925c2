import CIsoburn
import Foundation
import KilnSupport

/// What goes into a hybrid ISO: a folder that becomes its ISO 9660 tree, and how it boots.
public struct ISOSpec: Sendable {
    /// At most 32 characters: what stage 1 and GRUB find the medium by.
    public var volumeID: String
    /// The folder whose contents become the ISO's root (Rock Ridge, Joliet; owners root).
    public var tree: String
    /// BIOS: the El Torito image inside `tree` (GRUB's i386-pc-eltorito core, relative path)
    /// and the host's GRUB hybrid MBR code (boot_hybrid.img), which boots the same image
    /// from a USB stick.
    public var biosBoot: (eltoritoImage: String, mbrCode: String)?
    /// UEFI: a FAT image holding EFI/BOOT/BOOT*.EFI, appended as a GPT EFI system partition
    /// (a USB stick's firmware boots it) and named by a second El Torito entry (a CD's).
    public var efiImage: String?
    /// Every date in the image (SOURCE_DATE_EPOCH): volume dates, file dates, the GPT's GUIDs.
    public var timestamp: UInt32

    public init(volumeID: String, tree: String, biosBoot: (eltoritoImage: String, mbrCode: String)?, efiImage: String?, timestamp: UInt32) {
        self.volumeID = volumeID; self.tree = tree; self.biosBoot = biosBoot; self.efiImage = efiImage; self.timestamp = timestamp
    }
}

/// Hybrid ISO images through libisoburn's xorriso API, in process: the same commands
/// grub-mkrescue and NixOS's make-iso9660-image.sh give the xorriso program, run by the
/// library (so the host needs libisoburn, not the xorriso executable).
///
/// Reproducible: xorriso takes every date from SOURCE_DATE_EPOCH (volume dates, file dates
/// set to their mtimes, which `write` sets first, and the GPT disk GUID derived from the
/// volume date) and sorts the tree.
public enum ISOWriter {
    /// libisoburn's libraries are process-wide: one ISO at a time.
    private static let lock = NSLock()

    public static func arguments(_ spec: ISOSpec, output: String) throws -> [String] {
        guard !spec.volumeID.isEmpty, spec.volumeID.utf8.count <= 32 else {
            throw KilnError("isoImage.volumeID '\(spec.volumeID)' must have 1 to 32 characters (ISO 9660's limit)")
        }
        // Every date from the timestamp (what SOURCE_DATE_EPOCH does for the xorriso program,
        // which a library caller must say itself): volume dates and the volume UUID, file
        // dates from the mtimes `write` set, the GPT's disk GUID from the volume UUID.
        var time = time_t(spec.timestamp)
        var tm = tm()
        gmtime_r(&time, &tm)
        let uuid = String(format: "%04d%02d%02d%02d%02d%02d00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
        var args = ["xorriso", "-report_about", "SORRY", "-abort_on", "FAILURE",
                    "-volume_date", "uuid", uuid, "-volume_date", "all_file_dates", "set_to_mtime",
                    "-volume_date", "c", "=\(spec.timestamp)", "-volume_date", "m", "=\(spec.timestamp)",
                    "-volume_date", "x", "default", "-volume_date", "f", "default",
                    "-iso_nowtime", "=\(spec.timestamp)", "-boot_image", "any", "gpt_disk_guid=volume_date_uuid",
                    "-as", "mkisofs", "--modification-date=" + uuid,
                    "-iso-level", "3", "-full-iso9660-filenames", "-joliet", "-joliet-long", "-rational-rock",
                    "-volid", spec.volumeID, "-appid", "Kiln", "-publisher", "Kiln", "-sysid", "LINUX",
                    "-c", "boot/boot.cat"]
        if let bios = spec.biosBoot {
            args += ["-b", bios.eltoritoImage, "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
                     "--grub2-boot-info", "--grub2-mbr", bios.mbrCode]
        }
        if let efi = spec.efiImage {
            args += ["-append_partition", "2", "0xef", efi, "-appended_part_as_gpt"]
            if spec.biosBoot != nil { args += ["-eltorito-alt-boot"] }
            args += ["-e", "--interval:appended_partition_2:all::", "-no-emul-boot"]
        }
        return args + ["-o", output, spec.tree]
    }

    public static func write(_ spec: ISOSpec, to output: String, progress: KilnSupport.Progress?) throws {
        let args = try arguments(spec, output: output)
        // The El Torito catalog goes to /boot/boot.cat.
        try FileManager.default.createDirectory(atPath: spec.tree + "/boot", withIntermediateDirectories: true)
        try setDates(under: spec.tree, to: spec.timestamp)
        progress?.begin("writing the ISO (libisoburn)")
        lock.lock()
        defer { lock.unlock() }
        let previous = getenv("SOURCE_DATE_EPOCH").map { String(cString: $0) }
        setenv("SOURCE_DATE_EPOCH", String(spec.timestamp), 1)
        defer {
            if let previous { setenv("SOURCE_DATE_EPOCH", previous, 1) } else { unsetenv("SOURCE_DATE_EPOCH") }
        }
        // No signal handlers of libburn's in kiln: the default reactions stay.
        _ = Xorriso__preset_signal_behavior(2, 0)
        var xorriso: OpaquePointer?
        guard Xorriso_new(&xorriso, strdup("xorriso"), 0) > 0, let x = xorriso else {
            throw KilnError("libisoburn: cannot create a xorriso object")
        }
        defer { _ = Xorriso_destroy(&xorriso, 1) }
        guard Xorriso_startup_libraries(x, 0) > 0 else {
            throw KilnError("libisoburn: cannot start libisofs and libburn")
        }
        var cArgs = args.map { strdup($0) }
        defer { cArgs.forEach { free($0) } }
        var index: Int32 = 1
        let result = cArgs.withUnsafeMutableBufferPointer { buf in
            Xorriso_interpreter(x, Int32(buf.count), buf.baseAddress, &index, 2)
        }
        var status = Xorriso_make_return_value(x, 0)
        if result > 0, status == 0, Xorriso_change_is_pending(x, 0) > 0 {
            guard Xorriso_option_end(x, 0) > 0 else { status = 1; return try fail(args) }
            status = Xorriso_make_return_value(x, 0)
        }
        guard result > 0, status == 0 else { return try fail(args) }
        progress?.end()
    }

    private static func fail(_ args: [String]) throws {
        throw KilnError("libisoburn could not write the ISO (its messages are above)",
                        hint: "the same as: " + Tool.shellQuoted(args))
    }

    /// xorriso gives every file its mtime (SOURCE_DATE_EPOCH sets all_file_dates=set_to_mtime).
    static func setDates(under root: String, to timestamp: UInt32) throws {
        var times = [timespec(tv_sec: Int(timestamp), tv_nsec: 0), timespec(tv_sec: Int(timestamp), tv_nsec: 0)]
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw KilnError("cannot read '\(root)'") }
        var paths = [root]
        while let rel = walker.nextObject() as? String { paths.append(root + "/" + rel) }
        for p in paths {
            guard utimensat(AT_FDCWD, p, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw KilnError("cannot set the date of '\(p)': \(String(cString: strerror(errno)))")
            }
        }
    }
}
