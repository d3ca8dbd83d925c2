import Foundation

/// Recursive-descent / precedence-climbing parser producing an unbound AST.
struct Parser {
    let file: SourceFile
    let tokens: [Token]
    let baseDir: String
    let home: String?
    var i = 0
    var depth = 0
    /// Lowest allowed stack address (0: unchecked).
    var stackLimit: UInt = 0

    init(file: SourceFile, baseDir: String, home: String?) throws {
        self.file = file
        self.tokens = try Lexer.tokenize(file)
        self.baseDir = baseDir
        self.home = home
    }

    // MARK: Helpers

    var tok: TokKind { i < tokens.count ? tokens[i].kind : .eof }
    func peekKind(_ o: Int) -> TokKind { i + o < tokens.count ? tokens[i + o].kind : .eof }
    var offset: Int { i < tokens.count ? tokens[i].offset : file.bytes.count }
    func span(_ off: Int) -> Span { Span(file: file, offset: off) }
    var here: Span { span(offset) }

    mutating func advance() { if i < tokens.count { i += 1 } }

    func unexpected(_ expecting: String? = nil) -> NixError {
        var m = "syntax error, unexpected \(tok.display)"
        if let e = expecting { m += ", expecting \(e)" }
        return NixError(.parse, m, span: here)
    }

    mutating func expect(_ k: TokKind) throws {
        guard tok == k else { throw unexpected(k.display) }
        advance()
    }

    // MARK: Entry

    mutating func parseFile() throws -> Expr {
        let e = try parseExpr()
        guard tok == .eof else { throw unexpected() }
        return e
    }

    mutating func parseExpr() throws -> Expr { try parseFunction() }

    mutating func nest() throws {
        depth += 1
        if depth > 10_000 || currentStackAddress() < stackLimit {
            throw NixError(.parse, "syntax error, expression nested too deeply", span: here)
        }
    }

