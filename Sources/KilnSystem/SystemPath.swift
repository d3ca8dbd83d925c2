import Foundation
import KilnPlan
import KilnStore

/// The system path (`sw`): a symlink forest of every package of the closure, in the
/// merged-/usr layout that `/usr`, `/bin`, `/lib` ... point to (NixOS's system-path.nix).
enum SystemPath {
    /// Top-level folders of a package that are not part of the system path: they are state,
    /// mount points, or /etc (which has its own tree).
    static let skippedTops: Set<String> = ["etc", "var", "run", "boot", "dev", "proc", "sys", "tmp", "home", "root", "srv",
                                          "mnt", "media", "opt"]

    /// The forest of `packages`, in the order given (by store name). On a clash the first
    /// package wins; below a path another package made a link, nothing more can go.
    static func make(_ packages: [StoreObject]) -> GeneratedObject {
        var sw = GeneratedObject(name: "system-path")
        var symlinkDirs = Set<String>()
        for obj in packages {
            var own: Set<String>?   // the package's paths, made when a link needs them
            for e in obj.manifest.entries where !e.path.isEmpty && e.path != "usr" {
                var rel = e.path
                if rel.hasPrefix("usr/") { rel.removeFirst(4) }
                guard let top = rel.split(separator: "/").first, !skippedTops.contains(String(top)) else { continue }
                var parent = Substring(rel)
                var blocked = false
                while let slash = parent.lastIndex(of: "/") {
                    parent = parent[..<slash]
                    if symlinkDirs.contains(String(parent)) { blocked = true; break }
                }
                if blocked { continue }
                switch e.kind {
                case .directory:
                    if !sw.has(rel) { sw.directory(rel) }
                case .file, .symlink:
                    if sw.has(rel) { continue }
                    // A relative link to a file another package ships (python3-minimal's
                    // bin/python3 -> python3.11, which python3.11-minimal has) dangles inside
                    // its own store object: point it at the file's place in the running
                    // system instead, where the forest finds whichever package has it.
                    if e.kind == .file, findsItsFilesBesideItsRealPath(e.path) {
                        sw.file(rel, source: obj.hostFile(e.path), sha256: e.sha256 ?? "", mode: e.mode)
                        continue
                    }
                    var linkTarget = obj.storeFile(e.path)
                    if e.kind == .symlink, let target = e.target, !target.hasPrefix("/"),
                       let resolved = resolve(target, from: e.path) {
                        if own == nil { own = Set(obj.manifest.entries.map(\.path)) }
                        // Also a link to a copied driver (gcc-12 -> x86_64-linux-gnu-gcc-12):
                        // through the store object, its real path would be the package's again.
                        if own?.contains(resolved) == false || findsItsFilesBesideItsRealPath(resolved) { linkTarget = "/" + resolved }
                    }
                    sw.symlink(rel, linkTarget)
                    if e.kind == .symlink { symlinkDirs.insert(rel) }
                }
            }
        }
        for (name, candidates) in alternatives where !sw.has(name) {
            if let c = candidates.first(where: sw.has), let target = sw.entries[c].flatMap({ n -> String? in
                if case .symlink(let t) = n.kind { return t }; return nil
            }) {
                sw.symlink(name, target)
            }
        }
        // NixOS has no sbin: `${pkgs.shadow}/bin/nologin` and `${pkgs.e2fsprogs}/bin/mkfs.ext4`
        // are how its configurations name those commands. Debian keeps them in sbin, so each
        // gets a bin/ link too, unless bin/ has that name already.
        for (rel, node) in sw.entries where rel.hasPrefix("sbin/") && !rel.dropFirst(5).contains("/") {
            let bin = "bin/" + rel.dropFirst(5)
            guard !sw.has(bin), case .symlink(let target) = node.kind else { continue }
            sw.symlink(bin, target)
        }
        return sw
    }

    /// GCC's drivers find cc1, collect2, crt*.o, libgcc and their headers relative to their
    /// own real path (`../lib/gcc/TRIPLET/N/`): linked into gcc-12's store object, they look
    /// only there, while cpp-12 and libgcc-12-dev, other store objects, hold half of it, and
    /// `cc hello.c` fails. Copied into the forest instead, their real path is the system
    /// path's `bin/`, whose `lib/gcc/` has every package's part (NixOS's gcc wrapper does
    /// the same job with flags). Debian's QEMU is relocatable the same way: its emulators
    /// find their modules (TCG itself is one), firmware (`share/qemu`, seabios, ipxe) and
    /// helpers relative to their real path, while qemu-system-common, -data, seabios and
    /// ipxe-qemu hold them; linked, every start failed with "could not load module for type
    /// 'tcg-accel-ops'". `path` is as a package's manifest names it.
    static func findsItsFilesBesideItsRealPath(_ path: String) -> Bool {
        if path.hasPrefix("usr/bin/qemu-system-") || path.hasPrefix("usr/libexec/qemu-system-") { return true }
        guard path.hasPrefix("usr/bin/") else { return false }
        var name = Substring(path.dropFirst("usr/bin/".count))
        // the version suffix (gcc-12), then the target triplet (x86_64-linux-gnu-gcc)
        if let dash = name.lastIndex(of: "-"), case let version = name[name.index(after: dash)...],
           !version.isEmpty, version.allSatisfy(\.isNumber) {
            name = name[..<dash]
        }
        if let triplet = name.range(of: "-linux-gnu-") { name = name[triplet.upperBound...] }
        return gccDrivers.contains(String(name))
    }

