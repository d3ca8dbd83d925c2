import Foundation
import KilnBuild
import KilnModules
import KilnPlan
import KilnPrimitives
import KilnStore
import KilnSupport
import KilnSystem

/// What a running Kiln machine says about itself before a switch.
public struct MachineFacts: Sendable {
    public var architecture: String
    /// Its generations, oldest first, and the one the system profile names.
    public var generations: [Int]
    public var current: Int?
    public var rootUUID: String
    public var espPartitionUUID: String?
    public var hasReceiver: Bool
    /// Whether the commands run as root there (the login is root's, or goes through sudo).
    public var isRoot: Bool
    /// Free space under /nix/store, bytes.
    public var freeBytes: Int64
    public var registered: Set<String>
    public var accounts: PreviousAccounts

    static let probe = #"""
    set -u
    profiles=/nix/var/kiln/profiles
    echo "arch $(uname -m)"
    echo "uid $(id -u)"
    echo "current $(readlink "$profiles/system" 2>/dev/null | sed -n 's/^system-\([0-9][0-9]*\)-link$/\1/p')"
    echo "generations $(ls "$profiles" 2>/dev/null | sed -n 's/^system-\([0-9][0-9]*\)-link$/\1/p' | sort -n | tr '\n' ' ')"
    echo "root $(tr ' ' '\n' </proc/cmdline | sed -n 's/^root=UUID=//p' | tail -n 1)"
    echo "esp $(sed -n 's|^PARTUUID=\([^ ]*\) /boot .*|\1|p' /etc/fstab | head -n 1)"
    command -v kiln-receive >/dev/null && echo "receiver yes"
    echo "free $(df -Pk /nix/store | awk 'NR == 2 { print $4 }')"
    echo "--- registration"; cat /nix/var/kiln/registration 2>/dev/null
    echo "--- passwd"; cat /etc/passwd
    echo "--- group"; cat /etc/group
    """#

    init(parsing text: String, host: TargetHost) throws {
        var fields: [String: String] = [:]
        var sections: [String: [Substring]] = [:]
        var section: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("--- ") { section = String(line.dropFirst(4)); sections[section!, default: []] = []; continue }
            if let s = section { sections[s, default: []].append(line); continue }
            let parts = line.split(separator: " ", maxSplits: 1)
            if let k = parts.first { fields[String(k)] = parts.count > 1 ? String(parts[1]) : "" }
        }
        guard let arch = fields["arch"], let root = fields["root"], !root.isEmpty else {
            throw KilnError("\(host) does not look like a Kiln machine (its kernel command line names no root=UUID=)")
        }
        architecture = arch
        generations = (fields["generations"] ?? "").split(separator: " ").compactMap { Int($0) }
        current = fields["current"].flatMap { Int($0) }
        rootUUID = root
        espPartitionUUID = fields["esp"].flatMap { $0.isEmpty ? nil : $0 }
        hasReceiver = fields["receiver"] == "yes"
        isRoot = fields["uid"] == "0"
        freeBytes = (fields["free"].flatMap { Int64($0) } ?? 0) * 1024
        registered = Set((sections["registration"] ?? []).dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) })
        accounts = PreviousAccounts(passwd: (sections["passwd"] ?? []).joined(separator: "\n"),
                                    group: (sections["group"] ?? []).joined(separator: "\n"))
    }
}

/// `kiln switch` and `kiln gc --target-host`: a new generation built here, the store paths
/// the machine lacks sent over SSH, and the machine's own tools (kiln-receive,
/// switch-to-configuration, kiln-set-generation, kiln-gc) doing the rest there.
public struct Deployment {
    /// What to do with the generation (nixos-rebuild's verbs).
    public enum Action: String, Sendable, CaseIterable {
        /// Activate now and make it the boot default.
        case `switch`
        /// Make it the boot default; nothing changes until the next boot.
        case boot
        /// Activate now; the boot menu stays as it is.
        case test
        /// Say what switch would change, and change nothing.
        case dryActivate = "dry-activate"
    }

    public var target: TargetHost
    public var pipeline: Pipeline
    let progress = Progress.shared

    public init(target: TargetHost, pipeline: Pipeline = Pipeline()) { self.target = target; self.pipeline = pipeline }

    public func facts() throws -> MachineFacts {
        progress.begin("asking \(target) what it runs")
        let out = try target.run(MachineFacts.probe, what: "reading the machine's generations")
        let facts = try MachineFacts(parsing: out.stdoutText, host: target)
        progress.end("\(facts.architecture), generation \(facts.current.map(String.init) ?? "none") of \(facts.generations.count), \(facts.registered.count) store paths")
        guard facts.isRoot else {
            throw KilnError("\(target): the commands run as \(target.user ?? "your user"), not as root, and switching a generation needs root; nothing was changed",
                            hint: "log in as root (root@\(target.host)), or add --use-remote-sudo to run every command through sudo there")
        }
        guard facts.hasReceiver else {
            throw KilnError("\(target) has no kiln-receive: its generation was built by a Kiln without kiln switch",
                            hint: "build and flash an image with this kiln once; later generations then go over SSH")
        }
        return facts
    }

    /// Builds the profile's generation, sends what the machine lacks, and applies `action`.
    /// With `trial` (only with `.boot`), the new generation boots once, and stays only if
    /// that boot confirms itself (kiln-trial-confirm.service).
    public func deploy(profile: String, hardware: Hardware, action: Action, trial: Bool, seed: String?) throws {
        let facts = try facts()
        let number = (facts.generations.max() ?? 0) + 1
        let built = try pipeline.machineGeneration(
            profile: profile, hardware: hardware, number: number, rootUUID: facts.rootUUID,
            espPartitionUUID: facts.espPartitionUUID, previousAccounts: facts.accounts, seed: seed) { plan in
            guard plan.architecture.rawValue == facts.architecture else {
                throw KilnError("\(profile) is a system for \(plan.architecture.rawValue) (its hardware is \(hardware)), but \(target) is \(facts.architecture); nothing was built or sent",
                                hint: "pass the machine's description with --hardware (e.g. --hardware qemu-\(facts.architecture))")
            }
            if trial && plan.bootLoader != BootLoader.systemdBoot && plan.rootFilesystem == RootFilesystem.btrfs {
                throw KilnError("--trial needs a boot loader that can count one boot: GRUB cannot write its environment block on btrfs",
                                hint: "use boot.loader.systemd-boot, or an ext4 root, for trial boots")
            }
        }
        let generation = built.generation
        try send(generation: generation, nodes: built.storeNodes, facts: facts)
        try activate(generation.toplevel.path, number: number, action: action, trial: trial)
    }

    /// Sends the store paths of `generation` that the machine does not have.
    func send(generation: Generation, nodes: [FileNode], facts: MachineFacts) throws {
        var manifests: [String: Manifest] = [:]
        for p in generation.allPackages { manifests[p.storePath.path] = p.manifest }
        for g in generation.allGenerated { manifests[g.storePath.path] = g.manifest() }
        let missing = manifests.keys.filter { !facts.registered.contains($0) }.sorted()
        let bytes = missing.reduce(Int64(0)) { $0 + (manifests[$1]?.size ?? 0) }
        func mib(_ b: Int64) -> String { String(format: "%.1f MiB", Double(b) / 1048576) }
        guard !missing.isEmpty else {
            progress.note("\(target) has all \(manifests.count) store paths of \(generation.toplevel.path)")
            return
        }
        // Room for the paths and their unpacking: refuse early rather than fill the disk.
        if bytes + 16 << 20 > facts.freeBytes {
            throw KilnError("\(target) has \(mib(facts.freeBytes)) free under /nix/store, but the \(missing.count) store paths it lacks take \(mib(bytes)); nothing was sent",
                            hint: "free space with kiln gc --target-host \(target) --delete-older-than 30d (or --keep N)")
        }
        let wanted = Set(missing.map { $0 + "/" })
        let send = nodes.filter { n in
            guard let slash = n.path.dropFirst(nixStoreDirectory.count + 1).firstIndex(of: "/") else {
                return wanted.contains(n.path + "/")
            }
            return wanted.contains(String(n.path[..<slash]) + "/")
        }
        progress.begin("copying \(missing.count) of \(manifests.count) store paths (\(mib(bytes))) to \(target)")
        let started = Date()
        try target.stream(command: "kiln-receive", what: "receiving the store paths") { fd in
            try ClosureStream.write(nodes: send, manifests: missing.compactMap { manifests[$0] }, to: fd) { sent in
                progress.update(Int(sent >> 20), of: Int(bytes >> 20), unit: "MiB")
            }
        }
        let secs = Date().timeIntervalSince(started)
        progress.end("\(missing.count) paths, \(mib(bytes)), \(String(format: "%.1f", secs)) s")
    }

    /// Makes the sent generation `number` what `action` says, on the machine.
    func activate(_ toplevel: String, number: Int, action: Action, trial: Bool) throws {
        let link = #"""
        profiles=/nix/var/kiln/profiles
        set_link() { ln -sfn "$2" "$profiles/.kiln-link-$$" && mv -fT "$profiles/.kiln-link-$$" "$1"; }
        set_link "$profiles/system-\#(number)-link" "\#(toplevel)"

