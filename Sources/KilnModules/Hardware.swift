import Foundation
import KilnSupport

/// A machine description (a NixOS module setting the platform, kernel, console, firmware
/// and drivers): one that kiln carries, by name, or a file.
public enum Hardware: Sendable, Equatable, CustomStringConvertible {
    case shipped(String)
    /// An absolute path.
    case file(String)

    /// What `--hardware` means when it is not given.
    public static let `default` = Hardware.shipped("qemu-x86_64")

    /// `--hardware NAME|PATH`: a name without '/' or '.nix' is a shipped description.
    /// - Throws: `KilnError` naming the shipped ones for an unknown name, or a missing file.
    public init(_ argument: String?) throws {
        guard let argument else { self = .default; return }
        if !argument.contains("/") && !argument.hasSuffix(".nix") {
            guard Embedded.hardwareNames.contains(argument) else {
                throw KilnError("there is no shipped machine description '\(argument)'",
                                hint: "the shipped ones are \(Embedded.hardwareNames.joined(separator: ", ")); or give a .nix file")
            }
            self = .shipped(argument)
            return
        }
        let path = URL(fileURLWithPath: argument).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw KilnError("the machine description '\(argument)' does not exist",
                            hint: "give a .nix file or a shipped name: \(Embedded.hardwareNames.joined(separator: ", "))")
        }
        self = .file(path)
    }

    /// The path the evaluator imports.
    public var nixPath: String {
        switch self {
        case .shipped(let name): return Embedded.hardwareDirectory + "/" + name + ".nix"
        case .file(let path): return path
        }
    }

    public var description: String {
        switch self {
        case .shipped(let name): return name
        case .file(let path): return path
        }
    }
}
