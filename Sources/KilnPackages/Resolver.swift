import KilnSupport

/// A package the configuration asked for, and who asked (for error messages).
public struct PackageRequest: Sendable, Hashable {
    public var name: String
    /// The option path or component that wants it: "environment.systemPackages", "boot.kernelPackage".
    public var requestedBy: String
    public init(name: String, requestedBy: String) { self.name = name; self.requestedBy = requestedBy }
}

/// The resolver could not satisfy a request or a dependency.
public struct ResolveError: UserFacingError {
    public var message: String
    /// The package no Debian package answers, when that is the error (for callers that know
    /// more names to suggest, as the nixpkgs ones).
    public var unknownPackage: String?
    public var userMessage: String { message }

    public init(message: String, unknownPackage: String? = nil) {
        self.message = message; self.unknownPackage = unknownPackage
    }

    /// An unknown package's error with what to try instead: Debian names close to it, and
    /// nixpkgs attribute names close to it with the Debian package each means.
    public static func unknown(_ request: PackageRequest, debianNames: [String], nixpkgsNames: [(name: String, debian: String)] = []) -> ResolveError {
        var hints = debianNames.map { "'\($0)'" }
        hints += nixpkgsNames.filter { n in !debianNames.contains(n.name) }.map { "'\($0.name)' (nixpkgs; Debian's \($0.debian))" }
        return ResolveError(message: "unknown package '\(request.name)', asked for by \(request.requestedBy): no Debian package of that name"
            + " for this architecture in the APT indexes"
            + (hints.isEmpty ? "" : "\nhint: did you mean \(hints.joined(separator: ", "))?"), unknownPackage: request.name)
    }
}

/// Kiln's own deterministic resolver: Depends and Pre-Depends with alternatives, version
/// constraints and Provides. Recommends are not followed. Conflicts and Breaks are not
/// checked: the closure is installed side by side in the store, never by dpkg.
public struct Resolver {
    /// Dependencies that only matter to dpkg's way of installing: a group naming one of
    /// these is treated as satisfied. Kiln builds its own initrd and runs no maintainer scripts.
    public static let excluded: Set<String> = [
        "initramfs-tools", "initramfs-tools-core", "linux-initramfs-tool", "dracut", "klibc-utils",
        "libklibc", "linux-base", "debconf", "debconf-2.0", "cdebconf", "apt", "dpkg",
        "init-system-helpers", "systemd-sysv", "procps", "adduser", "perl-base",
    ]

    public let index: PackageIndex
    public init(index: PackageIndex) { self.index = index }

    /// Resolves requests to a closure, sorted by name.
    /// - Throws: `ResolveError` naming the package and who asked for it.
    public func resolve(_ requests: [PackageRequest]) throws -> [PackageRecord] {
        var chosen: [String: PackageRecord] = [:]
        var provided: [String: [PackageRecord]] = [:]
        var queue: [(PackageRecord, String)] = []

        func choose(_ rec: PackageRecord, why: String) {
            guard chosen[rec.name] == nil else { return }
            chosen[rec.name] = rec
            for p in rec.provides { provided[p.name, default: []].append(rec) }
            queue.append((rec, why))
        }

        for req in requests {
            if let rec = index.best(req.name) {
                choose(rec, why: req.name)
            } else if let rec = index.providersOf(req.name).sorted(by: { $0.name < $1.name }).first {
                choose(rec, why: req.name)
            } else {
                throw ResolveError.unknown(req, debianNames: index.suggestions(for: req.name))
            }
        }

        var i = 0
        while i < queue.count {
            let (rec, chain) = queue[i]
            i += 1
            for group in rec.depends {
                if group.contains(where: { Self.excluded.contains($0.name) }) { continue }
                if satisfied(group, chosen: chosen, provided: provided) { continue }
                guard let pick = pick(group) else {
                    throw ResolveError(message: "cannot satisfy dependency '\(group.map(\.description).joined(separator: " | "))'"
                        + " of package '\(rec.name)' \(rec.version) (needed by \(chain))")
                }
                choose(pick, why: "\(chain) -> \(rec.name)")
            }
        }
        return chosen.values.sorted { $0.name < $1.name }
    }

    private func satisfied(_ group: DependencyGroup, chosen: [String: PackageRecord], provided: [String: [PackageRecord]]) -> Bool {
        group.contains { rel in
            if let c = chosen[rel.name], rel.constraint?.allows(c.version) ?? true { return true }
            if rel.constraint == nil, provided[rel.name]?.isEmpty == false { return true }
            return false
        }
    }

    private func pick(_ group: DependencyGroup) -> PackageRecord? {
        for rel in group {
            if let r = index.best(rel.name, satisfying: rel.constraint) { return r }
        }
        for rel in group {
            if let r = index.providersOf(rel.name, satisfying: rel.constraint).sorted(by: { $0.name < $1.name }).first { return r }
        }
        return nil
    }
}
