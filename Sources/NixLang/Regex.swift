// POSIX extended regular expressions for builtins.match and builtins.split, matched over
// bytes as Nix 2.8 matches them with std::regex (libstdc++, `extended` grammar): `.` and
// bracket expressions match one byte (`.` any but NUL); a backslash escapes only a special
// character, and is an ordinary one inside brackets; a repetition may follow another (`a**`,
// `a{2}{3}`); `\d`, lazy quantifiers and the like are errors, as there.
//
// Compiled once per pattern (the evaluator caches them). The matcher keeps its frames on an
// explicit stack, so a long subject cannot overflow the thread's stack (Nix's can).

import Foundation

struct RegexError: Error {}

/// A compiled pattern: libstdc++'s NFA for it (the same states, in the same shape: `x+` is
/// x then a repeat node back to x, `x{m,n}` is copies of x and nested optional repeats, `a|b|c`
/// nests to the left), run by a port of libstdc++'s depth-first executor, whose rules (try
/// both sides of `|` and keep the longer match; leave a repetition as soon as one more round
/// has led to any match; enter a repetition at most twice at one position) decide which
/// match and which captures come out.
final class Regex {
    /// Number of capturing groups (group 0, the whole match, not counted).
    let groups: Int
    private var states: [State] = []
    private let start: Int
    private let sets: [ByteSet]
    /// The bytes the pattern stands for when it is a plain string (no special character).
    private let literal: [UInt8]?

    private struct State {
        enum Kind { case byte(UInt8), any, set(Int), repeatNode, alternative, groupBegin(Int), groupEnd(Int), lineBegin, lineEnd, accept, dummy }
        var kind: Kind
        var next = -1
        /// repeat: the "once more" branch; alternative: the left side.
        var alt = -1
    }

    /// A sub-automaton under construction: its first state and the state whose `next` is open.
    private struct Seq { var start: Int; var end: Int }

    init(_ pattern: String) throws {
        var parser = RegexParser(Array(pattern.utf8))
        let tree = try parser.parseAll()
        sets = parser.sets
        groups = parser.groupCount
        literal = Regex.literalBytes(tree)
        start = 0
        var whole = Seq(start: add(.groupBegin(0)), end: 0)
        whole.end = whole.start
        append(&whole, build(tree))
        append(&whole, add(.groupEnd(0)))
        append(&whole, add(.accept))
    }

    private func add(_ k: State.Kind, alt: Int = -1) -> Int {
        states.append(State(kind: k, alt: alt))
        return states.count - 1
    }

    private func append(_ s: inout Seq, _ id: Int) {
        states[s.end].next = id
        s.end = id
    }

    private func append(_ s: inout Seq, _ t: Seq) {
        states[s.end].next = t.start
        s.end = t.end
    }

    private func single(_ k: State.Kind) -> Seq {
        let i = add(k)
        return Seq(start: i, end: i)
    }

