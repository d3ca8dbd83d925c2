import Foundation
import NixLang
import KilnSupport

/// Evaluation failed: a Nix error (with its file:line:column) or a configuration problem
/// naming the option.
public struct ConfigError: UserFacingError {
    public var message: String
    public var userMessage: String { message }
}

/// Evaluates a profile together with a hardware description and Kiln's built-in modules
/// into a `SystemConfig`.
public struct ProfileEvaluator: Sendable {
    public let profile: String
    public let hardware: String

    public init(profile: String, hardware: String) {
        self.profile = URL(fileURLWithPath: profile).standardizedFileURL.path
        self.hardware = URL(fileURLWithPath: hardware).standardizedFileURL.path
    }

    /// Directory of the built-in `.nix` modules: `$KILN_MODULES_DIR`, the resources copied
    /// beside the executable, or the source tree this binary was built from.
    public static var modulesDirectory: String {
        if let d = ProcessInfo.processInfo.environment["KILN_MODULES_DIR"], !d.isEmpty { return d }
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        let bundled = exe.appendingPathComponent("Kiln_KilnModules.resources/modules").path
        if FileManager.default.fileExists(atPath: bundled + "/eval-modules.nix") { return bundled }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("modules").path
    }

    public func evaluate() throws -> SystemConfig {
        try withEvaluator { ev in try evaluate(ev) }
    }

    /// Runs `body` on a fresh evaluator with a large stack, turning Nix errors into
    /// configuration errors (a syntax error without the evaluation notes around it).
    public func withEvaluator<T>(_ body: @escaping (Evaluator) throws -> T) throws -> T {
        for f in [profile, hardware] where !FileManager.default.fileExists(atPath: f) {
            throw ConfigError(message: "file '\(f)' does not exist")
        }
        return try runWithLargeStack {
            let ev = Evaluator()
            do {
                return try body(ev)
            } catch let e as NixError {
                throw ConfigError(message: Self.render(e))
            }
        }
    }

    /// A Nix error as the user should read it. A syntax error is about the file alone; the
    /// module system's own errors (unknown option, type error, conflict, failed assertion)
    /// already name the option, the files and the values, so where in Kiln's lib they were
    /// thrown, and how evaluation got there, is noise unless KILN_SHOW_TRACE is set.
    static func render(_ e: NixError) -> String {
        if ProcessInfo.processInfo.environment["KILN_SHOW_TRACE"].map({ !$0.isEmpty }) ?? false { return e.description }
        if e.kind == .parse { return NixError(e.kind, e.message, span: e.span).description }
        if e.kind == .thrown, let file = e.span?.file.name, file.hasPrefix(modulesDirectory + "/") {
            return NixError(e.kind, e.message, span: nil).description
                + "\n(set KILN_SHOW_TRACE=1 to see where in the module system it was found)"
        }
        return e.description
    }

    /// The module system's result for this profile: `{ config; options; packageRequests; }`,
    /// unevaluated beyond its outer set, so `kiln eval PROFILE -A config.x` forces only x.
    public func moduleResult(_ ev: Evaluator) throws -> Value {
        let dir = Self.modulesDirectory
        let lib = try ev.evalFile(dir + "/lib.nix")
        let evalModules = try ev.evalFile(dir + "/eval-modules.nix")
        let pkgs = Value.attrs(AttrSet([:], fallback: { name in
            Value.attrs(AttrSet([
                "_type": Thunk(value: .str("package")),
                "pname": Thunk(value: .str(name)),
                "name": Thunk(value: .str(name)),
            ]))
        }))
        let specialArgs = Value.attrs(AttrSet([
            "pkgs": Thunk(value: pkgs),
            "modulesPath": Thunk(value: .path(dir)),
        ]))
        // The shipped option modules (module-list.nix), then the machine, then the user's profile.
        guard case .list(let shipped) = try ev.evalFile(dir + "/module-list.nix") else {
            throw ConfigError(message: "\(dir)/module-list.nix must be a list of module paths")
        }
        let modules = Value.list(shipped + [hardware, profile].map { Thunk(value: .path($0)) })
        return try ev.call(evalModules, .attrs(AttrSet([
            "lib": Thunk(value: lib),
            "modules": Thunk(value: modules),
            "specialArgs": Thunk(value: specialArgs),
        ])))
    }

    /// Every declared option, as `lib.optionsDocList` lists them: name, type,
    /// default, description, declaring files. JSON text, for `kiln options`.
    public func optionsJSON() throws -> String {
        try withEvaluator { ev in
            let lib = try ev.evalFile(Self.modulesDirectory + "/lib.nix")
            guard let toDoc = try ev.attr(lib, "optionsDocList"),
                  let options = try ev.attr(try moduleResult(ev), "options") else {
                throw ConfigError(message: "internal: the module system gives no option list")
            }
            return try ev.toJSON(try ev.call(toDoc, options))
        }
    }

