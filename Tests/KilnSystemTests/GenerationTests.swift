import Foundation
import XCTest
import KilnPlan
import KilnStore
import KilnPrimitives
@testable import KilnSystem

/// Store objects made on the spot: a folder of files and a manifest saying what they are.
final class FakeStore {
    let dir: String
    init() throws {
        dir = NSTemporaryDirectory() + "kiln-system-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// A package whose files are `files` (relative path → content); parent folders are added.
    func package(_ name: String, _ files: [String: String], symlinks: [String: String] = [:], setuid: Set<String> = []) throws -> StoreObject {
        let host = dir + "/" + name
        var entries: [ManifestEntry] = [ManifestEntry(path: "", kind: .directory, mode: 0o755)]
        var dirs = Set<String>()
        for rel in Array(files.keys) + Array(symlinks.keys) {
            var parts = rel.split(separator: "/").dropLast()
            while !parts.isEmpty { dirs.insert(parts.joined(separator: "/")); parts = parts.dropLast() }
        }
        for d in dirs.sorted() {
            try FileManager.default.createDirectory(atPath: host + "/" + d, withIntermediateDirectories: true)
            entries.append(ManifestEntry(path: d, kind: .directory, mode: 0o755))
        }
        for (rel, text) in files.sorted(by: { $0.key < $1.key }) {
            try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            XCTAssertTrue(FileManager.default.createFile(atPath: host + "/" + rel, contents: Data(text.utf8)))
            entries.append(ManifestEntry(path: rel, kind: .file, mode: setuid.contains(rel) ? 0o4755 : 0o644,
                                         size: Int64(text.utf8.count), sha256: Hex.encode(Digest.sha256(text))))
        }
        for (rel, target) in symlinks.sorted(by: { $0.key < $1.key }) {
            entries.append(ManifestEntry(path: rel, kind: .symlink, mode: 0o777, target: target))
        }
        let sp = StorePath(type: "kiln-test", contentHash: Array(name.utf8) + [UInt8](repeating: 0, count: 32), name: name)
        return StoreObject(storePath: sp, hostPath: host, manifest: Manifest(storePath: sp.path, references: [], entries: entries))
    }
}

func user(_ name: String, uid: Int? = nil, normal: Bool = false, system: Bool = false, group: String? = nil,
          extraGroups: [String] = [], password: String? = nil) -> User {
    User(name: name, uid: uid, group: group ?? (normal ? "users" : name == "root" ? "root" : "nogroup"),
         home: normal ? "/home/\(name)" : name == "root" ? "/root" : "/var/empty",
         shell: normal || name == "root" ? "/bin/bash" : "/usr/sbin/nologin", isNormalUser: normal, isSystemUser: system,
         createHome: normal, extraGroups: extraGroups, initialPassword: password)
}

final class AccountsTests: XCTestCase {
    func testIdsAreAllocatedAsNixOSDoes() throws {
        let a = try Accounts(users: [user("alice", normal: true, extraGroups: ["wheel"], password: "pw"), user("root", uid: 0),
                                     user("svc", system: true), user("bob", normal: true)],
                             groups: [Group(name: "wheel", gid: 11, members: ["bob"]), Group(name: "svcgroup")],
                             seed: Array("seed".utf8))
        XCTAssertEqual(a.uids["alice"], 1000)
        XCTAssertEqual(a.uids["bob"], 1001)
        XCTAssertEqual(a.uids["svc"], 999)
        XCTAssertEqual(a.gids["svcgroup"], 999)
        XCTAssertTrue(a.passwd.contains("alice:x:1000:100::/home/alice:/bin/bash\n"), a.passwd)
        XCTAssertTrue(a.passwd.hasPrefix("root:x:0:0:"), "sorted by uid: \(a.passwd)")
        XCTAssertTrue(a.group.contains("wheel:x:11:bob,alice\n"), a.group)
        let alice = try XCTUnwrap(a.shadow.split(separator: "\n").first { $0.hasPrefix("alice:") })
        XCTAssertTrue(alice.hasPrefix("alice:$6$"), "a hash, never the password: \(alice)")
        XCTAssertFalse(a.shadow.contains(":pw:"))
        XCTAssertTrue(a.shadow.contains("svc:!:"), "no password: locked")
        XCTAssertEqual(try Accounts(users: [user("alice", normal: true, password: "pw")], seed: Array("seed".utf8)).shadow,
                       try Accounts(users: [user("alice", normal: true, password: "pw")], seed: Array("seed".utf8)).shadow,
                       "the salt comes from the seed")
        XCTAssertEqual(try a.id("+42", in: a.uids, option: "x"), 42)
        XCTAssertEqual(try a.id("alice", in: a.uids, option: "x"), 1000)
        XCTAssertThrowsError(try a.id("nobody-here", in: a.uids, option: "environment.etc.\"x\".user")) { e in
            XCTAssertTrue("\(e)".contains("environment.etc.\"x\".user"), "\(e)")
        }
    }