    mutating func parseFunction() throws -> Expr {
        try nest()
        defer { depth -= 1 }
        let start = offset
        switch tok {
        case .id(let name) where peekKind(1) == .colon:
            advance(); advance()
            let body = try parseFunction()
            return LambdaExpr(arg: name, formals: nil, ellipsis: false, body: body, span: span(start))
        case .id(let name) where peekKind(1) == .at:
            advance(); advance()
            guard tok == .lbrace else { throw unexpected("'{'") }
            let (formals, ell) = try parseFormals()
            if formals.contains(where: { $0.name == name }) {
                throw NixError(.parse, "duplicate formal function argument '\(name)'", span: span(start))
            }
            try expect(.colon)
            let body = try parseFunction()
            return LambdaExpr(arg: name, formals: formals, ellipsis: ell, body: body, span: span(start))
        case .lbrace where looksLikeFormals():
            let (formals, ell) = try parseFormals()
            var arg: String? = nil
            if tok == .at {
                advance()
                guard case .id(let n) = tok else { throw unexpected("identifier") }
                if formals.contains(where: { $0.name == n }) {
                    throw NixError(.parse, "duplicate formal function argument '\(n)'", span: span(start))
                }
                arg = n
                advance()
            }
            try expect(.colon)
            let body = try parseFunction()
            return LambdaExpr(arg: arg, formals: formals, ellipsis: ell, body: body, span: span(start))
        case .kwAssert:
            advance()
            let condStart = offset
            let c = try parseExpr()
            let condEnd = offset
            try expect(.semi)
            let b = try parseFunction()
            let a = AssertExpr(c, b, span: span(start))
            if condStart <= condEnd, condEnd <= file.bytes.count {
                a.condText = String(decoding: file.bytes[condStart..<condEnd], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return a
        case .kwWith:
            advance()
            let a = try parseExpr()
            try expect(.semi)
            let b = try parseFunction()
            return WithExpr(a, b, span: span(start))
        case .kwLet where peekKind(1) != .lbrace:
            advance()
            let attrs = AttrsExpr(rec: true, span: span(start))
            try parseBinds(into: attrs, isLet: true)
            try expect(.kwIn)
            let body = try parseFunction()
            return LetExpr(attrs, body, span: span(start))
        default:
            return try parseIf()
        }
    }

    func looksLikeFormals() -> Bool {
        switch peekKind(1) {
        case .rbrace:
            let k = peekKind(2)
            return k == .colon || k == .at
        case .ellipsis: return true
        case .id:
            let k = peekKind(2)
            return k == .comma || k == .question || (k == .rbrace && (peekKind(3) == .colon || peekKind(3) == .at))
        default: return false
        }
    }

    mutating func parseFormals() throws -> ([Formal], Bool) {
        try expect(.lbrace)
        var formals: [Formal] = []
        var seen = Set<String>()
        var ellipsis = false
        while true {
            if tok == .rbrace { advance(); break }
            if tok == .ellipsis {
                advance()
                ellipsis = true
                guard tok == .rbrace else { throw unexpected("'}'") }
                advance()
                break
            }
            guard case .id(let name) = tok else { throw unexpected("'}'") }
            let at = offset
            advance()
            var def: Expr? = nil
            if tok == .question {
                advance()
                def = try parseExpr()
            }
            if !seen.insert(name).inserted {
                throw NixError(.parse, "duplicate formal function argument '\(name)'", span: span(at))
            }
            formals.append(Formal(name: name, def: def, span: span(at)))
            if tok == .comma { advance(); continue }
            guard tok == .rbrace else { throw unexpected("'}'") }
            advance()
            break
        }
        return (formals, ellipsis)
    }

    mutating func parseIf() throws -> Expr {
        if tok == .kwIf {
            let start = offset
            advance()
            let c = try parseExpr()
            try expect(.kwThen)
            let t = try parseExpr()
            try expect(.kwElse)
            let e = try parseExpr()
            return IfExpr(c, t, e, span: span(start))
        }
        return try parseBinary(0)
    }

    // MARK: Operators

    enum Assoc { case left, right, none }

    func binInfo(_ k: TokKind) -> (Int, Assoc, BinOp?)? {
        switch k {
        case .impl: return (1, .right, .impl)
        case .or: return (2, .left, .or)
        case .and: return (3, .left, .and)
        case .eq: return (4, .none, .eq)
        case .neq: return (4, .none, .neq)
        case .lt: return (5, .none, .lt)
        case .le: return (5, .none, .le)
        case .gt: return (5, .none, .gt)
        case .ge: return (5, .none, .ge)
        case .update: return (6, .right, .update)
        case .plus: return (8, .left, .add)
        case .minus: return (8, .left, .sub)
        case .star: return (9, .left, .mul)
        case .slash: return (9, .left, .div)
        case .concat: return (10, .right, .concat)
        case .question: return (11, .none, nil)
        default: return nil
        }
    }

    mutating func parseBinary(_ minPrec: Int) throws -> Expr {
        try nest()
        defer { depth -= 1 }
        let start = offset
        var lhs: Expr
        if tok == .not {
            advance()
            let operand = try parseBinary(8)
            lhs = NotExpr(operand, span: span(start))
        } else if tok == .minus {
            advance()
            let operand = try parseBinary(12)
            if let c = operand as? ConstExpr, case .int(let v) = c.value {
                lhs = ConstExpr(.int(0 &- v), span: span(start))
            } else if let c = operand as? ConstExpr, case .float(let v) = c.value {
                lhs = ConstExpr(.float(-v), span: span(start))
            } else {
                lhs = NegExpr(operand, span: span(start))
            }
        } else {
            lhs = try parseApp()
        }
        var lastNonAssoc = -1
        while let (prec, assoc, op) = binInfo(tok), prec >= minPrec {
            if prec == lastNonAssoc { throw unexpected() }
            let opOff = offset
            advance()
            if op == nil { // ?
                let path = try parseAttrPath()
                lhs = HasAttrExpr(lhs, path, span: span(opOff))
                lastNonAssoc = prec
                continue
            }
            guard let op else { break }
            let rhs = try parseBinary(assoc == .right ? prec : prec + 1)
            lhs = BinExpr(op, lhs, rhs, span: span(opOff))
            lastNonAssoc = assoc == .none ? prec : -1
        }
        return lhs
    }

    func startsSimple(_ k: TokKind) -> Bool {
        switch k {
        case .id, .int, .float, .path, .hpath, .spath, .uri, .strStart, .indStart, .pathStart,
             .lparen, .lbrace, .lbrack, .kwRec:
            return true
        case .kwLet: return peekKind(1) == .lbrace
        default: return false
        }
    }

    mutating func parseApp() throws -> Expr {
        let start = offset
        let f = try parseSelect()
        var args: [Expr] = []
        while startsSimple(tok) {
            args.append(try parseSelect())
        }
        if args.isEmpty { return f }
        return CallExpr(f, args, span: span(start))
    }

    mutating func parseSelect() throws -> Expr {
        let start = offset
        let e = try parseSimple()
        if tok == .dot {
            advance()
            let path = try parseAttrPath()
            var def: Expr? = nil
            if tok == .kwOr {
                advance()
                def = try parseSelect()
            }
            return SelectExpr(e, path, def, span: span(start))
        }
        if tok == .kwOr {
            let at = offset
            advance()
            return CallExpr(e, [VarExpr("or", span: span(at))], span: span(start))
        }
        return e
    }

    mutating func parseAttrPath() throws -> [AttrName] {
        var path: [AttrName] = [try parseAttrName()]
        while tok == .dot {
            advance()
            path.append(try parseAttrName())
        }
        return path
    }

    mutating func parseAttrName() throws -> AttrName {
        switch tok {
        case .id(let n): advance(); return .name(n)
        case .kwOr: advance(); return .name("or")
        case .strStart:
            let e = try parseString()
            if let c = e as? ConstExpr, case .string(let s) = c.value { return .name(s.value) }
            return .dynamic(e)
        case .interpStart:
            advance()
            let e = try parseExpr()
            try expect(.rbrace)
            if let c = e as? ConstExpr, case .string(let s) = c.value { return .name(s.value) }
            return .dynamic(e)
        default:
            throw unexpected()
        }
    }

    // MARK: Simple expressions

    mutating func parseSimple() throws -> Expr {
        let start = offset
        switch tok {
        case .id(let n):
            advance()
            if n == "__curPos" {
                let sp = span(start)
                return ConstExpr(mkAttrs(["file": .str(file.name), "line": .int(Int64(sp.line)), "column": .int(Int64(sp.column))]), span: sp)
            }
            return VarExpr(n, span: span(start))
        case .int(let v):
            advance()
            return ConstExpr(.int(v), span: span(start))
        case .float(let v):
            advance()
            return ConstExpr(.float(v), span: span(start))
        case .uri(let u):
            advance()
            return ConstExpr(.str(u), span: span(start))
        case .path(let p):
            advance()
            return ConstExpr(.path(resolvePath(p)), span: span(start))
        case .hpath(let p):
            advance()
            let h = home ?? ""
            return ConstExpr(.path(canonicalizePath(h + "/" + p.dropFirst(2))), span: span(start))
        case .spath(let p):
            advance()
            // `<p>` is `__findFile __nixPath "p"`, both looked up lexically as in Nix.
            let sp = span(start)
            return CallExpr(VarExpr("__findFile", span: sp), [VarExpr("__nixPath", span: sp), ConstExpr(.str(p), span: sp)], span: sp)
        case .pathStart:
            return try parsePathInterp()
        case .strStart:
            return try parseString()
        case .indStart:
            return try parseIndString()
        case .lparen:
            advance()
            let e = try parseExpr()
            try expect(.rparen)
            return e
        case .lbrack:
            advance()
            var items: [Expr] = []
            while tok != .rbrack {
                if tok == .eof { throw unexpected("']'") }
                items.append(try parseSelect())
            }
            advance()
            return ListExpr(items, span: span(start))
        case .kwRec:
            advance()
            guard tok == .lbrace else { throw unexpected("'{'") }
            advance()
            let a = AttrsExpr(rec: true, span: span(start))
            try parseBinds(into: a, isLet: false)
            try expect(.rbrace)
            return a
        case .lbrace:
            advance()
            let a = AttrsExpr(rec: false, span: span(start))
            try parseBinds(into: a, isLet: false)
            try expect(.rbrace)
            return a
        case .kwLet where peekKind(1) == .lbrace:
            advance(); advance()
            let a = AttrsExpr(rec: true, span: span(start))
            try parseBinds(into: a, isLet: false)
            try expect(.rbrace)
            return SelectExpr(a, [.name("body")], nil, span: span(start))
        default:
            throw unexpected()
        }
    }

    func resolvePath(_ p: String) -> String {
        if p.hasPrefix("/") { return canonicalizePath(p) }
        return canonicalizePath(baseDir + "/" + p)
    }

    mutating func parsePathInterp() throws -> Expr {
        let start = offset
        advance() // pathStart
        var parts: [Expr] = []
        var first = true
        while tok != .pathEnd {
            switch tok {
            case .strPart(let s):
                let at = offset
                advance()
                var text = s
                if first && !s.hasPrefix("/") { text = baseDir + "/" + s }
                parts.append(ConstExpr(.str(text), span: span(at)))
            case .interpStart:
                advance()
                parts.append(try parseExpr())
                try expect(.rbrace)
            default:
                throw unexpected()
            }
            first = false
        }
        advance()
        return ConcatStringsExpr(parts, isPath: true, span: span(start))
    }

    mutating func parseString() throws -> Expr {
        let start = offset
        try expect(.strStart)
        var parts: [Expr] = []
        while tok != .strEnd {
            switch tok {
            case .strPart(let s):
                parts.append(ConstExpr(.str(s), span: here))
                advance()
            case .interpStart:
                advance()
                parts.append(try parseExpr())
                try expect(.rbrace)
            default:
                throw unexpected("'\"'")
            }
        }
        advance()
        if parts.isEmpty { return ConstExpr(.str(""), span: span(start)) }
        if parts.count == 1, let c = parts[0] as? ConstExpr, case .string = c.value { return ConstExpr(c.value, span: span(start)) }
        return ConcatStringsExpr(parts, isPath: false, span: span(start))
    }

    enum IndPart {
        case text([UInt8], Bool, Int)
        case expr(Expr)
    }

    mutating func parseIndString() throws -> Expr {
        let start = offset
        try expect(.indStart)
        var parts: [IndPart] = []
        while tok != .indEnd {
            switch tok {
            case .indPart(let s, let hasIndent):
                parts.append(.text(Array(s.utf8), hasIndent, offset))
                advance()
            case .interpStart:
                advance()
                parts.append(.expr(try parseExpr()))
                try expect(.rbrace)
            default:
                throw unexpected("\"''\"")
            }
        }
        advance()
        return stripIndentation(parts, span(start))
    }

    func stripIndentation(_ es: [IndPart], _ sp: Span) -> Expr {
        if es.isEmpty { return ConstExpr(.str(""), span: sp) }
        var atStartOfLine = true
        var minIndent = 1000000
        var curIndent = 0
        for p in es {
            guard case .text(let bytes, true, _) = p else {
                if atStartOfLine {
                    atStartOfLine = false
                    if curIndent < minIndent { minIndent = curIndent }
                }
                continue
            }
            for c in bytes {
                if atStartOfLine {
                    if c == 32 { curIndent += 1 }
                    else if c == 10 { curIndent = 0 }
                    else {
                        atStartOfLine = false
                        if curIndent < minIndent { minIndent = curIndent }
                    }
                } else if c == 10 {
                    atStartOfLine = true
                    curIndent = 0
                }
            }
        }
        var out: [Expr] = []
        atStartOfLine = true
        var curDropped = 0
        var n = es.count
        for p in es {
            switch p {
            case .expr(let e):
                atStartOfLine = false
                curDropped = 0
                out.append(e)
            case .text(let bytes, _, let off):
                var s2: [UInt8] = []
                for c in bytes {
                    if atStartOfLine {
                        if c == 32 {
                            if curDropped >= minIndent { s2.append(c) }
                            curDropped += 1
                        } else if c == 10 {
                            curDropped = 0
                            s2.append(c)
                        } else {
                            atStartOfLine = false
                            curDropped = 0
                            s2.append(c)
                        }
                    } else {
                        s2.append(c)
                        if c == 10 { atStartOfLine = true }
                    }
                }
                if n == 1, let p = s2.lastIndex(of: 10) {
                    if s2[(p + 1)...].allSatisfy({ $0 == 32 }) { s2.removeSubrange((p + 1)...) }
                }
                out.append(ConstExpr(.str(String(decoding: s2, as: UTF8.self)), span: span(off)))
            }
            n -= 1
        }
        if out.count == 1, let c = out[0] as? ConstExpr, case .string = c.value { return ConstExpr(c.value, span: sp) }
        return ConcatStringsExpr(out, isPath: false, span: sp)
    }

    // MARK: Bindings

    mutating func parseBinds(into attrs: AttrsExpr, isLet: Bool) throws {
        while true {
            switch tok {
            case .rbrace, .kwIn, .eof:
                return
            case .kwInherit:
                let at = offset
                advance()
                var from: Expr? = nil
                if tok == .lparen {
                    advance()
                    from = try parseExpr()
                    try expect(.rparen)
                }
                while tok != .semi {
                    let nameOff = offset
                    let n = try parseAttrName()
                    guard case .name(let name) = n else {
                        throw NixError(.parse, "dynamic attributes not allowed in inherit", span: span(nameOff))
                    }
                    if attrs.defs[name] != nil {
                        throw NixError(.duplicateAttribute, "attribute '\(name)' already defined at \(locString(attrs.defs[name]?.span))", span: span(nameOff))
                    }
                    let sp = span(nameOff)
                    let def: AttrDef
                    if let f = from {
                        def = AttrDef(SelectExpr(f, [.name(name)], nil, span: sp), inherited: false, span: sp)
                    } else {
                        def = AttrDef(VarExpr(name, span: sp), inherited: true, span: sp)
                    }
                    attrs.names.append(name)
                    attrs.defs[name] = def
                }
                _ = at
                advance()
            default:
                let at = offset
                let path = try parseAttrPath()
                try expect(.assign)
                let e = try parseExpr()
                try expect(.semi)
                try addAttr(attrs, path, e, span(at), isLet: isLet)
            }
        }
    }

    func locString(_ s: Span?) -> String {
        guard let s else { return "«unknown»" }
        return "\(s.file.name):\(s.line):\(s.column)"
    }

    func pathString(_ p: [AttrName]) -> String {
        p.map { n -> String in
            if case .name(let s) = n { return s }
            return "\"${...}\""
        }.joined(separator: ".")
    }

    func addAttr(_ top: AttrsExpr, _ path: [AttrName], _ e: Expr, _ sp: Span, isLet: Bool) throws {
        var attrs = top
        if isLet {
            if case .dynamic = path[0] {
                throw NixError(.parse, "dynamic attributes not allowed in let", span: sp)
            }
        }
        for n in path.dropLast() {
            switch n {
            case .name(let s):
                if let d = attrs.defs[s] {
                    guard !d.inherited, let a2 = d.expr as? AttrsExpr else {
                        throw NixError(.duplicateAttribute, "attribute '\(pathString(path))' already defined at \(locString(d.span))", span: sp)
                    }
                    attrs = a2
                } else {
                    let nested = AttrsExpr(rec: false, span: sp)
                    attrs.names.append(s)
                    attrs.defs[s] = AttrDef(nested, inherited: false, span: sp)
                    attrs = nested
                }
            case .dynamic(let ne):
                let nested = AttrsExpr(rec: false, span: sp)
                attrs.dynamic.append(DynamicAttrDef(name: ne, value: nested, span: sp))
                attrs = nested
            }
        }
        guard let last = path.last else { return }
        switch last {
        case .name(let s):
            if let d = attrs.defs[s] {
                if let ae = e as? AttrsExpr, !d.inherited, let j = d.expr as? AttrsExpr {
                    for n in ae.names {
                        guard let ad = ae.defs[n] else { continue }
                        if let j2 = j.defs[n] {
                            throw NixError(.duplicateAttribute, "attribute '\(n)' already defined at \(locString(j2.span))", span: ad.span)
                        }
                        j.names.append(n)
                        j.defs[n] = ad
                    }
                    j.dynamic.append(contentsOf: ae.dynamic)
                } else {
                    throw NixError(.duplicateAttribute, "attribute '\(pathString(path))' already defined at \(locString(d.span))", span: sp)
                }
            } else {
                attrs.names.append(s)
                attrs.defs[s] = AttrDef(e, inherited: false, span: sp)
            }
        case .dynamic(let ne):
            attrs.dynamic.append(DynamicAttrDef(name: ne, value: e, span: sp))
        }
    }
}