    private func evaluate(_ ev: Evaluator) throws -> SystemConfig {
        let result = try moduleResult(ev)
        guard let config = try ev.attr(result, "config") else { throw ConfigError(message: "internal: module evaluation gave no config") }

        func json(_ path: [String]) throws -> Any? {
            var v = config
            for p in path {
                guard let next = try ev.attr(v, p) else { return nil }
                v = next
            }
            do {
                let text = try ev.toJSON(v)
                return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            } catch let e as NixError {
                throw e.withContext("while evaluating the option '\(path.joined(separator: "."))'")
            }
        }
        func string(_ path: [String], default def: String? = nil) throws -> String {
            let v = try json(path)
            if v == nil, let def { return def }
            guard let s = v as? String else {
                throw ConfigError(message: "the option '\(path.joined(separator: "."))' " + (v == nil ? "is not set" : "must be a string, but is \(v.map { "\($0)" } ?? "null")"))
            }
            return s
        }
        func strings(_ path: [String]) throws -> [String] {
            guard let v = try json(path) else { return [] }
            guard let list = v as? [Any], list.allSatisfy({ $0 is String }) else {
                throw ConfigError(message: "the option '\(path.joined(separator: "."))' must be a list of strings")
            }
            return list.compactMap { $0 as? String }
        }

        let kernel = try json(["boot", "kernelPackage"])
        guard let kernelDict = kernel as? [String: Any], let kernelName = kernelDict["pname"] as? String else {
            throw ConfigError(message: "the option 'boot.kernelPackage' must be a package (e.g. pkgs.linux-image-amd64); set it in the hardware file \(hardware)")
        }
        var users: [UserConfig] = []
        if let u = try json(["users", "users"]) as? [String: Any] {
            for name in u.keys.sorted() {
                guard var attrs = u[name] as? [String: Any] else { continue }
                // Unset options of the users submodule arrive as null or "" (NixOS's defaults);
                // a shell given as a package is the program of that name in the system path.
                attrs = attrs.filter { !($0.value is NSNull) && ($0.value as? String) != "" }
                if let shell = attrs["shell"] as? [String: Any], let pname = shell["pname"] as? String {
                    attrs["shell"] = "/run/current-system/sw/bin/\(pname)"
                }
                let data = try JSONSerialization.data(withJSONObject: attrs.merging(["name": name]) { _, b in b })
                do { users.append(try JSONDecoder().decode(UserConfig.self, from: data)) } catch {
                    throw ConfigError(message: "the option 'users.users.\(name)' has a value of the wrong type: \(error)")
                }
            }
        }
        var groups: [GroupConfig] = []
        if let g = try json(["users", "groups"]) as? [String: Any] {
            for name in g.keys.sorted() {
                let attrs = g[name] as? [String: Any] ?? [:]
                guard attrs["gid"] == nil || attrs["gid"] is NSNull || attrs["gid"] is Int,
                      attrs["members"] == nil || attrs["members"] is [String] else {
                    throw ConfigError(message: "the option 'users.groups.\(name)' has a value of the wrong type (gid: an integer or null; members: a list of user names)")
                }
                groups.append(GroupConfig(name: name, gid: attrs["gid"] as? Int, members: attrs["members"] as? [String]))
            }
        }
        // Which module asked for each package.
        var wants: [PackageWant] = []
        do {
            if let reqs = try ev.attr(result, "packageRequests") {
                let text = try ev.toJSON(reqs)
                if let list = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] {
                    for r in list {
                        if let n = r["name"] as? String, let f = r["file"] as? String {
                            wants.append(PackageWant(name: n, option: "environment.systemPackages", file: f))
                        }
                    }
                }
            }
        } catch let e as NixError {
            throw e.withContext("while evaluating the option 'environment.systemPackages'")
        }
        let platform = try string(["nixpkgs", "hostPlatform"], default: "x86_64-linux")
        guard ["x86_64-linux", "aarch64-linux"].contains(platform) else {
            throw ConfigError(message: "the option 'nixpkgs.hostPlatform' is '\(platform)'; Kiln supports x86_64-linux and aarch64-linux")
        }
        let timeout = try json(["boot", "loader", "timeout"])
        var etc: [EtcFile] = []
        if let entries = try json(["environment", "etc"]) as? [String: Any] {
            for name in entries.keys.sorted() {
                guard let e = entries[name] as? [String: Any] else {
                    throw ConfigError(message: "the option 'environment.etc.\"\(name)\"' must be a set with text or source")
                }
                if (e["enable"] as? Bool) == false { continue }
                let target = (e["target"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? name
                let text = e["text"] as? String, source = e["source"] as? String
                guard (text == nil) != (source == nil) else {
                    throw ConfigError(message: "the option 'environment.etc.\"\(name)\"' needs exactly one of text and source")
                }
                // NixOS's "symlink" (the default) links the file from /etc/static, which is how
                // Kiln's activation installs every file of /etc anyway.
                let modeText = (e["mode"] as? String) ?? "0644"
                guard let mode = modeText == "symlink" ? 0o644 : UInt16(modeText, radix: 8), mode <= 0o7777 else {
                    throw ConfigError(message: "the option 'environment.etc.\"\(name)\".mode' is '\(modeText)', not an octal mode like \"0644\" or \"symlink\"")
                }
                var file = EtcFile(path: target, text: text, source: source, mode: mode)
                if let u = e["user"] as? String, !u.isEmpty { file.user = u }
                if let g = e["group"] as? String, !g.isEmpty { file.group = g }
                etc.append(file)
            }
        }
        let bootLoader = try bootLoaderConfig(json, platform: platform)
        var firmware = try strings(["hardware", "firmware"])
        if firmware.isEmpty { firmware = platform == "x86_64-linux" ? ["bios", "uefi"] : ["uefi"] }
        if let bad = firmware.first(where: { !["bios", "uefi"].contains($0) }) {
            throw ConfigError(message: "the option 'hardware.firmware' lists '\(bad)'; it takes \"bios\" and \"uefi\"")
        }
        if bootLoader.kind == .grub && bootLoader.grubBIOS && !firmware.contains("bios") {
            throw ConfigError(message: "GRUB is set up for BIOS ('boot.loader.grub.device' is not \"nodev\") but the hardware's firmware is \(firmware) ('hardware.firmware' in \(hardware))")
        }
        if bootLoader.uefi && !firmware.contains("uefi") {
            throw ConfigError(message: "the boot loader needs UEFI but the hardware's firmware is \(firmware) ('hardware.firmware' in \(hardware))")
        }
        let fsType = try string(["fileSystems", "/", "fsType"], default: "ext4")
        guard ["ext4", "btrfs"].contains(fsType) else {
            throw ConfigError(message: "the option 'fileSystems.\"/\".fsType' is '\(fsType)'; Kiln writes ext4 and btrfs root filesystems")
        }
        var system = SystemConfig(
            hostName: try string(["networking", "hostName"]),
            hostPlatform: platform,
            kernelPackage: kernelName,
            console: try string(["boot", "console"], default: "ttyS0"),
            // Stage 2 has no /lib/modules: boot.kernelModules are loaded by the initrd too.
            // availableKernelModules too: the initrd has no udev to load them on demand.
            initrdKernelModules: uniqued(try strings(["boot", "initrd", "availableKernelModules"])
                                         + strings(["boot", "initrd", "kernelModules"]) + strings(["boot", "kernelModules"])),
            kernelParams: try strings(["boot", "kernelParams"]),
            bootLoaderTimeout: (timeout as? Int) ?? 1,
            users: users,
            packages: wants,
            etc: etc)
        system.groups = groups
        system.bootLoader = bootLoader
        system.rootFSType = fsType
        system.firmware = firmware
        return system
    }

    /// `boot.loader.grub.{enable,efiSupport,device}` and `boot.loader.systemd-boot.enable`.
    /// GRUB is the default unless systemd-boot is enabled; `device = "nodev"` means no BIOS boot.
    private func bootLoaderConfig(_ json: ([String]) throws -> Any?, platform: String) throws -> BootLoaderConfig {
        func bool(_ path: [String]) throws -> Bool? {
            guard let v = try json(path) else { return nil }
            guard let b = v as? Bool else {
                throw ConfigError(message: "the option '\(path.joined(separator: "."))' must be true or false")
            }
            return b
        }
        let systemdBoot = try bool(["boot", "loader", "systemd-boot", "enable"]) ?? false
        let grub = try bool(["boot", "loader", "grub", "enable"]) ?? !systemdBoot
        if systemdBoot && grub {
            throw ConfigError(message: "both 'boot.loader.systemd-boot.enable' and 'boot.loader.grub.enable' are true; set boot.loader.grub.enable = false")
        }
        if systemdBoot { return BootLoaderConfig(kind: .systemdBoot, grubEFI: false, grubBIOS: false) }
        guard grub else {
            throw ConfigError(message: "no boot loader: enable boot.loader.grub or boot.loader.systemd-boot")
        }
        let efi = try bool(["boot", "loader", "grub", "efiSupport"]) ?? false
        let device = try json(["boot", "loader", "grub", "device"])
        guard device == nil || device is String else {
            throw ConfigError(message: "the option 'boot.loader.grub.device' must be a string (\"nodev\" for no BIOS boot)")
        }
        let bios = (device as? String).map { $0 != "nodev" } ?? true
        if bios && platform != "x86_64-linux" {
            throw ConfigError(message: "'boot.loader.grub.device' is set for BIOS boot, which only x86_64 has; on \(platform) set it to \"nodev\" with boot.loader.grub.efiSupport = true")
        }
        if !bios && !efi {
            throw ConfigError(message: "GRUB is enabled with 'boot.loader.grub.device = \"nodev\"' and no 'boot.loader.grub.efiSupport': nothing could boot it")
        }
        return BootLoaderConfig(kind: .grub, grubEFI: efi, grubBIOS: bios)
    }
}

/// The list without repeats, first occurrence kept.
private func uniqued(_ xs: [String]) -> [String] {
    var seen = Set<String>()
    return xs.filter { seen.insert($0).inserted }
}
