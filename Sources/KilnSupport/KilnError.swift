import Foundation

/// An error a user can act on. Every stage throws these (or types conforming to
/// `UserFacingError`); only the CLI turns them into text and an exit status.
public protocol UserFacingError: Error {
    /// One paragraph: what went wrong, where (file:line:column, option path, package, path),
    /// and, when known, what to do about it.
    var userMessage: String { get }
}

/// The general-purpose error of Kiln's stages.
public struct KilnError: UserFacingError, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var userMessage: String {
        if let hint { return "\(message)\nhint: \(hint)" }
        return message
    }

    public var description: String { userMessage }
}

extension Error {
    /// The text shown to a user for any error: user-facing errors speak for themselves; a
    /// Foundation file error that no stage wrapped gives its path and the system's reason
    /// (not the NSError's dump, nor its "The operation could not be completed" text);
    /// anything else is shown with its type so it can be reported.
    public var kilnMessage: String {
        if let e = self as? UserFacingError { return e.userMessage }
        let ns = self as NSError
        if ns.isFileError {
            let path = (ns.userInfo[NSFilePathErrorKey] as? String).map { "'\($0)': " } ?? ""
            return path + systemReason
        }
        return "internal error: \(self)"
    }
}
