import Foundation
import PackagePlugin

/// Embeds data files into the target it is applied to, so `kiln` is one self-contained
/// file: a copied binary finds its Nix modules and machine descriptions without the checkout.
///
/// The target lists what to embed in `embed.txt`, one `NAME = RELATIVE/DIR` per line (relative
/// to the target's folder). Every file under DIR becomes `EmbeddedFiles.files["NAME/sub/path"]`.
@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let base = module.directoryURL
        let listURL = base.appendingPathComponent("embed.txt")
        let list = try String(contentsOf: listURL, encoding: .utf8)
        var roots: [(name: String, dir: URL)] = []
        for line in list.split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.hasPrefix("#") { continue }
            let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw EmbedError("\(listURL.path): '\(text)' is not NAME = RELATIVE/DIR")
            }
            roots.append((parts[0], base.appendingPathComponent(parts[1]).standardizedFileURL))
        }
        // Every file is an input, so editing or adding one re-embeds.
        var inputs: [URL] = [listURL]
        for root in roots {
            guard let walker = FileManager.default.enumerator(at: root.dir, includingPropertiesForKeys: [.isRegularFileKey]) else {
                throw EmbedError("cannot list \(root.dir.path)")
            }
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                inputs.append(url)
            }
        }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedFiles.swift")
        return [.buildCommand(
            displayName: "Embedding \(roots.map(\.name).joined(separator: ", ")) into \(target.name)",
            executable: try context.tool(named: "embed-files").url,
            arguments: [output.path] + roots.map { "\($0.name)=\($0.dir.path)" },
            inputFiles: inputs,
            outputFiles: [output])]
    }
}

struct EmbedError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