    static let gccDrivers: Set<String> = ["gcc", "g++", "cpp", "gfortran", "gccgo", "gdc", "gm2", "gcc-ar", "gcc-nm",
                                          "gcc-ranlib", "gcov", "gcov-dump", "gcov-tool", "lto-dump"]

    /// `target`, a relative link at `path` (both inside one package), as a path from the
    /// package's root; nil if it climbs out of it.
    static func resolve(_ target: String, from path: String) -> String? {
        var parts = path.split(separator: "/").dropLast().map(String.init)
        for c in target.split(separator: "/") {
            switch c {
            case ".": continue
            case "..": if parts.isEmpty { return nil }; parts.removeLast()
            default: parts.append(String(c))
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    /// The generic names Debian's maintainer scripts register with update-alternatives
    /// (Kiln runs none), each with its candidates, best first: without them a system with
    /// gawk has no `awk`, one with less no `pager`.
    static let alternatives: [(String, [String])] = [
        ("bin/awk", ["bin/gawk", "bin/mawk", "bin/original-awk"]),
        ("bin/nawk", ["bin/gawk", "bin/mawk", "bin/original-awk"]),
        ("bin/cc", ["bin/gcc", "bin/clang"]),
        ("bin/c++", ["bin/g++", "bin/clang++"]),
        ("bin/nc", ["bin/nc.openbsd", "bin/nc.traditional"]),
        ("bin/netcat", ["bin/nc.openbsd", "bin/nc.traditional"]),
        ("bin/pager", ["bin/less", "bin/more"]),
        ("bin/which", ["bin/which.debianutils"]),
        ("bin/editor", ["bin/vim.basic", "bin/vim.tiny", "bin/nano"]),
        // neovim registers itself for vi, vim and view too, below vim: a system with only
        // neovim (NixOS's programs.neovim.viAlias/vimAlias) runs it by those names.
        ("bin/vi", ["bin/vim.basic", "bin/vim.tiny", "bin/nvim"]),
        ("bin/vim", ["bin/vim.basic", "bin/nvim"]),
        ("bin/view", ["bin/vim.basic", "bin/vim.tiny", "bin/nvim"]),
        // iptables' (nftables underneath, as Debian 12 chooses), for Docker and the like.
        ("sbin/iptables", ["sbin/iptables-nft", "sbin/iptables-legacy"]),
        ("sbin/iptables-save", ["sbin/iptables-nft-save", "sbin/iptables-legacy-save"]),
        ("sbin/iptables-restore", ["sbin/iptables-nft-restore", "sbin/iptables-legacy-restore"]),
        ("sbin/ip6tables", ["sbin/ip6tables-nft", "sbin/ip6tables-legacy"]),
        ("sbin/ip6tables-save", ["sbin/ip6tables-nft-save", "sbin/ip6tables-legacy-save"]),
        ("sbin/ip6tables-restore", ["sbin/ip6tables-nft-restore", "sbin/ip6tables-legacy-restore"]),
        // Commands Debian renamed for a clash with an older package, under the names upstream
        // and nixpkgs give them: a NixOS user's `pkgs.fd` and `pkgs.bat` run as `fd` and `bat`.
        ("bin/fd", ["bin/fdfind"]),
        ("bin/bat", ["bin/batcat"]),
        // plocate's: it is the locate of Debian (and of NixOS's services.locate).
        ("bin/locate", ["bin/plocate"]),
        ("sbin/updatedb", ["sbin/updatedb.plocate"]),
        // systemd-sysv's links, which the resolver leaves out (Kiln's stage 2 starts systemd
        // itself): systemctl acts as the command it is called by, as on NixOS.
        ("sbin/reboot", ["bin/systemctl"]),
        ("sbin/poweroff", ["bin/systemctl"]),
        ("sbin/halt", ["bin/systemctl"]),
        ("sbin/shutdown", ["bin/systemctl"]),
        // CUPS's backends the cups package's maintainer script links from backend-available
        // (its debconf default): without them no queue takes a socket://, lpd:// or USB printer.
        ("lib/cups/backend/socket", ["lib/cups/backend-available/socket"]),
        ("lib/cups/backend/lpd", ["lib/cups/backend-available/lpd"]),
        ("lib/cups/backend/usb", ["lib/cups/backend-available/usb"]),
        ("lib/cups/backend/snmp", ["lib/cups/backend-available/snmp"]),
        ("lib/cups/backend/dnssd", ["lib/cups/backend-available/dnssd"]),
    ]

    /// Where the running system finds the kernel's modules: the booted generation's tree
    /// (after a switch, the running kernel is still the booted one's).
    static let modulesTarget = "/run/booted-system/kernel-modules/lib/modules"

    /// Adds the files and links of written objects listed in environment.systemPackages
    /// (pkgs.writeShellScriptBin & co.), in the same layout. They win over a package's file
    /// of the same path: the configuration wrote them for that place.
    static func add(_ objects: [WrittenObject], to sw: inout GeneratedObject) {
        for o in objects {
            for e in o.entries {
                if case .directory = e.content { continue }
                var rel = e.path
                if rel.hasPrefix("usr/") { rel.removeFirst(4) }
                guard let top = rel.split(separator: "/").first, !skippedTops.contains(String(top)), !sw.isDirectory(rel) else { continue }
                sw.symlink(rel, o.path + "/" + e.path)
            }
        }
    }

    /// Makes `rel` a link to `target`, replacing whatever packages put there.
    static func link(_ sw: inout GeneratedObject, _ rel: String, to target: String) {
        for key in sw.entries.keys where key == rel || key.hasPrefix(rel + "/") { sw.remove(key) }
        sw.symlink(rel, target)
    }
}