        """#
        let setProfile = #"set_link "$profiles/system" "system-\#(number)-link"; rm -f /nix/var/kiln/trial"# + "\n"
        let script: String
        switch (action, trial) {
        case (.switch, _):
            // Activated first, made the boot default only once that worked: a failed
            // activation leaves the previous generation the default.
            script = link + #"""
            "\#(toplevel)/bin/switch-to-configuration" test
            rc=$?
            if [ $rc -ne 0 ]; then
              echo "kiln: activating generation \#(number) failed (exit status $rc); the boot default is still generation $(readlink "$profiles/system" | tr -dc 0-9)" >&2
              exit $rc
            fi

            """# + setProfile + #""\#(toplevel)/bin/switch-to-configuration" boot"# + "\n"
        case (.boot, false):
            script = link + setProfile + #"exec "\#(toplevel)/bin/switch-to-configuration" boot"# + "\n"
        case (.boot, true):
            script = link + #"""
            ln -sfn "system-\#(number)-link" /nix/var/kiln/.trial-$$ && mv -fT /nix/var/kiln/.trial-$$ /nix/var/kiln/trial
            "\#(toplevel)/bin/install-bootloader" && echo "generation \#(number) boots once, at the next boot; it stays only if that boot reaches multi-user.target with no failed unit"

