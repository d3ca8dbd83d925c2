import Foundation
import NixLang
import KilnPlan
import KilnStore
import KilnPrimitives

/// The store objects one evaluation's Nix code writes (`WrittenObject`): by the trivial
/// builders' primitive (`writeObject`, modules/pkgs/trivial-builders.nix) and by a path of
/// the profile's directory used in a string (`"${./motd}"`). Each string naming one carries
/// its store path in its context, as in Nix, so the plan gathers exactly those its strings
/// name (`gather`); a Debian package used in a string (`"${pkgs.hello}/bin/hello"`) carries
/// `packagePrefix` + its name, and the plan adds that package to the system.
/// Unchecked Sendable as NixLang's values are: one evaluation's, used on its thread only.
final class WrittenObjects: @unchecked Sendable {
    /// Context element of a string that used a Debian package.
    static let packagePrefix = "kiln-package:"
    /// Where a Debian package's files are on the running system: its outPath.
    static let packagesPath = "/run/current-system/sw"

    /// Store path → the object and the context of what it mentions.
    private var byPath: [String: (object: WrittenObject, context: Set<String>)] = [:]
    /// Host path → the store path `copyPath` gave it.
    private var copied: [String: String] = [:]
    private let io: EvalIO

    init(io: EvalIO) { self.io = io }

    /// Records the object and gives the string that names `relative` inside it ("" for the
    /// object itself), with the object and what its entries mention in its context.
    private func add(name: String, entries: [WrittenObject.Entry], mentions: Set<String>, relative: String = "") -> NixString {
        var w = WrittenObject(name: name, path: "", entries: entries)
        w.path = GeneratedObject(w).storePath.path
        byPath[w.path] = (w, mentions)
        return NixString(relative.isEmpty ? w.path : w.path + "/" + relative, context: mentions.union([w.path]))
    }

    /// `writeObject { name; entries = [ { path; text | link; executable ? false; } ]; }`.
    func primop() -> Value {
        .native(name: "writeObject") { ev, arg in
            guard case .attrs(let a) = try ev.force(arg), let nameT = a["name"], let entriesT = a["entries"],
                  case .string(let name) = try ev.force(nameT), case .list(let list) = try ev.force(entriesT) else {
                throw NixError(.typeError, "writeObject takes { name; entries; }")
            }
            var entries: [WrittenObject.Entry] = []
            var mentions = Set<String>()
            for t in list {
                guard case .attrs(let e) = try ev.force(t), let pathT = e["path"], case .string(let rel) = try ev.force(pathT) else {
                    throw NixError(.typeError, "writeObject \(name.value): an entry needs a path")
                }
                let executable: Bool
                if let x = e["executable"], case .bool(let b) = try ev.force(x) { executable = b } else { executable = false }
                if let text = e["text"] {
                    let s = try ev.coerceToString(try ev.force(text))
                    mentions.formUnion(s.context)
                    entries.append(.init(path: rel.value, content: .text(s.value), executable: executable))
                } else if let link = e["link"] {
                    let s = try ev.coerceToString(try ev.force(link))
                    mentions.formUnion(s.context)
                    entries.append(.init(path: rel.value, content: .link(s.value)))
                } else {
                    throw NixError(.typeError, "writeObject \(name.value): entry '\(rel.value)' has neither text nor link")
                }
            }
            return .string(self.add(name: name.value, entries: entries, mentions: mentions))
        }
    }

    /// `copyPathToStore`: a file or folder of the build host (or of what kiln carries) as a
    /// written object. A folder is the object; a file is the one entry of an object named
    /// after it, and the string names the file.
    func copyPath(_ path: String) throws -> String {
        if let s = copied[path] { return s }
        let base = (path as NSString).lastPathComponent
        let s: String
        switch io.fileKind(path) {
        case nil:
            throw NixError(.io, "getting status of '\(path)': No such file or directory")
        case .directory?:
            var entries: [WrittenObject.Entry] = []
            try walk(path, "", into: &entries)
            s = add(name: base, entries: entries, mentions: []).value
        case .regular(let executable)?:
            s = add(name: base, entries: [.init(path: base, content: try content(path), executable: executable)], mentions: [], relative: base).value
        case .symlink(let target)?:
            s = add(name: base, entries: [.init(path: base, content: .link(target))], mentions: [], relative: base).value
        }
        copied[path] = s
        return s
    }

    private func walk(_ dir: String, _ rel: String, into entries: inout [WrittenObject.Entry]) throws {
        for name in try io.listDirectory(dir).sorted() {
            let p = dir + "/" + name, r = rel.isEmpty ? name : rel + "/" + name
            switch io.fileKind(p) {
            case .directory?:
                entries.append(.init(path: r, content: .directory))
                try walk(p, r, into: &entries)
            case .regular(let executable)?: entries.append(.init(path: r, content: try content(p), executable: executable))
            case .symlink(let target)?: entries.append(.init(path: r, content: .link(target)))
            case nil: continue
            }
        }
    }

    /// A host file is copied when the object is built (its hash checked then); one of the
    /// files kiln carries exists only in kiln, so its text goes into the plan.
    private func content(_ path: String) throws -> WrittenObject.Content {
        let bytes = try io.readBytes(path)
        if path.hasPrefix(Embedded.root + "/") { return .text(String(decoding: bytes, as: UTF8.self)) }
        return .hostFile(path: path, sha256: Hex.encode(Digest.sha256(bytes)))
    }

    /// The written objects and the Debian packages that `context` names, with everything
    /// those objects' entries mention; objects sorted by path, packages by name.
    func gather(_ context: Set<String>) -> (objects: [WrittenObject], packages: [String]) {
        var objects: [String: WrittenObject] = [:]
        var packages = Set<String>()
        var todo = Array(context)
        while let c = todo.popLast() {
            if c.hasPrefix(Self.packagePrefix) {
                packages.insert(String(c.dropFirst(Self.packagePrefix.count)))
            } else if let root = Self.storeRoot(c), objects[root] == nil, let (o, mentions) = byPath[root] {
                objects[root] = o
                todo.append(contentsOf: mentions)
            }
        }
        return (objects.keys.sorted().compactMap { objects[$0] }, packages.sorted())
    }

    /// "/nix/store/<hash>-<name>" of a path at or below it (a copied file's string names the
    /// file inside its object).
    private static func storeRoot(_ path: String) -> String? {
        let parts = path.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].isEmpty, "/" + parts[1] + "/" + parts[2] == nixStoreDirectory else { return nil }
        return nixStoreDirectory + "/" + parts[3].prefix { $0 != "/" }
    }
}
