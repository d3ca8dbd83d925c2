// swift-tools-version:6.1
import PackageDescription

/// The kiln executable carries the Swift runtime and Foundation statically: resolving their
/// symbols at every start (~15M instructions) was a third of `kiln eval -E 1` and 10% of a
/// module-system evaluation; nix-instantiate-style use starts kiln once per expression.
/// Only the link changes (test targets, which need the dynamic XCTest, are untouched); the
/// libraries are the ones the Foundation archive needs that its objects do not autolink.
let staticSwiftRuntime = ["-static-stdlib"] + [
    "FoundationInternationalization", "FoundationEssentials", "CoreFoundation", "_FoundationICU",
    "_FoundationCShims", "_FoundationCollections", "swiftSynchronization", "swift_StringProcessing",
    "swift_RegexParser", "swift_Concurrency", "swiftDispatch", "swiftGlibc", "swift_Builtin_float",
].map { "-l" + $0 }

let package = Package(
    name: "Kiln",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "kiln", targets: ["kiln"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C libraries, each behind a small shim header. Only the Kiln target that owns
        // the format imports them.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CExt2fs", pkgConfig: "ext2fs", providers: [.apt(["libext2fs-dev"])]),
        .systemLibrary(name: "CCrypt", pkgConfig: "libxcrypt", providers: [.apt(["libcrypt-dev"])]),
        .systemLibrary(name: "CParted", pkgConfig: "libparted", providers: [.apt(["libparted-dev"])]),
        .systemLibrary(name: "CSquashfs", pkgConfig: "libsquashfs1", providers: [.apt(["libsquashfs-dev"])]),
        .systemLibrary(name: "CIsoburn", pkgConfig: "libisoburn-1", providers: [.apt(["libisoburn-dev"])]),
        // Only <guestfs.h>: the library itself is loaded on first use by CGuestfsLoader.
        .systemLibrary(name: "CGuestfs", providers: [.apt(["libguestfs-dev"])]),
        .target(name: "CGuestfsLoader"),
        // mimalloc replaces malloc/free in the kiln executable (ELF interposition): the
        // evaluator allocates and frees millions of small thunks, frames and sets, and
        // mimalloc's paths are a fraction of glibc's (11-16% fewer instructions in all).
        .systemLibrary(name: "CMimalloc", providers: [.apt(["libmimalloc-dev"])]),
        // Thread-local variables for NixLang (Swift has none): see Thunk.deinit.
        .target(name: "CNixLangSupport"),

        // Formats every layer shares, in one place: hex, Nix's base-32, store path hashing,
        // SHA-256/HMAC (swift-crypto), seeded UUIDs and their text form.
        .target(name: "KilnPrimitives", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),

        // Shared plumbing: errors rendered in one place, running external tools, progress.
        .target(name: "KilnSupport"),
        // The plan between evaluation and writing: SystemPlan and the enums every stage
        // switches over (Architecture, Firmware, BootLoader, RootFilesystem, OutputFormat).
        .target(name: "KilnPlan", dependencies: ["KilnSupport"]),

        // The Nix language: parser and lazy evaluator. Depends on no other Kiln target but the
        // primitives (store path hashing, base-32) and its own thread-locals in
        // CNixLangSupport; swift-crypto for builtins.hashString.
        // Runtime exclusivity checks cost ~10% of evaluation time (swift_beginAccess on every
        // thunk/env access); the evaluator is single-threaded and has no overlapping accesses.
        // Without lexical lifetimes the optimizer may release a reference after its last use
        // instead of at the end of its scope: ~4% fewer retains/releases. Nothing here relies
        // on deinit timing (no weak references; Unmanaged walks only borrowed parameters).
        // -assume-single-threaded makes NixLang's own retains and releases non-atomic (no lock
        // prefix): an evaluator and its values are only ever used by one thread at a time
        // (runWithLargeStack runs an evaluation on a thread it joins), and no Kiln target shares
        // them between threads. fib 25: 56 ms -> 50 ms.
        .target(name: "NixLang", dependencies: ["CNixLangSupport", "KilnPrimitives", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked", "-Xfrontend", "-enable-lexical-lifetimes=false", "-Xfrontend", "-assume-single-threaded"])]),
        // Profile + machine + shipped modules -> SystemPlan. The modules and machine
        // descriptions are embedded in the executable (embed.txt, Plugins/EmbedFiles).
        .target(name: "KilnModules", dependencies: ["NixLang", "KilnPlan", "KilnStore", "KilnPrimitives", "KilnSupport"], exclude: ["modules", "embed.txt"],
                plugins: ["EmbedFiles"]),
        // APT indexes -> resolved, locked closure; .deb fetching.
        .target(name: "KilnPackages", dependencies: ["KilnSupport", "KilnPrimitives", .product(name: "Crypto", package: "swift-crypto")]),
        // Store paths, .deb unpacking, manifests, file trees of store objects.
        .target(name: "KilnStore", dependencies: ["KilnPlan", "KilnSupport", "KilnPrimitives", "KilnPackages", "CArchive",
                                                  .product(name: "Crypto", package: "swift-crypto")]),
        // A generation from a plan and store objects: accounts, /etc, initrd, stage scripts, sw, toplevel.
        .target(name: "KilnSystem", dependencies: ["KilnPlan", "KilnStore", "KilnSupport", "KilnPrimitives", "CCrypt",
                                                   .product(name: "Crypto", package: "swift-crypto")]),
        // Filesystems, partition table, ESP, output formats.
        .target(name: "KilnImage", dependencies: ["KilnPlan", "KilnStore", "KilnSupport", "KilnPrimitives", "CExt2fs", "CParted", "CSquashfs", "CIsoburn",
                                                  .product(name: "Crypto", package: "swift-crypto")]),
        // Boot loaders, one file each behind one protocol, fed the generations' bootspecs.
        .target(name: "KilnBoot", dependencies: ["KilnPlan", "KilnStore", "KilnSystem", "KilnImage", "KilnSupport", "KilnPrimitives"]),
        // The stages in order, for the CLI and the tests.
        .target(name: "KilnBuild", dependencies: ["KilnSupport", "KilnPlan", "KilnPrimitives", "KilnModules", "KilnPackages", "KilnStore", "KilnSystem",
                                                  "KilnImage", "KilnBoot"]),
        // Generations on running machines over SSH: kiln switch, kiln gc --target-host.
        .target(name: "KilnDeploy", dependencies: ["KilnBuild", "KilnModules", "KilnPlan", "KilnPrimitives", "KilnStore", "KilnSystem", "KilnSupport", "CArchive"]),
        // Images read back: their root filesystem as a tree (Kiln's ext4 reader, libguestfs for
        // the rest), kiln verify, kiln inspect, kiln diff.
        .target(name: "KilnInspect", dependencies: ["KilnImage", "KilnStore", "KilnSupport", "KilnPrimitives", "CGuestfs", "CGuestfsLoader", "CArchive",
                                                    .product(name: "Crypto", package: "swift-crypto")]),
        // VM tests: test files, building their nodes, QEMU machines, and the driver that runs
        // the test script in python3 (driver/kiln_test_driver.py, embedded as the modules are).
        .target(name: "KilnVMTest", dependencies: ["KilnBuild", "KilnModules", "KilnPlan", "KilnPrimitives", "KilnSupport", "NixLang"],
                exclude: ["driver", "embed.txt"], plugins: ["EmbedFiles"]),
        .executableTarget(name: "kiln", dependencies: [
            "CMimalloc", "NixLang", "KilnPlan", "KilnPrimitives", "KilnModules", "KilnStore", "KilnBuild", "KilnDeploy", "KilnImage", "KilnInspect", "KilnVMTest",
            "KilnSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: [.unsafeFlags(staticSwiftRuntime)]),

        // Embeds the files a target lists in embed.txt into it (the tool and its build plugin).
        .executableTarget(name: "embed-files"),
        .plugin(name: "EmbedFiles", capability: .buildTool(), dependencies: ["embed-files"]),

        .testTarget(name: "KilnPrimitivesTests", dependencies: ["KilnPrimitives"]),
        .testTarget(name: "NixLangTests", dependencies: ["NixLang"]),
        .testTarget(name: "KilnModulesTests", dependencies: ["KilnModules", "KilnPlan", "KilnStore"]),
        .testTarget(name: "KilnPlanTests", dependencies: ["KilnPlan", "KilnSupport"]),
        .testTarget(name: "KilnPackagesTests", dependencies: ["KilnPackages", "KilnSupport"]),
        .testTarget(name: "KilnStoreTests", dependencies: ["KilnStore", "KilnPrimitives", "KilnPackages"]),
        .testTarget(name: "KilnSystemTests", dependencies: ["KilnSystem", "KilnStore", "KilnPlan"]),
        .testTarget(name: "KilnImageTests", dependencies: ["KilnImage", "KilnBoot", "KilnStore", "KilnPlan", "KilnPrimitives"]),
        .testTarget(name: "KilnBuildTests", dependencies: ["KilnBuild", "KilnPlan", "KilnSupport"]),
        .testTarget(name: "KilnDeployTests", dependencies: ["KilnDeploy", "KilnStore", "KilnSupport"]),
        .testTarget(name: "KilnInspectTests", dependencies: ["KilnInspect", "KilnImage", "KilnStore", "KilnSupport"]),
        .testTarget(name: "KilnVMTestTests", dependencies: ["KilnVMTest", "KilnModules", "KilnSupport"]),
    ]
)