    private func build(_ node: RegexNode) -> Seq {
        switch node {
        case .empty: return single(.dummy)
        case .byte(let c): return single(.byte(c))
        case .any: return single(.any)
        case .set(let i): return single(.set(i))
        case .lineStart: return single(.lineBegin)
        case .lineEnd: return single(.lineEnd)
        case .group(let inner, let g):
            var s = single(.groupBegin(g + 1))
            append(&s, build(inner))
            append(&s, add(.groupEnd(g + 1)))
            return s
        case .concat(let parts):
            var s = build(parts[0])
            for p in parts.dropFirst() { append(&s, build(p)) }
            return s
        case .alt(let choices):
            var acc = build(choices[0])
            for c in choices.dropFirst() {
                var rhs = build(c)
                let end = add(.dummy)
                append(&acc, end)
                append(&rhs, end)
                let a = add(.alternative, alt: acc.start)
                states[a].next = rhs.start
                acc = Seq(start: a, end: end)
            }
            return acc
        case .repeat(let inner, let lo, let hi):
            if lo == 0 && hi == nil {                      // x*
                var e = build(inner)
                let r = add(.repeatNode, alt: e.start)
                append(&e, r)
                return Seq(start: r, end: r)
            }
            if lo == 1 && hi == nil {                      // x+
                var e = build(inner)
                append(&e, add(.repeatNode, alt: e.start))
                return e
            }
            if lo == 0 && hi == 1 {                        // x?
                var e = build(inner)
                let end = add(.dummy)
                let r = add(.repeatNode, alt: e.start)
                append(&e, end)
                states[r].next = end
                return Seq(start: r, end: end)
            }
            // x{m,n}: a dummy, m copies, then a starred copy or n-m nested optional copies.
            var e = single(.dummy)
            for _ in 0..<lo { append(&e, build(inner)) }
            if let hi = hi {
                let end = add(.dummy)
                for _ in lo..<hi {
                    let tmp = build(inner)
                    let r = add(.repeatNode, alt: tmp.start)
                    states[r].next = end
                    append(&e, Seq(start: r, end: tmp.end))
                }
                append(&e, end)
            } else {
                var tmp = build(inner)
                let r = add(.repeatNode, alt: tmp.start)
                append(&tmp, r)
                append(&e, r)
            }
            return e
        }
    }

    // MARK: - Matching

    private static func literalBytes(_ node: RegexNode) -> [UInt8]? {
        switch node {
        case .byte(let c): return [c]
        case .concat(let parts):
            var out: [UInt8] = []
            for p in parts {
                guard case .byte(let c) = p else { return nil }
                out.append(c)
            }
            return out.isEmpty ? nil : out
        default: return nil
        }
    }

    /// A match of the whole of `s`: the captures (nil for a group that did not take part),
    /// or nil if there is none (`std::regex_match`).
    func wholeMatch(_ s: [UInt8]) throws -> [Range<Int>?]? {
        // Without groups only whether it matches counts, and that has one answer whatever
        // order the alternatives are tried in: the automaton is run breadth first, in time
        // linear in `s` and memory independent of it. The depth-first executor keeps frames
        // per byte and hits its step limit on long strings (lib.escapeShellArg's
        // `[[:alnum:],._+:@%/-]+` on a 50 MB environment variable).
        if groups == 0 { return matchesWhole(s) ? [] : nil }
        var x = Executor(self, s, begin: 0, exact: true, notNull: false, prevAvail: false)
        guard try x.run(), let r = x.results else { return nil }
        return Array(r.dropFirst())
    }

    /// The first match at or after `from` (`std::regex_search`): the whole match and the
    /// captures. `continuousNonEmpty`: only a non-empty match starting at `from`
    /// (match_continuous | match_not_null, as regex_iterator retries after an empty match).
    /// `prevAvail` (match_prev_avail): `from` is not the start of the subject, so `^` fails.
    func firstMatch(_ s: [UInt8], from: Int, continuousNonEmpty: Bool = false, prevAvail: Bool) throws -> (Range<Int>, [Range<Int>?])? {
        // A plain string has one match at each place it occurs (`split "\n"`, lib.hasInfix):
        // searched for directly rather than by an executor started at every byte.
        if let lit = literal { return findLiteral(lit, in: s, from: from, onlyAtFrom: continuousNonEmpty).map { ($0, []) } }
        var b = from
        while b <= s.count {
            var x = Executor(self, s, begin: b, exact: false, notNull: continuousNonEmpty, prevAvail: prevAvail || b > from)
            if try x.run(), let r = x.results, let whole = r[0] {
                return (whole, Array(r.dropFirst()))
            }
            if continuousNonEmpty { return nil }
            b += 1
        }
        return nil
    }

