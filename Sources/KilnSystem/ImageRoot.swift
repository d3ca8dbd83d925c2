import KilnStore

/// The root filesystem of an image holding one generation: the directories every system has,
/// /etc already activated, the profile links, and the generation's store closure.
public enum ImageRoot {
    /// Every entry, sorted by path (parents before children), plus `extra` entries (a boot
    /// loader's files under /boot). The store's registration and manifests are included.
    /// - Parameter extraPackages: store objects the store holds besides the generation's
    ///   closure (a live ISO's `isoImage.storeContents`).
    public static func nodes(_ generation: Generation, extra: [FileNode] = [], extraPackages: [StoreObject] = []) -> [FileNode] {
        var nodes = skeleton(toplevel: generation.toplevel) + EtcTree.activatedNodes(generation.etc, toplevel: generation.toplevel)
        nodes += extra
        let inClosure = Set(generation.allPackages.map(\.storePath))
        let packages = generation.allPackages + extraPackages.filter { !inClosure.contains($0.storePath) }
        nodes += Registration.nodes(packages.map(\.manifest) + generation.allGenerated.map { $0.manifest() })
        for obj in packages {
            for e in obj.manifest.entries {
                let path = obj.storeFile(e.path)
                switch e.kind {
                case .directory: nodes.append(FileNode(path: path, kind: .directory, mode: e.mode, uid: e.uid, gid: e.gid))
                case .file: nodes.append(FileNode(path: path, kind: .file(source: obj.hostFile(e.path)), mode: e.mode, uid: e.uid,
                                                  gid: e.gid, sha256: e.sha256))
                case .symlink: nodes.append(FileNode(path: path, kind: .symlink(target: e.target ?? ""), mode: 0o777, uid: e.uid, gid: e.gid))
                }
            }
        }
        for g in generation.allGenerated { nodes.append(contentsOf: g.nodes()) }
        nodes.sort { $0.path < $1.path }
        return nodes
    }

    static func skeleton(toplevel: StorePath) -> [FileNode] {
        var n: [FileNode] = [FileNode(path: "/", kind: .directory, mode: 0o755)]
        for d in ["/boot", "/dev", "/etc", "/home", "/mnt", "/nix", "/nix/store", "/nix/var", "/nix/var/kiln",
                  "/nix/var/kiln/profiles", "/proc", "/run", "/sys", "/var", "/var/lib", "/var/log", "/var/cache"] {
            n.append(FileNode(path: d, kind: .directory, mode: 0o755))
        }
        n.append(FileNode(path: "/root", kind: .directory, mode: 0o700))
        n.append(FileNode(path: "/tmp", kind: .directory, mode: 0o1777))
        n.append(FileNode(path: "/var/tmp", kind: .directory, mode: 0o1777))
        for (link, dir) in [("/bin", "bin"), ("/sbin", "sbin"), ("/lib", "lib"), ("/lib64", "lib64")] {
            n.append(FileNode(path: link, kind: .symlink(target: "/run/current-system/sw/\(dir)"), mode: 0o777))
        }
        n.append(FileNode(path: "/usr", kind: .symlink(target: "/run/current-system/sw"), mode: 0o777))
        // /etc and /var are as new as /usr (every timestamp is the build's), so the units that
        // catch up after a package manager changed /usr (ConditionNeedsUpdate: sysusers,
        // ldconfig, hwdb and catalog updates) have nothing to do: a Kiln system's accounts and
        // files are the configuration's.
        let updated = Array("# Kiln: /usr is the generation's; nothing to update (systemd-update-done.service(8)).\n".utf8)
        n.append(FileNode(path: "/etc/.updated", kind: .data(updated), mode: 0o644))
        n.append(FileNode(path: "/var/.updated", kind: .data(updated), mode: 0o644))
        n.append(FileNode(path: "/nix/var/kiln/profiles/system-1-link", kind: .symlink(target: toplevel.path), mode: 0o777))
        n.append(FileNode(path: "/nix/var/kiln/profiles/system", kind: .symlink(target: "system-1-link"), mode: 0o777))
        return n
    }
}
