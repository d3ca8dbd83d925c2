import KilnImage
import KilnPlan
import KilnStore
import KilnSupport
import KilnSystem

/// What every boot loader does for an image, one file per loader (Grub.swift,
/// SystemdBoot.swift), fed the same list of generations (NixOS's bootspecs). Adding a loader
/// is a case of `BootLoader` (KilnPlan) plus one file here, and its case in `installer`.
public protocol BootLoaderInstaller: Sendable {
    /// Debian packages of the target architecture it is made from: pinned in the lock file,
    /// never installed in the root filesystem.
    var packages: [String] { get }
    /// The option that chose those packages, for messages about them.
    var packagesOption: String { get }
    /// Its files in the root filesystem (GRUB reads its menu from there).
    func rootFiles(_ generations: [Bootspec]) -> [FileNode]
    /// Its files on the EFI system partition (none when it does not boot on UEFI).
    func espFiles(_ generations: [Bootspec], context: BootContext) throws -> [ESPFile]
    /// Its code in the MBR and the BIOS boot partition (nil when it does not boot on BIOS).
    func biosBootCode(context: BootContext) throws -> BIOSBootCode?
    /// `<generation>/bin/install-bootloader`, run on the machine by switch-to-configuration
    /// and kiln-gc: rewrites the entries for every generation in /nix/var/kiln/profiles (the
    /// one `system` points at is the default; a generation named by /nix/var/kiln/trial
    /// boots once), the same entries `rootFiles` and `espFiles` write into an image.
    func installScript(bash: String) -> String
}

/// What every loader's entries say about a generation: its title and its id.
enum EntryNames {
    static func id(_ b: Bootspec) -> String {
        "kiln-generation-\(b.generation)" + (b.specialisation.map { "-" + $0.replacingOccurrences(of: "/", with: "-") } ?? "")
    }

    /// The kernel version from the kernel's store name ("<hash>-linux-6.1.0-57-amd64").
    static func kernelVersion(_ b: Bootspec) -> String {
        b.kernelName.range(of: "-linux-").map { String(b.kernelName[$0.upperBound...]) } ?? b.kernelName
    }

    /// The shell functions the install scripts share: the generations, their titles and ids.
    static let shellCommon = #"""
    profiles=/nix/var/kiln/profiles
    generation_numbers() { ls "$profiles" 2>/dev/null | sed -n 's/^system-\([0-9][0-9]*\)-link$/\1/p' | sort -n; }
    current=$(readlink "$profiles/system" | sed -n 's/^system-\([0-9][0-9]*\)-link$/\1/p')
    trial=$(readlink /nix/var/kiln/trial 2>/dev/null | sed -n 's/^system-\([0-9][0-9]*\)-link$/\1/p' || true)
    booted=$(readlink -f /run/booted-system 2>/dev/null || true)
    # A trial that is over (its boot came and went, or it is booted and confirmed elsewhere) is none.
    [ -n "$trial" ] && [ -e "$profiles/system-$trial-link" ] || trial=
    title() { echo "Kiln $(cat "$1/etc/hostname" 2>/dev/null) - generation $2${3:+ ($3)}"; }
    kernel_version() { basename "$(dirname "$(readlink "$1/kernel")")" | sed 's/^[^-]*-linux-//'; }
    generation_date() { date -u -d "@$(stat -c %Y "$profiles/system-$1-link")" '+%F %T'; }
    # Each generation and each of its variants: "NUMBER TOPLEVEL ID VARIANT" (newest first, at most $1).
    entries() {
      local n top v
      for n in $(generation_numbers | sort -rn | head -n "$1"); do
        top=$(readlink -f "$profiles/system-$n-link")
        echo "$n $top kiln-generation-$n -"
        for v in "$top"/specialisation/*; do
          [ -e "$v" ] || continue
          echo "$n $(readlink -f "$v") kiln-generation-$n-$(basename "$v") $(basename "$v")"
        done
      done
    }
    # Writes stdin to $1 so that readers see the old file or the new one, never half.
    replace() { cat >"$1.tmp-$$"; sync "$1.tmp-$$"; mv -f "$1.tmp-$$" "$1"; }

    """#
}

/// What loaders read besides the generations: where the root is and what was fetched.
public struct BootContext: Sendable {
    public var rootUUID: String
    /// The store objects of the lock file, by package name (the loaders' own packages among them).
    public var packages: [String: StoreObject]
    /// A private folder for intermediate files.
    public var workDirectory: String

    public init(rootUUID: String, packages: [String: StoreObject], workDirectory: String) {
        self.rootUUID = rootUUID; self.packages = packages; self.workDirectory = workDirectory
    }

    /// A package the loader is made from, every file checked against its manifest (the
    /// loader's tools read them directly, so no writer would check them later).
    func package(_ name: String) throws -> StoreObject {
        guard let o = packages[name] else {
            throw KilnError("the lock file lacks \(name), which the boot loader is made from")
        }
        try o.verify()
        return o
    }
}

extension SystemPlan {
    /// The installer of the plan's boot loader.
    public var bootLoaderInstaller: any BootLoaderInstaller {
        switch bootLoader {
        case .grub(let platforms):
            return Grub(platforms: platforms, architecture: architecture, rootFilesystem: rootFilesystem, timeout: bootLoaderTimeout,
                        limit: bootLoaderLimit)
        case .systemdBoot:
            return SystemdBoot(architecture: architecture, timeout: bootLoaderTimeout, limit: bootLoaderLimit)
        }
    }
}