    private func findLiteral(_ lit: [UInt8], in s: [UInt8], from: Int, onlyAtFrom: Bool) -> Range<Int>? {
        guard from >= 0, from + lit.count <= s.count else { return nil }
        if onlyAtFrom { return s[from..<(from + lit.count)].elementsEqual(lit) ? from..<(from + lit.count) : nil }
        return s.withUnsafeBufferPointer { hay in
            guard let h = hay.baseAddress else { return nil }
            var at = from
            let last = hay.count - lit.count
            while at <= last {
                // memchr finds the first byte fast (memmem is a GNU extension Swift does not see).
                guard let p = memchr(h + at, Int32(lit[0]), last - at + 1) else { return nil }
                at = UnsafeRawPointer(h).distance(to: UnsafeRawPointer(p))
                if lit.count == 1 || hay[(at + 1)..<(at + lit.count)].elementsEqual(lit[1...]) { return at..<(at + lit.count) }
                at += 1
            }
            return nil
        }
    }

    /// Whether the whole of `s` matches, by running the automaton on the set of states it can
    /// be in after each byte (Thompson's construction, on libstdc++'s states).
    private func matchesWhole(_ s: [UInt8]) -> Bool {
        var seen = [Int](repeating: -1, count: states.count)
        var current: [Int] = [], next: [Int] = [], stack: [Int] = []
        // The states that consume a byte (or accept) reachable from `from` without consuming
        // one, at position `pos`, added to `list` once each.
        func close(_ from: Int, at pos: Int, into list: inout [Int]) {
            stack.append(from)
            while let i = stack.popLast() {
                guard i >= 0, seen[i] != pos else { continue }
                seen[i] = pos
                let st = states[i]
                switch st.kind {
                case .repeatNode, .alternative:
                    stack.append(st.next)
                    stack.append(st.alt)
                case .groupBegin, .groupEnd, .dummy:
                    stack.append(st.next)
                case .lineBegin:
                    if pos == 0 { stack.append(st.next) }
                case .lineEnd:
                    if pos == s.count { stack.append(st.next) }
                case .byte, .any, .set, .accept:
                    list.append(i)
                }
            }
        }
        close(start, at: 0, into: &current)
        for pos in 0..<s.count {
            if current.isEmpty { return false }
            let c = s[pos]
            next.removeAll(keepingCapacity: true)
            for i in current {
                let st = states[i]
                let takes: Bool
                switch st.kind {
                case .byte(let b): takes = b == c
                case .any: takes = c != 0
                case .set(let k): takes = sets[k].contains(c)
                default: takes = false
                }
                if takes { close(st.next, at: pos + 1, into: &next) }
            }
            swap(&current, &next)
        }
        return current.contains { if case .accept = states[$0].kind { return true } else { return false } }
    }

    /// Exponential patterns (`(a|a)*b` on a long string) end in an error, not a hang.
    static let stepLimit = 20_000_000

    /// libstdc++'s _Executor in DFS mode, its frames on an explicit stack.
    private struct Executor {
        let re: Regex
        let s: [UInt8]
        let begin: Int
        let exact: Bool
        let notNull: Bool
        let prevAvail: Bool
        var current: Int
        var hasSol = false
        var solPos = -1
        /// Per group: first, second, matched.
        var cur: [(first: Int, second: Int, matched: Bool)]
        var best: [(first: Int, second: Int, matched: Bool)]?
        var repCount: [(pos: Int, count: Int)]

        enum Frame {
            case next(Int)
            case fallbackNext(Int, pos: Int)
            case repOnceMore(Int)
            case posixAlternative(Int, pos: Int)
            case mergeSol(Bool)
            case restoreFirst(group: Int, pos: Int)
            case restoreSecond(group: Int, pos: Int, matched: Bool)
            case restoreRep(Int, pos: Int, count: Int)
            case decrementRep(Int)
        }
        var frames: [Frame] = []

        init(_ re: Regex, _ s: [UInt8], begin: Int, exact: Bool, notNull: Bool, prevAvail: Bool) {
            self.re = re; self.s = s; self.begin = begin; self.exact = exact; self.notNull = notNull
            self.prevAvail = prevAvail
            current = begin
            cur = Array(repeating: (-1, -1, false), count: re.groups + 1)
            repCount = Array(repeating: (-1, 0), count: re.states.count)
        }

        var results: [Range<Int>?]? {
            best.map { $0.map { $0.matched && $0.first >= 0 && $0.second >= $0.first ? $0.first..<$0.second : nil } }
        }

