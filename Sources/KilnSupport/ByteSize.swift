import Foundation

/// A size in bytes as users write it on the command line: `2G`, `500M`, `1024K`, `3T` (powers
/// of 1024, as du, truncate and qemu-img read them; a trailing `iB` or `B` is allowed) or
/// plain bytes.
public struct ByteSize: Sendable, Equatable, CustomStringConvertible {
    public let bytes: Int64

    public init(bytes: Int64) { self.bytes = bytes }

    /// Nil for anything else: no number, a negative one, an unknown unit, or more than Int64 holds.
    public init?(parsing text: String) {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        for suffix in ["iB", "ib", "B", "b"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits = digits.dropLast(suffix.count)
            break
        }
        var shift: Int64 = 0
        if let unit = digits.last, !unit.isNumber {
            switch unit.uppercased() {
            case "K": shift = 10
            case "M": shift = 20
            case "G": shift = 30
            case "T": shift = 40
            default: return nil
            }
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(digits) else { return nil }
        let (value, overflow) = n.multipliedReportingOverflow(by: Int64(1) << shift)
        guard !overflow else { return nil }
        bytes = value
    }

    /// The largest unit that divides it, as it would be written: `2G`, `1536M`, `1000`.
    public var description: String {
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] where bytes != 0 && bytes % (Int64(1) << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return String(bytes)
    }

    /// For messages: MiB with one decimal below 10 MiB, whole MiB above.
    public var mebibytes: String {
        let mib = Double(bytes) / 1_048_576
        return mib < 10 ? String(format: "%.1f MiB", mib) : "\(bytes >> 20) MiB"
    }
}