    func testConflictingGroupIdsAreErrors() {
        XCTAssertThrowsError(try Accounts(users: [], groups: [Group(name: "a", gid: 500), Group(name: "b", gid: 500)], seed: [1])) { e in
            XCTAssertTrue("\(e)".contains("users.groups.b.gid is 500"), "\(e)")
        }
        XCTAssertThrowsError(try Accounts(users: [], groups: [Group(name: "audio", gid: 5)], seed: [1])) { e in
            XCTAssertTrue("\(e)".contains("Debian base group with gid 29"), "\(e)")
        }
        XCTAssertThrowsError(try Accounts(users: [user("x", system: true, group: "missing")], seed: [1]))
    }
}

final class GenerationTests: XCTestCase {
    var store: FakeStore!
    override func setUpWithError() throws { store = try FakeStore() }
    override func tearDown() { store = nil }

    let identity = ImageIdentity(seed: "test", hostName: "h", sourceDateEpoch: "1")

    func plan(_ fs: RootFilesystem = .ext4, users: [User] = [user("root", uid: 0)], etc: [EtcFile] = []) -> SystemPlan {
        SystemPlan(hostName: "h", architecture: .x86_64, firmware: [.bios], bootLoader: .grub(.bios), rootFilesystem: fs,
                   kernel: Kernel(package: "linux-image-test", params: ["quiet"], initrdModules: ["virtio_blk"], console: "ttyS0"),
                   users: users, etc: etc)
    }

    func kernel() throws -> StoreObject {
        let m = "lib/modules/6.1.0-test/kernel/"
        return try store.package("linux-image-test", [
            "boot/vmlinuz-6.1.0-test": "KERNEL",
            m + "drivers/block/virtio_blk.ko": "ko", m + "lib/crc16.ko": "ko", m + "fs/ext4/ext4.ko": "ko",
            m + "crypto/crc32c_generic.ko": "ko", m + "fs/btrfs/btrfs.ko": "ko",
            "lib/modules/6.1.0-test/modules.builtin": "",
        ])
    }

    func packages() throws -> [String: StoreObject] {
        [
            "bash": try store.package("bash", ["bin/bash": "#!bash", "etc/bash.bashrc": "rc"]),
            "systemd": try store.package("systemd", ["lib/systemd/systemd": "pid1", "usr/bin/systemctl": "ctl"]),
            "coreutils": try store.package("coreutils", ["usr/bin/ls": "ls", "usr/bin/systemctl": "other"],
                                           symlinks: ["usr/bin/dir": "ls"]),
            "state": try store.package("state", ["var/lib/x": "state", "usr/share/doc/x": "doc"]),
        ]
    }

    func builder(_ p: SystemPlan) throws -> GenerationBuilder {
        GenerationBuilder(plan: p, identity: identity, packages: try packages(), kernelPackage: try kernel(),
                          busybox: try store.package("busybox-static", ["bin/busybox": "BB"]))
    }