        mutating func run() throws -> Bool {
            frames.append(.next(re.start))
            var steps = 0
            while let f = frames.popLast() {
                steps &+= 1
                if steps > Regex.stepLimit { throw RegexError() }
                switch f {
                case .fallbackNext(let i, let pos):
                    if hasSol { break }
                    current = pos
                    node(i)
                case .next(let i):
                    node(i)
                case .repOnceMore(let i):
                    repOnceMore(i)
                case .posixAlternative(let i, let pos):
                    frames.append(.mergeSol(hasSol))
                    frames.append(.next(i))
                    current = pos
                    hasSol = false
                case .mergeSol(let v):
                    hasSol = hasSol || v
                case .restoreFirst(let g, let pos):
                    cur[g].first = pos
                case .restoreSecond(let g, let pos, let matched):
                    cur[g].second = pos
                    cur[g].matched = matched
                case .restoreRep(let i, let pos, let count):
                    repCount[i] = (pos, count)
                case .decrementRep(let i):
                    repCount[i].count -= 1
                }
            }
            return hasSol
        }

        mutating func repOnceMore(_ i: Int) {
            let rc = repCount[i]
            if rc.count == 0 || rc.pos != current {
                frames.append(.restoreRep(i, pos: rc.pos, count: rc.count))
                repCount[i] = (current, 1)
                frames.append(.next(re.states[i].alt))
            } else if rc.count < 2 {
                repCount[i].count += 1
                frames.append(.decrementRep(i))
                frames.append(.next(re.states[i].alt))
            }
        }

        mutating func node(_ i: Int) {
            let st = re.states[i]
            switch st.kind {
            case .repeatNode:
                frames.append(.fallbackNext(st.next, pos: current))
                frames.append(.repOnceMore(i))
            case .groupBegin(let g):
                frames.append(.restoreFirst(group: g, pos: cur[g].first))
                cur[g].first = current
                frames.append(.next(st.next))
            case .groupEnd(let g):
                frames.append(.restoreSecond(group: g, pos: cur[g].second, matched: cur[g].matched))
                cur[g].second = current
                cur[g].matched = true
                frames.append(.next(st.next))
            case .lineBegin:
                if current == begin && !prevAvail { frames.append(.next(st.next)) }
            case .lineEnd:
                if current == s.count { frames.append(.next(st.next)) }
            case .byte(let c):
                if current < s.count && s[current] == c { current += 1; frames.append(.next(st.next)) }
            case .any:
                if current < s.count && s[current] != 0 { current += 1; frames.append(.next(st.next)) }
            case .set(let k):
                if current < s.count && re.sets[k].contains(s[current]) { current += 1; frames.append(.next(st.next)) }
            case .alternative:
                frames.append(.posixAlternative(st.next, pos: current))
                frames.append(.next(st.alt))
            case .dummy:
                frames.append(.next(st.next))
            case .accept:
                hasSol = exact ? current == s.count : true
                if current == begin && notNull { hasSol = false }
                if hasSol && (solPos < 0 || solPos < current) {
                    solPos = current
                    best = cur
                }
            }
        }
    }
}

/// 256 bits: the bytes a bracket expression matches.
struct ByteSet {
    var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    func contains(_ b: UInt8) -> Bool {
        let w: UInt64
        switch b >> 6 {
        case 0: w = bits.0
        case 1: w = bits.1
        case 2: w = bits.2
        default: w = bits.3
        }
        return w & (1 << UInt64(b & 63)) != 0
    }

    mutating func insert(_ b: UInt8) {
        let m: UInt64 = 1 << UInt64(b & 63)
        switch b >> 6 {
        case 0: bits.0 |= m
        case 1: bits.1 |= m
        case 2: bits.2 |= m
        default: bits.3 |= m
        }
    }

    mutating func invert() { bits = (~bits.0, ~bits.1, ~bits.2, ~bits.3) }
}

