import KilnPlan

extension GeneratedObject {
    /// The store object a configuration's Nix code described (`WrittenObject`). Evaluation
    /// computes its store path with this same initializer, so the path a string names and
    /// the object built are one.
    public init(_ w: WrittenObject) {
        self.init(name: w.name)
        for e in w.entries {
            let mode: UInt16 = e.executable ? 0o755 : 0o644
            switch e.content {
            case .text(let t): data(e.path, t, mode: mode)
            case .hostFile(let path, let sha256): file(e.path, source: path, sha256: sha256, mode: mode)
            case .link(let target): symlink(e.path, target)
            case .directory: directory(e.path)
            }
        }
    }
}
