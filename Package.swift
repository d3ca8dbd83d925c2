// swift-tools-version:6.0
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
        // mimalloc replaces malloc/free in the kiln executable (ELF interposition): the
        // evaluator allocates and frees millions of small thunks, frames and sets, and
        // mimalloc's paths are a fraction of glibc's (11-16% fewer instructions in all).
        .systemLibrary(name: "CMimalloc", providers: [.apt(["libmimalloc-dev"])]),
        // Thread-local variables for NixLang (Swift has none): see Thunk.deinit.
        .target(name: "CNixLangSupport"),

        // Shared plumbing: errors rendered in one place, running external tools, progress.
        .target(name: "KilnSupport", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),

        // The Nix language: parser and lazy evaluator. Depends on no other Kiln target (only
        // swift-crypto, for the hashes of builtins.hashString and store paths, and its own
        // thread-locals in CNixLangSupport).
        // Runtime exclusivity checks cost ~10% of evaluation time (swift_beginAccess on every
        // thunk/env access); the evaluator is single-threaded and has no overlapping accesses.
        // Without lexical lifetimes the optimizer may release a reference after its last use
        // instead of at the end of its scope: ~4% fewer retains/releases. Nothing here relies
        // on deinit timing (no weak references; Unmanaged walks only borrowed parameters).
        // -assume-single-threaded makes NixLang's own retains and releases non-atomic (no lock
        // prefix): an evaluator and its values are only ever used by one thread at a time
        // (runWithLargeStack runs an evaluation on a thread it joins), and no Kiln target shares
        // them between threads. fib 25: 56 ms -> 50 ms.
        .target(name: "NixLang", dependencies: ["CNixLangSupport", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked", "-Xfrontend", "-enable-lexical-lifetimes=false", "-Xfrontend", "-assume-single-threaded"])]),
        // Profile + hardware + built-in modules -> SystemConfig.
        .target(name: "KilnModules", dependencies: ["NixLang", "KilnSupport"], resources: [.copy("modules")]),
        // APT indexes -> resolved, locked closure; .deb fetching.
        .target(name: "KilnPackages", dependencies: ["KilnSupport", .product(name: "Crypto", package: "swift-crypto")]),
        // Store paths, .deb unpacking, manifests, derived objects (sw, etc, initrd, toplevel).
        .target(name: "KilnStore", dependencies: ["KilnSupport", "KilnPackages", "KilnModules", "CArchive", "CCrypt",
                                                  .product(name: "Crypto", package: "swift-crypto")]),
        // Filesystems, partition table, boot loader, output formats.
        .target(name: "KilnImage", dependencies: ["KilnSupport", "CExt2fs"]),
        // QEMU: accelerator probe, serial console driving.
        .target(name: "KilnVMTest", dependencies: ["KilnSupport"]),
        // The stages in order, for the CLI and the tests.
        .target(name: "KilnBuild", dependencies: ["KilnSupport", "KilnModules", "KilnPackages", "KilnStore", "KilnImage",
                                                  .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(name: "kiln", dependencies: [
            "CMimalloc", "NixLang", "KilnModules", "KilnBuild", "KilnImage", "KilnVMTest", "KilnSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: [.unsafeFlags(staticSwiftRuntime)]),

        .testTarget(name: "NixLangTests", dependencies: ["NixLang"]),
        .testTarget(name: "KilnModulesTests", dependencies: ["KilnModules"]),
        .testTarget(name: "KilnPackagesTests", dependencies: ["KilnPackages"]),
        .testTarget(name: "KilnStoreTests", dependencies: ["KilnStore", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "KilnImageTests", dependencies: ["KilnImage"]),
        .testTarget(name: "KilnVMTestTests", dependencies: ["KilnVMTest", "KilnSupport"]),
    ]
)