indirect enum RegexNode {
    case empty
    case byte(UInt8)
    case any
    case set(Int)
    case lineStart, lineEnd
    case group(RegexNode, Int)
    case concat([RegexNode])
    case alt([RegexNode])
    case `repeat`(RegexNode, Int, Int?)
}

/// ERE syntax: alternation of concatenations of (atom quantifier*).
struct RegexParser {
    let p: [UInt8]
    var i = 0
    var groupCount = 0
    var sets: [ByteSet] = []
    var depth = 0

    init(_ p: [UInt8]) { self.p = p }

    var cur: UInt8? { i < p.count ? p[i] : nil }

    mutating func parseAll() throws -> RegexNode {
        let n = try parseAlt()
        if i != p.count { throw RegexError() }   // a stray ')'
        return n
    }

    mutating func parseAlt() throws -> RegexNode {
        var choices = [try parseConcat()]
        while cur == UInt8(ascii: "|") {
            i += 1
            choices.append(try parseConcat())
        }
        return choices.count == 1 ? choices[0] : .alt(choices)
    }

    mutating func parseConcat() throws -> RegexNode {
        var parts: [RegexNode] = []
        while let c = cur, c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
            var atom = try parseAtom()
            // An anchor takes no repetition (libstdc++ leaves the `*` unparsed: an error).
            if case .lineStart = atom { parts.append(atom); continue }
            if case .lineEnd = atom { parts.append(atom); continue }
            while let q = cur {
                if q == UInt8(ascii: "*") { i += 1; atom = .repeat(atom, 0, nil) }
                else if q == UInt8(ascii: "+") { i += 1; atom = .repeat(atom, 1, nil) }
                else if q == UInt8(ascii: "?") { i += 1; atom = .repeat(atom, 0, 1) }
                else if q == UInt8(ascii: "{") {
                    i += 1
                    let lo = try number()
                    var hi: Int? = lo
                    if cur == UInt8(ascii: ",") {
                        i += 1
                        hi = cur == UInt8(ascii: "}") ? nil : try number()
                    }
                    guard cur == UInt8(ascii: "}") else { throw RegexError() }
                    i += 1
                    if let h = hi, h < lo { throw RegexError() }
                    // Repetition is expanded: keep programs of sane size.
                    if lo > 1000 || (hi ?? 0) > 1000 { throw RegexError() }
                    atom = .repeat(atom, lo, hi)
                } else { break }
            }
            parts.append(atom)
        }
        if parts.isEmpty { return .empty }
        return parts.count == 1 ? parts[0] : .concat(parts)
    }

    mutating func number() throws -> Int {
        var n = 0, digits = 0
        while let c = cur, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            n = n * 10 + Int(c - UInt8(ascii: "0"))
            if n > 100_000 { throw RegexError() }
            digits += 1
            i += 1
        }
        if digits == 0 { throw RegexError() }
        return n
    }

    mutating func parseAtom() throws -> RegexNode {
        guard let c = cur else { throw RegexError() }
        i += 1
        switch c {
        case UInt8(ascii: "("):
            depth += 1
            if depth > 200 { throw RegexError() }
            let g = groupCount
            groupCount += 1
            let inner = try parseAlt()
            guard cur == UInt8(ascii: ")") else { throw RegexError() }
            i += 1
            depth -= 1
            return .group(inner, g)
        case UInt8(ascii: "."): return .any
        case UInt8(ascii: "^"): return .lineStart
        case UInt8(ascii: "$"): return .lineEnd
        case UInt8(ascii: "["): return .set(try parseBracket())
        case UInt8(ascii: "\\"):
            guard let e = cur else { throw RegexError() }
            i += 1
            // Only special characters may be escaped.
            guard Array(".[]()*+?{}|^$\\".utf8).contains(e) else { throw RegexError() }
            return .byte(e)
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"):
            throw RegexError()   // nothing to repeat
        default:
            return .byte(c)
        }
    }

    /// After '[': the set's index.
    mutating func parseBracket() throws -> Int {
        var set = ByteSet()
        var negate = false
        if cur == UInt8(ascii: "^") { negate = true; i += 1 }
        var first = true
        while true {
            guard let c = cur else { throw RegexError() }
            if c == UInt8(ascii: "]") && !first { i += 1; break }
            first = false
            // One element: a class, a collating element, or a byte, maybe the start of a range.
            var lo: UInt8
            if c == UInt8(ascii: "["), i + 1 < p.count, p[i + 1] == UInt8(ascii: ":") {
                let name = try bracketName(close: UInt8(ascii: ":"))
                guard let members = RegexParser.classMembers(name) else { throw RegexError() }
                for b in 0...255 where members(UInt8(b)) { set.insert(UInt8(b)) }
                // A class cannot end a range.
                if cur == UInt8(ascii: "-"), i + 1 < p.count, p[i + 1] != UInt8(ascii: "]") { throw RegexError() }
                continue
            } else if c == UInt8(ascii: "["), i + 1 < p.count, p[i + 1] == UInt8(ascii: ".") || p[i + 1] == UInt8(ascii: "=") {
                let name = try bracketName(close: p[i + 1])
                guard name.count == 1 else { throw RegexError() }
                lo = name[0]
            } else {
                lo = c
                i += 1
            }
            if cur == UInt8(ascii: "-"), i + 1 < p.count, p[i + 1] != UInt8(ascii: "]") {
                i += 1
                guard let h = cur else { throw RegexError() }
                var hi = h
                if h == UInt8(ascii: "["), i + 1 < p.count, p[i + 1] == UInt8(ascii: ".") {
                    let name = try bracketName(close: UInt8(ascii: "."))
                    guard name.count == 1 else { throw RegexError() }
                    hi = name[0]
                } else if h == UInt8(ascii: "["), i + 1 < p.count, p[i + 1] == UInt8(ascii: ":") {
                    throw RegexError()
                } else {
                    i += 1
                }
                if hi < lo { throw RegexError() }
                for b in lo...hi { set.insert(b) }
            } else {
                set.insert(lo)
            }
        }
        if negate { set.invert() }
        sets.append(set)
        return sets.count - 1
    }

    /// At "[:", "[." or "[=": the name up to the closing ":]" (".]", "=]").
    mutating func bracketName(close: UInt8) throws -> [UInt8] {
        i += 2
        let start = i
        while i + 1 < p.count, !(p[i] == close && p[i + 1] == UInt8(ascii: "]")) { i += 1 }
        guard i + 1 < p.count else { throw RegexError() }
        let name = Array(p[start..<i])
        i += 2
        return name
    }

    /// The members of a character class `[:name:]` (libstdc++'s names, including d, s, w).
    static func classMembers(_ name: [UInt8]) -> ((UInt8) -> Bool)? {
        func isUpper(_ b: UInt8) -> Bool { b >= 65 && b <= 90 }
        func isLower(_ b: UInt8) -> Bool { b >= 97 && b <= 122 }
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        func isSpace(_ b: UInt8) -> Bool { b == 32 || (b >= 9 && b <= 13) }
        switch String(decoding: name, as: UTF8.self) {
        case "alpha": return { isUpper($0) || isLower($0) }
        case "digit", "d": return isDigit
        case "alnum": return { isUpper($0) || isLower($0) || isDigit($0) }
        case "w": return { isUpper($0) || isLower($0) || isDigit($0) || $0 == 95 }
        case "upper": return isUpper
        case "lower": return isLower
        case "space", "s": return isSpace
        case "blank": return { $0 == 32 || $0 == 9 }
        case "punct": return { ($0 >= 33 && $0 <= 47) || ($0 >= 58 && $0 <= 64) || ($0 >= 91 && $0 <= 96) || ($0 >= 123 && $0 <= 126) }
        case "print": return { $0 >= 32 && $0 <= 126 }
        case "graph": return { $0 >= 33 && $0 <= 126 }
        case "cntrl": return { $0 < 32 || $0 == 127 }
        case "xdigit": return { isDigit($0) || ($0 >= 65 && $0 <= 70) || ($0 >= 97 && $0 <= 102) }
        default: return nil
        }
    }
}