    func testSystemPathMergesUsrAndFirstPackageWins() throws {
        let sw = SystemPath.make(try packages().values.sorted { $0.storePath.name < $1.storePath.name })
        guard case .symlink(let ls)? = sw.entries["bin/ls"]?.kind else { return XCTFail("no bin/ls") }
        XCTAssertTrue(ls.hasSuffix("-coreutils/usr/bin/ls"), ls)
        guard case .symlink(let ctl)? = sw.entries["bin/systemctl"]?.kind else { return XCTFail("no bin/systemctl") }
        XCTAssertTrue(ctl.hasSuffix("-coreutils/usr/bin/systemctl"), "coreutils sorts before systemd: \(ctl)")
        XCTAssertNil(sw.entries["var/lib/x"], "state is not part of the system path")
        XCTAssertNotNil(sw.entries["share/doc/x"])
        XCTAssertNil(sw.entries["etc/bash.bashrc"], "/etc has its own tree")
        // systemd-sysv's commands, which the resolver leaves out: systemctl under their names.
        for name in ["reboot", "poweroff", "halt", "shutdown"] {
            guard case .symlink(let t)? = sw.entries["sbin/" + name]?.kind else { return XCTFail("no sbin/\(name)") }
            XCTAssertEqual(t, ctl)
            // and in bin/, where NixOS keeps every command
            guard case .symlink(let b)? = sw.entries["bin/" + name]?.kind else { return XCTFail("no bin/\(name)") }
            XCTAssertEqual(b, ctl)
        }
    }

    func testRelativeLinksResolveInsideTheirPackageOrFromTheRoot() {
        XCTAssertEqual(SystemPath.resolve("python3.11", from: "usr/bin/python3"), "usr/bin/python3.11")
        XCTAssertEqual(SystemPath.resolve("../lib/x/./y", from: "usr/bin/z"), "usr/lib/x/y")
        XCTAssertNil(SystemPath.resolve("../../../x", from: "usr/bin/z"), "a link that climbs out of its package")
    }

    func testGCCDriversAndQEMUEmulatorsAreTheOnesCopiedIntoTheSystemPath() {
        for driver in ["usr/bin/x86_64-linux-gnu-gcc-12", "usr/bin/aarch64-linux-gnu-g++-12", "usr/bin/x86_64-linux-gnu-cpp-12",
                       "usr/bin/gcc-12", "usr/bin/lto-dump-12", "usr/bin/x86_64-linux-gnu-gcc-ar-12", "usr/bin/gfortran",
                       "usr/bin/qemu-system-x86_64", "usr/bin/qemu-system-aarch64", "usr/libexec/qemu-system-i386"] {
            XCTAssertTrue(SystemPath.findsItsFilesBesideItsRealPath(driver), driver)
        }
        for other in ["usr/bin/gcc-12x", "usr/lib/gcc/x86_64-linux-gnu/12/cc1", "usr/bin/clang-14", "usr/bin/x86_64-linux-gnu-ld",
                      "usr/bin/gcc-", "bin/gcc", "usr/bin/qemu-img", "usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so"] {
            XCTAssertFalse(SystemPath.findsItsFilesBesideItsRealPath(other), other)
        }
    }

    func testHashedPasswordFileIsReadAtActivation() {
        var bob = user("bob", normal: true)
        bob.hashedPasswordFile = "/run/secrets/bob's hash"
        let script = StageScripts.activate(bash: "/bin/bash", etc: GeneratedObject(name: "etc"), users: [bob])
        XCTAssertTrue(script.contains("set_hash_from bob '/run/secrets/bob'\\''s hash'\n"), script)
    }

    func testEmptyHostNameLeavesHostnameToTheMachine() throws {
        var p = plan(.ext4, users: [user("root", uid: 0)])
        p.hostName = ""
        let etc = try EtcTree.make(plan: p, identity: identity, packages: [])
        XCTAssertNil(etc.entries["hostname"], "cloud-init writes /etc/hostname")
        guard case .data(let hosts)? = etc.entries["hosts"]?.kind else { return XCTFail("no hosts") }
        XCTAssertFalse(String(decoding: hosts, as: UTF8.self).contains("127.0.1.1"))
    }

