/// A store object the configuration's own Nix code makes: `pkgs.writeText` and the other
/// trivial builders, or a file or folder of the profile's directory used in a string
/// (`"${./motd}"`, `source = ./nginx.conf`). Evaluation names it by its store path (strings
/// that mention it carry that path in their context); the generation builds it from these
/// entries, which give the same path (`GeneratedObject.init(_:)` in KilnStore).
public struct WrittenObject: Codable, Sendable, Hashable {
    public var name: String
    /// The store path evaluation gave it.
    public var path: String
    /// Relative paths inside the object (never empty: every written object is a folder).
    public var entries: [Entry]

    public struct Entry: Codable, Sendable, Hashable {
        public var path: String
        public var content: Content
        public var executable: Bool

        public init(path: String, content: Content, executable: Bool = false) {
            self.path = path; self.content = content; self.executable = executable
        }
    }

    public enum Content: Codable, Sendable, Hashable {
        case text(String)
        /// A file of the build host, copied when the object is built; its SHA-256 is checked
        /// then (the file may not change between evaluation and build).
        case hostFile(path: String, sha256: String)
        case link(String)
        case directory
    }

    public init(name: String, path: String, entries: [Entry]) {
        self.name = name; self.path = path; self.entries = entries
    }
}
