import XCTest
import Foundation
import KilnModules
import KilnPlan
import KilnStore

final class ProfileEvaluatorTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "kiln-modules-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func profile(_ text: String, name: String = "p.nix") throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testMinimalProfile() throws {
        let p = try profile("""
            { pkgs, lib, ... }:
            let extra = [ "quiet" ]; in
            {
              imports = [ ./users.nix ];
              networking.hostName = "minimal";
              environment.systemPackages = with pkgs; [ bash coreutils ];
              boot.kernelParams = extra;
            }
            """)
        _ = try profile("{ ... }: { users.users.root.initialPassword = \"kiln\"; users.users.alice = { isNormalUser = true; }; }", name: "users.nix")
        let c = try ProfileEvaluator(profile: p).plan()
        XCTAssertEqual(c.hostName, "minimal")
        XCTAssertEqual(c.kernel.package, "linux-image-amd64")
        XCTAssertTrue(c.kernel.params.contains("quiet"))
        XCTAssertTrue(c.kernel.params.contains("console=ttyS0,115200"))
        // systemd-network and systemd-resolve: networking.useDHCP is on by default, as in NixOS,
        // through systemd-networkd and systemd-resolved; messagebus: D-Bus runs on every system.
        XCTAssertEqual(c.users.map(\.name), ["alice", "messagebus", "root", "systemd-network", "systemd-resolve"])
        XCTAssertEqual(c.users.first { $0.name == "systemd-network" }?.isSystemUser, true)
        XCTAssertEqual(c.architecture, .x86_64)
        XCTAssertEqual(c.bootLoader, .grub(.bios), "the shipped qemu-x86_64 machine boots GRUB from the MBR")
        XCTAssertEqual(c.rootFilesystem, .ext4)
        XCTAssertEqual(Array(c.kernel.initrdModules.prefix(4)), ["virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "virtio_blk"])
        XCTAssertEqual(c.users.first { $0.name == "root" }?.initialPassword, "kiln")
        XCTAssertTrue(c.packages.contains(PackageWant(name: "coreutils", option: "environment.systemPackages", file: p)))
        XCTAssertTrue(c.packageNames.contains("systemd"), "base module packages")
        XCTAssertTrue(c.packageNames.contains("grep") && c.packageNames.contains("perl"), "core and default packages")
        XCTAssertTrue(c.kernel.modules.contains("nf_tables") && !c.kernel.initrdModules.contains("nf_tables"),
                      "the firewall's modules are loaded by systemd-modules-load, not the initrd")
        XCTAssertTrue(c.kernel.modulesTree?.contains("drivers/virtio") ?? false, "QEMU machines carry a cut module tree")
    }

    func testUnknownOptionAndTypeErrorsNameOptionAndFile() throws {
        let p = try profile("{ ... }: { networking.hostName = \"x\"; services.opensh.enable = true; }", name: "typo.nix")
        XCTAssertThrowsError(try ProfileEvaluator(profile: p).plan()) { e in
            let text = (e as? ConfigError)?.message ?? "\(e)"
            XCTAssertTrue(text.contains("services.opensh"), text)
            XCTAssertTrue(text.contains("does not exist"), text)
            XCTAssertTrue(text.contains("services.openssh"), "did-you-mean: \(text)")
            XCTAssertTrue(text.contains(p), "names the defining file: \(text)")
        }
        let q = try profile("{ ... }: { networking.hostName = 42; }", name: "type.nix")
        XCTAssertThrowsError(try ProfileEvaluator(profile: q).plan()) { e in
            let text = (e as? ConfigError)?.message ?? "\(e)"
            XCTAssertTrue(text.contains("networking.hostName"), text)
            XCTAssertTrue(text.contains("not of type"), text)
            XCTAssertTrue(text.contains("42") && text.contains(q), text)
        }
    }

    func testDefaultsYieldAndConflictsNameFiles() throws {
        let ok = try profile("{ lib, ... }: { networking.hostName = \"mine\"; }")
        XCTAssertEqual(try ProfileEvaluator(profile: ok).plan().hostName, "mine")
        let bad = try profile("{ ... }: { imports = [ { networking.hostName = \"b\"; } ]; networking.hostName = \"a\"; }")
        XCTAssertThrowsError(try ProfileEvaluator(profile: bad).plan()) { e in
            let text = (e as? ConfigError)?.userMessage ?? "\(e)"
            XCTAssertTrue(text.contains("networking.hostName"), text)
        }
    }

    func testSyntaxErrorNamesFileLineColumn() throws {
        let p = try profile("{ pkgs, ... }:\n{\n  networking.hostName = \"x\" ;;\n}\n")
        XCTAssertThrowsError(try ProfileEvaluator(profile: p).plan()) { e in
            let text = (e as? ConfigError)?.userMessage ?? "\(e)"
            XCTAssertTrue(text.contains("p.nix:3:"), text)
            XCTAssertTrue(text.contains("networking.hostName = \"x\" ;;"), text)
        }
    }

    func testUndefinedPackageVariableGivesContext() throws {
        let p = try profile("{ pkgs, ... }: { environment.systemPackages = [ nosuch ]; }")
        XCTAssertThrowsError(try ProfileEvaluator(profile: p).plan()) { e in
            let text = (e as? ConfigError)?.userMessage ?? "\(e)"
            XCTAssertTrue(text.contains("nosuch"), text)
        }
    }

    /// pkgs.write* and a profile's own file used in a string become written objects at the
    /// store paths their strings name; a package used in a string joins the system; only what
    /// the plan's strings reach is gathered; builders that would run code refuse.
    func testWrittenObjectsAndPackagesInStrings() throws {
        try "hello\n".write(toFile: dir + "/motd", atomically: true, encoding: .utf8)
        let p = try profile("""
            { pkgs, ... }:
            let
              unused = pkgs.writeText "unused" "never named";
              note = pkgs.writeText "note.txt" "a note\n";
            in {
              environment.systemPackages = [ (pkgs.writeShellScriptBin "hi" "cat ${note}; ${pkgs.hello}/bin/hello") ];
              environment.etc."motd".source = ./motd;
              environment.etc."farm".source = pkgs.linkFarm "farm" [ { name = "jq"; path = "${pkgs.jq}/bin/jq"; } ];
            }
            """)
        let c = try ProfileEvaluator(profile: p).plan()
        let written = c.writtenObjects ?? []
        XCTAssertEqual(written.map(\.name).sorted(), ["farm", "hi", "motd", "note.txt"])
        for w in written { XCTAssertEqual(GeneratedObject(w).storePath.path, w.path, w.name) }
        let hi = try XCTUnwrap(written.first { $0.name == "hi" })
        XCTAssertEqual(c.systemObjects, [hi.path])
        XCTAssertEqual(hi.entries.map(\.path), ["bin/hi"])
        XCTAssertEqual(hi.entries.first?.executable, true)
        let note = try XCTUnwrap(written.first { $0.name == "note.txt" })
        XCTAssertEqual(hi.entries.first?.content, .text("#!/bin/bash\ncat \(note.path)/note.txt; /run/current-system/sw/bin/hello"))
        let motd = try XCTUnwrap(written.first { $0.name == "motd" })
        XCTAssertEqual(c.etc.first { $0.path == "motd" }?.source, motd.path + "/motd")
        guard case .hostFile(let source, _)? = motd.entries.first?.content else { return XCTFail("motd is not a host file") }
        XCTAssertEqual(source, dir + "/motd")
        XCTAssertEqual(Set(c.packages.filter { $0.file == "a string of the configuration" }.map(\.name)), ["hello", "jq"])

        let q = try profile("{ pkgs, ... }: { environment.etc.x.source = pkgs.runCommand \"x\" { } \"true\"; }", name: "q.nix")
        XCTAssertThrowsError(try ProfileEvaluator(profile: q).plan()) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("pkgs.runCommand: Kiln does not build from source"), m)
            XCTAssertTrue(m.contains("q.nix:1:"), m)
        }
    }

    func testSystemdServicesBecomeUnitFiles() throws {
        let p = try profile("""
            { ... }: {
              systemd.services.hello = {
                description = "Say hello";
                wantedBy = [ "multi-user.target" ];
                after = [ "network.target" ];
                environment.GREETING = "hi";
                script = "echo $GREETING";
                serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
              };
              environment.etc."motd".text = "welcome";
            }
            """)
        let c = try ProfileEvaluator(profile: p).plan()
        let unit = c.etc.first { $0.path == "systemd/system/hello.service" }?.text ?? ""
        XCTAssertTrue(unit.contains("Description=Say hello"), unit)
        XCTAssertTrue(unit.contains("After=network.target"), unit)
        XCTAssertTrue(unit.contains("Environment=\"GREETING=hi\""), unit)
        XCTAssertTrue(unit.contains("ExecStart=/etc/kiln/unit-scripts/hello-start"), unit)
        XCTAssertTrue(unit.contains("RemainAfterExit=true"), unit)
        XCTAssertEqual(c.etc.first { $0.path == "systemd/system/multi-user.target.wants/hello.service" }?.source, "../hello.service")
        XCTAssertEqual(c.etc.first { $0.path == "kiln/unit-scripts/hello-start" }?.mode, 0o755)
        XCTAssertEqual(c.etc.first { $0.path == "motd" }?.text, "welcome")
    }

    func testPlanDecodesTheMachinesAndLoaders() throws {
        let p = try profile("""
            { ... }: {
              boot.loader.grub.enable = false;
              boot.loader.systemd-boot.enable = true;
              fileSystems."/".fsType = "btrfs";
            }
            """)
        let arm = try ProfileEvaluator(profile: p, hardware: Hardware("qemu-aarch64")).plan()
        XCTAssertEqual(arm.architecture, .aarch64)
        XCTAssertEqual(arm.firmware, [.uefi])
        XCTAssertEqual(arm.bootLoader, .systemdBoot)
        XCTAssertEqual(arm.rootFilesystem, .btrfs)
        XCTAssertEqual(arm.kernel.package, "linux-image-arm64")
        XCTAssertEqual(arm.kernel.console, "ttyAMA0")
        let hybrid = try profile("{ ... }: { boot.loader.grub.efiSupport = true; }", name: "hybrid.nix")
        XCTAssertEqual(try ProfileEvaluator(profile: hybrid).plan().bootLoader, .grub(.biosAndUEFI))
    }

    func testLoaderAndFirmwareMismatchesAreAssertionsNamingTheOptions() throws {
        let p = try profile("{ ... }: { boot.loader.grub.device = \"/dev/vda\"; }")
        XCTAssertThrowsError(try ProfileEvaluator(profile: p, hardware: Hardware("qemu-aarch64")).plan()) { e in
            let text = (e as? ConfigError)?.message ?? "\(e)"
            XCTAssertTrue(text.contains("boot.loader.grub.device is set for BIOS boot, which only x86_64 has"), text)
        }
        let q = try profile("{ lib, ... }: { hardware.firmware = lib.mkForce [ \"uefi\" ]; }", name: "uefi-only.nix")
        XCTAssertThrowsError(try ProfileEvaluator(profile: q).plan()) { e in
            let text = (e as? ConfigError)?.message ?? "\(e)"
            XCTAssertTrue(text.contains("GRUB is set up for BIOS") && text.contains("hardware.firmware"), text)
            XCTAssertTrue(text.contains(q), "names the file that set hardware.firmware: \(text)")
        }
        let r = try profile("{ ... }: { fileSystems.\"/\".fsType = \"xfs\"; }", name: "xfs.nix")
        XCTAssertThrowsError(try ProfileEvaluator(profile: r).plan()) { e in
            XCTAssertTrue(((e as? ConfigError)?.message ?? "\(e)").contains("Kiln writes ext4 and btrfs root filesystems"))
        }
    }

    func testShippedFilesNeedNoCheckout() throws {
        XCTAssertEqual(Embedded.hardwareNames, ["amazon", "azure", "google", "openstack", "qemu-aarch64", "qemu-x86_64"])
        let io = KilnEvalIO()
        XCTAssertTrue(io.isDirectory(Embedded.modulesDirectory))
        XCTAssertTrue(try io.readFile(Embedded.modulesDirectory + "/module-list.nix").contains("./system/plan.nix"))
        XCTAssertTrue(try io.listDirectory(Embedded.root).contains("hardware"))
        XCTAssertThrowsError(try io.readFile(Embedded.modulesDirectory + "/nope.nix"))
        XCTAssertThrowsError(try Hardware("qemu-riscv")) { e in
            XCTAssertTrue("\(e)".contains("qemu-aarch64, qemu-x86_64"), "\(e)")
        }
        XCTAssertThrowsError(try Hardware(dir + "/missing.nix"))
        XCTAssertEqual(try Hardware(nil), .shipped("qemu-x86_64"))
    }

    // MARK: Errors a user can act on

    private func message(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try ProfileEvaluator(profile: path).plan()
            XCTFail("expected an error", file: file, line: line)
        } catch {
            return (error as? ConfigError)?.message ?? "\(error)"
        }
        return ""
    }

    func testAMissingImportNamesTheModuleThatListsIt() throws {
        _ = try profile("{ ... }: { }", name: "ok.nix")
        let p = try profile("{ pkgs, ... }:\n{\n  imports = [ ./ok.nix ./missing.nix ];\n}\n")
        let text = message(p)
        XCTAssertTrue(text.hasPrefix("error: The file `\(dir)/missing.nix' does not exist; it is entry 2 of the imports of `\(p)', at \(p):3:3."), text)
        XCTAssertFalse(text.contains("/__kiln__"), text)

        // Found but not loadable: the reason, then the entry that names it.
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        let q = try profile("{ ... }: { imports = [ ./sub ]; }", name: "q.nix")
        let dirText = message(q)
        XCTAssertTrue(dirText.hasPrefix("error: cannot import '\(dir)/sub': it is a directory, and it has no default.nix"), dirText)
        XCTAssertTrue(dirText.contains("while importing `\(dir)/sub' (entry 1 of the imports of `\(q)', at \(q):1:12)"), dirText)
        XCTAssertFalse(dirText.contains("/__kiln__"), dirText)
    }

    func testAnEvaluationErrorShowsTheUsersPartOfTheTrace() throws {
        let p = try profile("{ pkgs, ... }: { environment.variables.FOO = 1 + \"a\"; }")
        let text = message(p)
        XCTAssertTrue(text.hasPrefix("error: cannot add a string to an integer\n\n       at \(p):1:48:"), text)
        XCTAssertTrue(text.contains("while evaluating the option `environment.variables'"), text)
        XCTAssertFalse(text.contains("/__kiln__"), text)
        XCTAssertTrue(text.hasSuffix("\n(set KILN_SHOW_TRACE=1 to see the full trace)"), text)
        XCTAssertLessThan(text.split(separator: "\n").count, 20, text)

        setenv("KILN_SHOW_TRACE", "1", 1)
        defer { unsetenv("KILN_SHOW_TRACE") }
        let full = message(p)
        XCTAssertTrue(full.contains("at /__kiln__/modules/lib/modules.nix:"), "the full trace on request")
        XCTAssertFalse(full.contains("KILN_SHOW_TRACE"), full)
    }

    func testALargeEnvironmentVariableIsWritten() throws {
        // A 10 MB value was once "too complex to match" (lib.escapeShellArg's pattern).
        let p = try profile("""
            { ... }: { environment.variables.BIG = builtins.concatStringsSep "" (builtins.genList (_: "aaaaaaaaaa") 1000000); }
            """)
        let plan = try ProfileEvaluator(profile: p).plan()
        let env = plan.etc.first { $0.path == "profile.d/kiln-env.sh" }?.text ?? ""
        XCTAssertTrue(env.contains("export BIG=\"aaaaaaaaaa"), String(env.prefix(200)))
        XCTAssertGreaterThan(env.utf8.count, 10_000_000)
    }
}