    func testEtcHasTheBasePolicyTheRootLineAndOwners() throws {
        let p = plan(.btrfs, users: [user("root", uid: 0), user("alice", normal: true)],
                     etc: [EtcFile(path: "fstab", text: "/dev/vdb /data ext4 defaults 0 2\n"),
                           EtcFile(path: "secret", text: "s", mode: 0o600, user: "alice", group: "users"),
                           EtcFile(path: "zoneinfo", source: "/usr/share/zoneinfo/UTC")])
        let etc = try EtcTree.make(plan: p, identity: identity, packages: try packages().values.sorted { $0.storePath.name < $1.storePath.name })
        guard case .data(let fstab)? = etc.entries["fstab"]?.kind else { return XCTFail("no fstab") }
        XCTAssertEqual(String(decoding: fstab, as: UTF8.self),
                       "UUID=\(identity.rootUUID) / btrfs rw,relatime 0 0\n/dev/vdb /data ext4 defaults 0 2\n")
        let secret = try XCTUnwrap(etc.entries["secret"])
        XCTAssertEqual([secret.mode, UInt16(secret.uid), UInt16(secret.gid)], [0o600, 1000, 100])
        XCTAssertEqual(etc.entries["zoneinfo"]?.kind, .symlink(target: "/usr/share/zoneinfo/UTC"))
        XCTAssertEqual(etc.entries["shadow"]?.mode, 0o640)
        XCTAssertEqual(etc.entries["shadow"]?.gid, 42)
        guard case .symlink(let rc)? = etc.entries["bash.bashrc"]?.kind else { return XCTFail("packages' /etc files are linked") }
        XCTAssertTrue(rc.hasSuffix("-bash/etc/bash.bashrc"))
        XCTAssertEqual(etc.entries["systemd/system/systemd-firstboot.service"]?.kind, .symlink(target: "/dev/null"))
        let (dirs, links) = EtcTree.layout(etc)
        XCTAssertTrue(dirs.contains("systemd/system"))
        XCTAssertFalse(links.contains("passwd"), "account files are copied, not linked")
    }

    func testInitrdLoadsModulesDependenciesFirstAndMountsTheRoot() throws {
        let kmods = try KernelModules(kernel: try kernel())
        let (obj, bytes) = try Initrd.make(plan: plan(.btrfs), kernelModules: kmods,
                                           busybox: try store.package("busybox-static", ["bin/busybox": "BB"]), timestamp: 1)
        XCTAssertEqual(Array(bytes.prefix(6)), Array("070701".utf8), "cpio newc")
        XCTAssertEqual(obj.name, "initrd-linux-6.1.0-test")
        let script = Initrd.stage1Init(modules: ["virtio_blk", "btrfs"], rootFilesystem: .btrfs)
        XCTAssertTrue(script.contains("insmod /lib/modules/virtio_blk.ko"))
        XCTAssertTrue(script.contains("mount -t btrfs -o rw \"$dev\" /mnt-root"))
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.contains("lib/modules/crc32c_generic.ko"), "the filesystem's soft dependency is loaded")
        XCTAssertFalse(text.contains("lib/modules/ext4.ko"), "a btrfs root needs no ext4")
        XCTAssertThrowsError(try kmods.closure(["no_such_module"], listedIn: "boot.kernelModules")) { e in
            XCTAssertTrue("\(e)".contains("no_such_module"), "\(e)")
            XCTAssertTrue("\(e)".contains("(listed in boot.kernelModules)"), "\(e)")
        }
    }