            """#
        case (.test, _), (.dryActivate, _):
            script = #"exec "\#(toplevel)/bin/switch-to-configuration" \#(action.rawValue)"# + "\n"
        }
        progress.note("\(action.rawValue) generation \(number) on \(target): \(toplevel)")
        try target.run("set -u\n" + script, live: true, what: "\(action.rawValue) generation \(number)")
    }

    /// `--rollback` (the generation before the current one) or `--generation N`.
    public func select(generation wanted: Int?, action: Action) throws {
        let facts = try facts()
        guard let current = facts.current else { throw KilnError("\(target)'s system profile names no generation") }
        let n: Int
        if let wanted {
            guard facts.generations.contains(wanted) else {
                throw KilnError("\(target) has no generation \(wanted); it has \(facts.generations.map(String.init).joined(separator: ", "))")
            }
            n = wanted
        } else {
            guard let before = facts.generations.filter({ $0 < current }).max() else {
                throw KilnError("\(target) has no generation before its current one (\(current)) to roll back to")
            }
            n = before
        }
        let script: String
        switch action {
        case .switch, .boot: script = "exec kiln-set-generation \(n) \(action.rawValue)\n"
        case .test, .dryActivate:
            script = #"exec "$(readlink -f /nix/var/kiln/profiles/system-\#(n)-link)/bin/switch-to-configuration" \#(action.rawValue)"# + "\n"
        }
        progress.note("\(action.rawValue) generation \(n) on \(target) (it was at \(current))")
        try target.run(script, live: true, what: "\(action.rawValue) generation \(n)")
    }

    /// kiln-gc on the machine, with its arguments.
    public func collectGarbage(arguments: [String]) throws {
        try target.run("exec kiln-gc " + Tool.shellQuoted(arguments) + "\n", live: true, what: "collecting garbage")
    }
}