    func testGenerationIsReproducibleAndBootable() throws {
        let a = try builder(plan()).build(), b = try builder(plan()).build()
        XCTAssertEqual(a.toplevel, b.toplevel, "same inputs, same toplevel")
        XCTAssertTrue(a.toplevel.name.hasSuffix("kiln-system-h"))
        XCTAssertEqual(a.bootspec.generation, 1)
        XCTAssertTrue(a.bootspec.commandLine.hasPrefix("init=\(a.toplevel.path)/init root=UUID=\(identity.rootUUID) rw quiet"),
                      a.bootspec.commandLine)
        XCTAssertTrue(a.bootspec.kernelSource.hasSuffix("boot/vmlinuz-6.1.0-test"))
        XCTAssertEqual(a.closure, a.closure.sorted())
        var renamed = plan()
        renamed.hostName = "other"
        XCTAssertNotEqual(try builder(renamed).build().toplevel, a.toplevel)

        let nodes = ImageRoot.nodes(a)
        XCTAssertEqual(nodes.map(\.path), nodes.map(\.path).sorted())
        XCTAssertEqual(Set(nodes.map(\.path)).count, nodes.count, "no path twice")
        let byPath = Dictionary(nodes.map { ($0.path, $0) }, uniquingKeysWith: { x, _ in x })
        XCTAssertEqual(byPath["/nix/var/kiln/profiles/system-1-link"]?.kind, .symlink(target: a.toplevel.path))
        XCTAssertEqual(byPath["/etc/static"]?.kind, .symlink(target: a.toplevel.path + "/etc"))
        XCTAssertEqual(byPath["/etc/hostname"]?.kind, .symlink(target: "/etc/static/hostname"))
        XCTAssertEqual(byPath["/tmp"]?.mode, 0o1777)
        XCTAssertEqual(byPath[a.toplevel.path + "/init"]?.mode, 0o755)
        // Empty, not missing: systemd makes a new ID without treating the boot as a first boot.
        XCTAssertEqual(byPath["/etc/machine-id"]?.kind, .data([]))
        XCTAssertEqual(byPath["/etc/machine-id"]?.mode, 0o444)
    }

    func testAGenerationCarriesItsSwitchToolsAndVariants() throws {
        var variant = try builder(plan()).build()
        variant.bootspec.specialisation = "debug"
        var b = try builder(plan())
        b.number = 2
        b.variants = ["debug": variant]
        b.installBootloader = { bash in "#!\(bash)\necho install\n" }
        let g = try b.build()
        let top = try XCTUnwrap(g.generated.last)
        XCTAssertEqual(top.storePath, g.toplevel)
        XCTAssertTrue(top.has("bin/switch-to-configuration"), "switch-to-configuration is in every generation")
        XCTAssertTrue(top.has("bin/install-bootloader"))
        XCTAssertEqual(top.entries["specialisation/debug"]?.kind, .symlink(target: variant.toplevel.path))
        XCTAssertEqual(g.bootspec.generation, 2)
        XCTAssertEqual(g.bootspecs.count, 2, "the variant gets its own boot entry")
        let sw = try XCTUnwrap(g.generated.first { $0.name == "system-path" })
        for tool in ["kiln-receive", "kiln-gc", "kiln-generations", "kiln-set-generation"] {
            XCTAssertTrue(sw.has("bin/" + tool), "\(tool) is on the machine's PATH")
        }
        XCTAssertTrue(g.closure.contains(variant.toplevel), "the variant is part of the closure")
        let script = SwitchScript.text(bash: "/b/bash")
        for mode in ["switch|boot|test|dry-activate", "X-RestartIfChanged", "X-ReloadIfChanged", "X-StopIfChanged", "daemon-reload", "exit 4"] {
            XCTAssertTrue(script.contains(mode), mode)
        }
    }

    func testAccountsKeepTheIdsTheMachineGaveThem() throws {
        // On the machine, bob got 1000 and alice 1001; the new generation declares alice first.
        let previous = PreviousAccounts(passwd: "root:x:0:0::/root:/bin/bash\nbob:x:1000:100::/home/bob:/bin/bash\nalice:x:1001:100::/home/alice:/bin/bash\n",
                                        group: "root:x:0:\n")
        let a = try Accounts(users: [user("root", uid: 0), user("alice", normal: true), user("carol", normal: true)], seed: [1], previous: previous)
        XCTAssertTrue(a.passwd.contains("alice:x:1001:"), a.passwd)
        XCTAssertFalse(a.passwd.contains(":1000:"), "bob's uid is not given to anyone else: \(a.passwd)")
        XCTAssertTrue(a.passwd.contains("carol:x:1002:"), a.passwd)
    }

    func testActivationMakesHomesAndLinksEtc() throws {
        let g = try builder(plan(users: [user("root", uid: 0), user("alice", normal: true)])).build()
        let script = StageScripts.activate(bash: "/bin/bash", etc: g.etc, users: [user("root", uid: 0), user("alice", normal: true)])
        XCTAssertTrue(script.contains("mkdir -p '/home/alice'; chown 'alice:' '/home/alice'"), script)
        XCTAssertFalse(script.contains("'/root'; chown"), "root's home is made by the skeleton, not created per user")
        XCTAssertTrue(script.contains("ln -sfn '/etc/static/hostname' '/etc/hostname'"))
        XCTAssertTrue(StageScripts.stage2Init(bash: "/b/bash", systemd: "/s/systemd").contains("exec /s/systemd \"$@\""))
    }

    func testAKernelPackageWithoutAKernelIsNamed() throws {
        let b = GenerationBuilder(plan: plan(), identity: identity, packages: try packages(),
                                  kernelPackage: try store.package("linux-image-empty", ["lib/modules/6.1.0/x.ko": ""]),
                                  busybox: try store.package("busybox-static", ["bin/busybox": "BB"]))
        XCTAssertThrowsError(try b.build()) { e in XCTAssertTrue("\(e)".contains("has no boot/vmlinuz-*"), "\(e)") }
    }

    func testTheModuleTreeIsTheMachinesPartWithDepmodIndexes() throws {
        let k = try kernel()
        let kmods = try KernelModules(kernel: k)
        XCTAssertEqual(kmods.matching(["drivers/block"]), ["virtio_blk"])
        XCTAssertEqual(kmods.matching(["fs/ext4/ext4.ko", "crc16"]), ["crc16", "ext4"])
        XCTAssertEqual(kmods.matching(["fs"]), ["btrfs", "ext4"])
        XCTAssertEqual(kmods.matching(["drivers/bloc"]), [], "a folder name matches whole, not as a prefix")
        let tree = try ModulesTree.make(kernel: k, modules: kmods, patterns: ["drivers"], required: ["btrfs"],
                                        workDirectory: store.dir)
        let kos = tree.entries.keys.filter { $0.hasSuffix(".ko") }.sorted()
        XCTAssertEqual(kos, ["lib/modules/6.1.0-test/kernel/drivers/block/virtio_blk.ko", "lib/modules/6.1.0-test/kernel/fs/btrfs/btrfs.ko"])
        XCTAssertNotNil(tree.entries["lib/modules/6.1.0-test/modules.dep"], "depmod's index is in the tree")
        XCTAssertNotNil(tree.entries["lib/modules/6.1.0-test/modules.alias.bin"])
        let whole = try ModulesTree.make(kernel: k, modules: kmods, patterns: nil, required: [], workDirectory: store.dir)
        XCTAssertEqual(whole.entries.keys.filter { $0.hasSuffix(".ko") }.count, 5)
        XCTAssertEqual(try ModulesTree.make(kernel: k, modules: kmods, patterns: ["drivers"], required: ["btrfs"],
                                            workDirectory: store.dir).storePath, tree.storePath, "reproducible")
        let g = try builder(plan()).build()
        let sw = try XCTUnwrap(g.generated.first { $0.name == "system-path" })
        XCTAssertEqual(sw.entries["lib/modules"]?.kind, .symlink(target: "/run/booted-system/kernel-modules/lib/modules"))
    }

    func testADamagedStoreFileIsRefusedWhereItsBytesAreRead() throws {
        let bb = try store.package("busybox-static", ["bin/busybox": "BB"])
        XCTAssertTrue(FileManager.default.createFile(atPath: bb.hostFile("bin/busybox"), contents: Data("XX".utf8)))
        XCTAssertThrowsError(try Initrd.make(plan: plan(), kernelModules: try KernelModules(kernel: try kernel()), busybox: bb,
                                             timestamp: 1)) { e in
            guard let c = e as? StoreCorruption else { return XCTFail("\(e)") }
            XCTAssertEqual(c.file, "bin/busybox")
            XCTAssertTrue(c.userMessage.contains(bb.storePath.path + "/bin/busybox"), c.userMessage)
        }
    }
}
