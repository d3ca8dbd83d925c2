import Foundation

// MARK: - Forcing helpers used by builtins

extension Evaluator {
    func forceInt(_ t: Thunk, _ fn: String) throws -> Int64 {
        let v = try t.force(self)
        guard case .int(let i) = v else { throw typeError("value is \(v.typeDescription) while an integer was expected") }
        return i
    }

    func forceBool(_ t: Thunk) throws -> Bool {
        let v = try t.force(self)
        guard case .bool(let b) = v else { throw typeError("value is \(v.typeDescription) while a Boolean was expected") }
        return b
    }

    func forceList(_ t: Thunk) throws -> [Thunk] {
        let v = try t.force(self)
        guard case .list(let l) = v else { throw typeError("value is \(v.typeDescription) while a list was expected") }
        return l
    }

    func forceAttrs(_ t: Thunk) throws -> AttrSet {
        let v = try t.force(self)
        guard case .attrs(let a) = v else { throw typeError("value is \(v.typeDescription) while a set was expected") }
        return a
    }

    func forceFunction(_ t: Thunk) throws -> Value {
        let v = try t.force(self)
        switch v {
        case .lambda, .primop: return v
        case .attrs(let a) where a["__functor"] != nil: return v
        default: throw typeError("value is \(v.typeDescription) while a function was expected")
        }
    }

    func forceString(_ t: Thunk) throws -> NixString {
        let v = try t.force(self)
        guard case .string(let s) = v else { throw typeError("value is \(v.typeDescription) while a string was expected") }
        return s
    }

    /// A string, or something coercible to one (paths, sets with outPath/__toString).
    func coerceString(_ t: Thunk, copyToStore: Bool = false) throws -> NixString {
        try coerceToString(t.force(self), span: nil, coerceMore: false, copyToStore: copyToStore)
    }

    /// `f a`, lazily (one object: no argument array, no closure context).
    func lazyCall(_ f: Thunk, _ a: Thunk) -> Thunk { Thunk(apply: f, a) }

    /// `f a b`, lazily.
    func lazyCall(_ f: Thunk, _ a: Thunk, _ b: Thunk) -> Thunk { Thunk(apply: f, a, b) }

    func lazyCall(_ f: Value, _ args: [Thunk]) -> Thunk {
        Thunk(lazy: { [unowned self] in
            var r = f
            for a in args { r = try self.apply(r, a, span: nil) }
            return r
        })
    }

    func call(_ f: Value, _ args: Thunk...) throws -> Value {
        var r = f
        for a in args { r = try apply(r, a, span: nil) }
        return r
    }
}

func mkAttrs(_ d: [String: Value]) -> Value {
    .attrs(AttrSet(d.mapValues { Thunk(value: $0) }))
}

// MARK: - Builtins table

extension Evaluator {
    func setupBuiltins() {
        let b = builtinsSet
        func def(_ name: String, _ arity: Int, global: Bool = false, _ body: @escaping (Evaluator, [Thunk]) throws -> Value) {
            let v = Value.primop(PrimOp(name: name, arity: arity, body))
            b.set(name, Thunk(value: v))
            addGlobal("__" + name, Thunk(value: v))
            if global { addGlobal(name, Thunk(value: v)) }
        }
        func const(_ name: String, _ v: Value, global: Bool = false) {
            b.set(name, Thunk(value: v))
            if global { addGlobal(name, Thunk(value: v)) } else { addGlobal("__" + name, Thunk(value: v)) }
        }

        const("true", .bool(true), global: true)
        const("false", .bool(false), global: true)
        const("null", .null, global: true)
        const("langVersion", .int(6))
        const("nixVersion", .str("2.8.0"))
        const("storeDir", .str("/nix/store"))
        const("currentSystem", .str(currentSystem))
        const("currentTime", .int(Int64(Date().timeIntervalSince1970)))
        b.set("builtins", Thunk(value: .attrs(b)))
        addGlobal("builtins", Thunk(value: .attrs(b)))
        let nixPath = Thunk(lazy: { [unowned self] in
            .list(self.searchPathEntries.map { e in
                Thunk(value: mkAttrs(["prefix": .str(e.prefix), "path": .str(e.path)]))
            })
        })
        b.set("nixPath", nixPath)
        addGlobal("__nixPath", nixPath)

        // MARK: Control
        def("import", 1, global: true) { ev, a in
            let v = try a[0].force(ev)
            let p: String
            switch v {
            case .path(let x): p = x
            default:
                let s = try ev.coerceToString(v, span: nil, coerceMore: false, copyToStore: false).value
                guard s.hasPrefix("/") else { throw NixError(.importError, "string '\(s)' doesn't represent an absolute path") }
                p = s
            }
            return try ev.importFile(canonicalizePath(p), span: nil)
        }
        def("throw", 1, global: true) { ev, a in
            let s = try ev.coerceString(a[0])
            throw NixError(.thrown, s.value)
        }
        def("abort", 1, global: true) { ev, a in
            let s = try ev.coerceString(a[0])
            throw NixError(.abort, "evaluation aborted with the following error message: '\(s.value)'")
        }
        def("addErrorContext", 2) { ev, a in
            do { return try a[1].force(ev) } catch let e as NixError {
                if let s = try? ev.coerceString(a[0]) { throw e.withContext(s.value) }
                throw e
            }
        }
        def("seq", 2) { ev, a in _ = try a[0].force(ev); return try a[1].force(ev) }
        def("deepSeq", 2) { ev, a in try ev.deepSeq(a[0].force(ev)); return try a[1].force(ev) }
        def("trace", 2) { ev, a in
            let v = try a[0].force(ev)
            if case .string(let s) = v { ev.traceHandler(s.value) } else { ev.traceHandler((try? ev.printValue(v)) ?? "<value>") }
            return try a[1].force(ev)
        }
        def("tryEval", 1) { ev, a in
            let savedDepth = ev.depth
            do {
                let v = try a[0].force(ev)
                return mkAttrs(["success": .bool(true), "value": v])
            } catch let e as NixError where e.kind == .thrown || e.kind == .assertion {
                ev.depth = savedDepth
                return mkAttrs(["success": .bool(false), "value": .bool(false)])
            }
        }
        def("getEnv", 1) { ev, a in .str(ev.io.getEnv(try ev.forceString(a[0]).value) ?? "") }

        // MARK: Types
        def("typeOf", 1) { ev, a in .str(try a[0].force(ev).typeName) }
        def("isNull", 1, global: true) { ev, a in .bool(try a[0].force(ev).isNull) }
        def("isAttrs", 1) { ev, a in if case .attrs = try a[0].force(ev) { return .bool(true) }; return .bool(false) }
        def("isList", 1) { ev, a in if case .list = try a[0].force(ev) { return .bool(true) }; return .bool(false) }
        def("isFunction", 1) { ev, a in .bool(try a[0].force(ev).isFunction) }
        def("isString", 1) { ev, a in if case .string = try a[0].force(ev) { return .bool(true) }; return .bool(false) }
        def("isInt", 1) { ev, a in if case .int = try a[0].force(ev) { return .bool(true) }; return .bool(false) }
        def("isBool", 1) { ev, a in if case .bool = try a[0].force(ev) { return .bool(true) }; return .bool(false) }
        def("isFloat", 1) { ev, a in if case .float = try a[0].force(ev) { return .bool(true) }; return .bool(false) }
        def("isPath", 1) { ev, a in if case .path = try a[0].force(ev) { return .bool(true) }; return .bool(false) }

        // MARK: Attribute sets
        def("attrNames", 1) { ev, a in .list(try ev.forceAttrs(a[0]).sortedNames.map { Thunk(value: .str($0)) }) }
        def("attrValues", 1) { ev, a in
            let s = try ev.forceAttrs(a[0])
            return .list(s.values)
        }
        def("hasAttr", 2) { ev, a in
            let n = try ev.forceString(a[0]).value
            return .bool(try ev.forceAttrs(a[1]).has(n))
        }
        def("getAttr", 2) { ev, a in
            let n = try ev.forceString(a[0]).value
            guard let t = try ev.forceAttrs(a[1]).lookup(n) else { throw NixError(.missingAttribute, "attribute '\(n)' missing") }
            return try t.force(ev)
        }
        def("unsafeGetAttrPos", 2) { ev, a in
            let n = try ev.forceString(a[0]).value
            let s = try ev.forceAttrs(a[1])
            guard let sp = s.position(n) else { return .null }
            return mkAttrs(["file": .str(sp.file.name), "line": .int(Int64(sp.line)), "column": .int(Int64(sp.column))])
        }
        def("mapAttrs", 2) { ev, a in
            let f = a[0]
            let s = try ev.forceAttrs(a[1])
            // Same names: the result shares them (and their positions).
            var values: [Thunk] = []
            values.reserveCapacity(s.count)
            for (k, t) in zip(s.sortedNames, s.values) { values.append(ev.lazyCall(f, Thunk(value: .str(k)), t)) }
            return .attrs(AttrSet(keys: s.keys, values: values, positions: s.positions))
        }
        def("listToAttrs", 1) { ev, a in
            let list = try ev.forceList(a[0])
            var entries: [(name: String, value: Thunk)] = []
            entries.reserveCapacity(list.count)
            let nameH = nameHash("name"), valueH = nameHash("value")
            for t in list {
                let e = try ev.forceAttrs(t)
                guard let nt = e["name", nameH] else { throw NixError(.missingAttribute, "attribute 'name' missing") }
                let n = try ev.forceString(nt).value
                guard let vt = e["value", valueH] else { throw NixError(.missingAttribute, "attribute 'value' missing") }
                entries.append((n, vt))
            }
            return .attrs(AttrSet(entries: entries))
        }
        def("catAttrs", 2) { ev, a in
            let n = try ev.forceString(a[0]).value
            let h = nameHash(n)
            var out: [Thunk] = []
            for t in try ev.forceList(a[1]) {
                if let v = try ev.forceAttrs(t)[n, h] { out.append(v) }
            }
            return .list(out)
        }
        def("removeAttrs", 2, global: true) { ev, a in
            let s = try ev.forceAttrs(a[0])
            var drop = Set<Int>()
            for t in try ev.forceList(a[1]) {
                let n = try ev.forceString(t).value
                if let i = s.keys.index(of: n, hash: nameHash(n)) { drop.insert(i) }
            }
            return .attrs(s.selecting { !drop.contains($0) })
        }
        def("intersectAttrs", 2) { ev, a in
            let x = try ev.forceAttrs(a[0]), y = try ev.forceAttrs(a[1])
            return .attrs(y.selecting { x.keys.index(of: y.keys.names[$0], hash: y.keys.hashes[$0]) != nil })
        }
        def("functionArgs", 1) { ev, a in
            let f = try a[0].force(ev)
            switch f {
            case .lambda(let c):
                let formals = c.lambda.formals ?? []
                return .attrs(AttrSet(entries: formals.map { ($0.name, Thunk(value: .bool($0.def != nil))) },
                                      positions: formals.map { $0.span }))
            case .primop: return mkAttrs([:])
            default: throw typeError("'functionArgs' requires a function")
            }
        }
        def("zipAttrsWith", 2) { ev, a in
            let f = a[0]
            var acc: [String: [Thunk]] = [:]
            for t in try ev.forceList(a[1]) {
                let s = try ev.forceAttrs(t)
                for (k, v) in zip(s.sortedNames, s.values) { acc[k, default: []].append(v) }
            }
            var d: [String: Thunk] = [:]
            for (k, vs) in acc { d[k] = ev.lazyCall(f, Thunk(value: .str(k)), Thunk(value: .list(vs))) }
            return .attrs(AttrSet(d))
        }

        // MARK: Lists
        def("length", 1) { ev, a in .int(Int64(try ev.forceList(a[0]).count)) }
        def("head", 1) { ev, a in
            let l = try ev.forceList(a[0])
            guard let h = l.first else { throw NixError(.invalidValue, "list index 0 is out of bounds") }
            return try h.force(ev)
        }
        def("tail", 1) { ev, a in
            let l = try ev.forceList(a[0])
            if l.isEmpty { throw NixError(.invalidValue, "'tail' called on an empty list") }
            return .list(Array(l.dropFirst()))
        }
        def("elemAt", 2) { ev, a in
            let l = try ev.forceList(a[0])
            let i = try ev.forceInt(a[1], "elemAt")
            guard i >= 0, i < Int64(l.count) else { throw NixError(.invalidValue, "list index \(i) is out of bounds") }
            return try l[Int(i)].force(ev)
        }
        def("elem", 2) { ev, a in
            let x = try a[0].force(ev)
            for t in try ev.forceList(a[1]) where try ev.equal(x, t.force(ev), span: nil) { return .bool(true) }
            return .bool(false)
        }
        def("filter", 2) { ev, a in
            let f = try a[0].force(ev)
            var out: [Thunk] = []
            for t in try ev.forceList(a[1]) {
                let r = try ev.apply(f, t, span: nil)
                guard case .bool(let keep) = r else { throw typeError("value is \(r.typeDescription) while a Boolean was expected") }
                if keep { out.append(t) }
            }
            return .list(out)
        }
        def("map", 2, global: true) { ev, a in
            let f = a[0]
            return .list(try ev.forceList(a[1]).map { ev.lazyCall(f, $0) })
        }
        def("concatLists", 1) { ev, a in
            var out: [Thunk] = []
            for t in try ev.forceList(a[0]) { out += try ev.forceList(t) }
            return .list(out)
        }
        def("concatMap", 2) { ev, a in
            let f = try a[0].force(ev)
            var out: [Thunk] = []
            for t in try ev.forceList(a[1]) {
                let r = try ev.apply(f, t, span: nil)
                guard case .list(let l) = r else { throw typeError("value is \(r.typeDescription) while a list was expected") }
                out += l
            }
            return .list(out)
        }
        def("genList", 2) { ev, a in
            let f = a[0]
            let n = try ev.forceInt(a[1], "genList")
            if n < 0 { throw NixError(.invalidValue, "cannot create list of size \(n)") }
            if n > 100_000_000 { throw NixError(.invalidValue, "cannot create list of size \(n)") }
            return .list((0..<Int(n)).map { ev.lazyCall(f, Thunk(value: .int(Int64($0)))) })
        }
        def("foldl'", 3) { ev, a in
            let f = try a[0].force(ev)
            var acc = try a[1].force(ev)
            for t in try ev.forceList(a[2]) {
                acc = try ev.call2(f, Thunk(value: acc), t)
            }
            return acc
        }
        def("all", 2) { ev, a in
            let f = try a[0].force(ev)
            for t in try ev.forceList(a[1]) {
                let r = try ev.apply(f, t, span: nil)
                guard case .bool(let x) = r else { throw typeError("value is \(r.typeDescription) while a Boolean was expected") }
                if !x { return .bool(false) }
            }
            return .bool(true)
        }
        def("any", 2) { ev, a in
            let f = try a[0].force(ev)
            for t in try ev.forceList(a[1]) {
                let r = try ev.apply(f, t, span: nil)
                guard case .bool(let x) = r else { throw typeError("value is \(r.typeDescription) while a Boolean was expected") }
                if x { return .bool(true) }
            }
            return .bool(false)
        }
        def("sort", 2) { ev, a in
            let f = try a[0].force(ev)
            let l = try ev.forceList(a[1])
            if case .primop(let p) = f, p.name == "lessThan", p.applied.isEmpty {
                if let sorted = try sortIntsLessThan(l, ev) { return .list(sorted) }
                // The common `sort lessThan`: compare directly, without building partial applications.
                return .list(try mergeSort(l) { x, y in try ev.less(x.force(ev), y.force(ev), span: nil) })
            }
            let sorted = try mergeSort(l) { x, y in
                let r = try ev.call2(f, x, y)
                guard case .bool(let b) = r else { throw typeError("value is \(r.typeDescription) while a Boolean was expected") }
                return b
            }
            return .list(sorted)
        }
        def("partition", 2) { ev, a in
            let f = try a[0].force(ev)
            var r: [Thunk] = [], w: [Thunk] = []
            for t in try ev.forceList(a[1]) {
                let v = try ev.apply(f, t, span: nil)
                guard case .bool(let x) = v else { throw typeError("value is \(v.typeDescription) while a Boolean was expected") }
                if x { r.append(t) } else { w.append(t) }
            }
            return mkAttrs(["right": .list(r), "wrong": .list(w)])
        }
        def("groupBy", 2) { ev, a in
            let f = try a[0].force(ev)
            var acc: [String: [Thunk]] = [:]
            for t in try ev.forceList(a[1]) {
                let k = try ev.forceString(Thunk(value: ev.apply(f, t, span: nil))).value
                acc[k, default: []].append(t)
            }
            return .attrs(AttrSet(acc.mapValues { Thunk(value: .list($0)) }))
        }
        def("genericClosure", 1) { ev, a in
            let args = try ev.forceAttrs(a[0])
            guard let st = args["startSet"] else { throw NixError(.missingAttribute, "attribute 'startSet' missing") }
            guard let opT = args["operator"] else { throw NixError(.missingAttribute, "attribute 'operator' missing") }
            let op = try opT.force(ev)
            var work = try ev.forceList(st)
            var idx = 0
            var keys: [Value] = []
            var strKeys = Set<String>()
            var intKeys = Set<Int64>()
            var out: [Thunk] = []
            while idx < work.count {
                let t = work[idx]
                idx += 1
                let e = try ev.forceAttrs(t)
                guard let kt = e["key"] else { throw NixError(.missingAttribute, "attribute 'key' missing") }
                let k = try kt.force(ev)
                switch k {
                case .string(let s): if !strKeys.insert(s.value).inserted { continue }
                case .int(let i): if !intKeys.insert(i).inserted { continue }
                default:
                    var found = false
                    for x in keys where try ev.equal(x, k, span: nil) { found = true; break }
                    if found { continue }
                    keys.append(k)
                }
                out.append(t)
                let more = try ev.apply(op, t, span: nil)
                guard case .list(let ml) = more else { throw typeError("value is \(more.typeDescription) while a list was expected") }
                work += ml
            }
            return .list(out)
        }

        // MARK: Arithmetic
        def("add", 2) { ev, a in try ev.add(a[0].force(ev).numeric(), a[1].force(ev).numeric(), span: nil) }
        def("sub", 2) { ev, a in try ev.arith(.sub, a[0].force(ev), a[1].force(ev), span: nil) }
        def("mul", 2) { ev, a in try ev.arith(.mul, a[0].force(ev), a[1].force(ev), span: nil) }
        def("div", 2) { ev, a in try ev.arith(.div, a[0].force(ev), a[1].force(ev), span: nil) }
        def("lessThan", 2) { ev, a in .bool(try ev.less(a[0].force(ev), a[1].force(ev), span: nil)) }
        def("bitAnd", 2) { ev, a in .int(try ev.forceInt(a[0], "") & ev.forceInt(a[1], "")) }
        def("bitOr", 2) { ev, a in .int(try ev.forceInt(a[0], "") | ev.forceInt(a[1], "")) }
        def("bitXor", 2) { ev, a in .int(try ev.forceInt(a[0], "") ^ ev.forceInt(a[1], "")) }

        // MARK: Strings
        def("toString", 1, global: true) { ev, a in
            .string(try ev.coerceToString(a[0].force(ev), span: nil, coerceMore: true, copyToStore: false))
        }
        def("stringLength", 1) { ev, a in .int(Int64(try ev.coerceString(a[0]).value.utf8.count)) }
        def("substring", 3) { ev, a in
            let start = try ev.forceInt(a[0], "substring")
            let len = try ev.forceInt(a[1], "substring")
            let s = try ev.coerceString(a[2])
            if start < 0 { throw NixError(.invalidValue, "negative start position in 'substring'") }
            let bytes = Array(s.value.utf8)
            if start >= Int64(bytes.count) { return .string(NixString("", context: s.context)) }
            let st = Int(start)
            let end = len < 0 ? bytes.count : Int(min(Int64(bytes.count), start &+ min(len, Int64(bytes.count))))
            return .string(NixString(String(decoding: bytes[st..<max(st, end)], as: UTF8.self), context: s.context))
        }
        def("concatStringsSep", 2) { ev, a in
            let sep = try ev.forceString(a[0])
            var ctx = sep.context
            var parts: [String] = []
            for t in try ev.forceList(a[1]) {
                let s = try ev.coerceString(t, copyToStore: true)
                ctx.formUnion(s.context)
                parts.append(s.value)
            }
            return .string(NixString(parts.joined(separator: sep.value), context: ctx))
        }
        def("replaceStrings", 3) { ev, a in
            let from = try ev.forceList(a[0]).map { Array(try ev.forceString($0).value.utf8) }
            let toL = try ev.forceList(a[1])
            if from.count != toL.count { throw NixError(.invalidValue, "'from' and 'to' arguments to 'replaceStrings' have different lengths") }
            let to = try toL.map { try ev.forceString($0) }
            let s = try ev.forceString(a[2])
            var ctx = s.context
            let src = Array(s.value.utf8)
            var res: [UInt8] = []
            var p = 0
            while p <= src.count {
                var found = false
                for (i, f) in from.enumerated() {
                    if p + f.count <= src.count && src[p..<(p + f.count)].elementsEqual(f) {
                        found = true
                        res += Array(to[i].value.utf8)
                        ctx.formUnion(to[i].context)
                        if f.isEmpty {
                            if p < src.count { res.append(src[p]) }
                            p += 1
                        } else {
                            p += f.count
                        }
                        break
                    }
                }
                if !found {
                    if p < src.count { res.append(src[p]) }
                    p += 1
                }
            }
            return .string(NixString(String(decoding: res, as: UTF8.self), context: ctx))
        }
        def("match", 2) { ev, a in
            let pattern = try ev.forceString(a[0]).value
            let re = try ev.regex(pattern)
            let s = Array(try ev.forceString(a[1]).value.utf8)
            guard let groups = try ev.runRegex(pattern, { try re.wholeMatch(s) }) else { return .null }
            return .list(groups.map { r in Thunk(value: r.map { .str(String(decoding: s[$0], as: UTF8.self)) } ?? .null) })
        }
        def("split", 2) { ev, a in
            let pattern = try ev.forceString(a[0]).value
            let re = try ev.regex(pattern)
            let s = Array(try ev.forceString(a[1]).value.utf8)
            func text(_ r: Range<Int>) -> Thunk { Thunk(value: .str(String(decoding: s[r], as: UTF8.self))) }
            var out: [Thunk] = []
            var last = 0
            // std::sregex_iterator: after an empty match, a non-empty one at the same place,
            // else the search goes on one byte further; it stops after an empty match at the end.
            var m = try ev.runRegex(pattern, { try re.firstMatch(s, from: 0, prevAvail: false) })
            while let (whole, groups) = m {
                out.append(text(last..<whole.lowerBound))
                out.append(Thunk(value: .list(groups.map { r in r.map(text) ?? Thunk(value: .null) })))
                last = whole.upperBound
                if whole.isEmpty {
                    if whole.upperBound == s.count { break }
                    m = try ev.runRegex(pattern, { try re.firstMatch(s, from: whole.upperBound, continuousNonEmpty: true, prevAvail: true) })
                    if m == nil { m = try ev.runRegex(pattern, { try re.firstMatch(s, from: whole.upperBound + 1, prevAvail: true) }) }
                } else {
                    m = try ev.runRegex(pattern, { try re.firstMatch(s, from: whole.upperBound, prevAvail: true) })
                }
            }
            out.append(text(last..<s.count))
            return .list(out)
        }
        def("unsafeDiscardStringContext", 1) { ev, a in .str(try ev.coerceString(a[0]).value) }
        def("unsafeDiscardOutputDependency", 1) { ev, a in .string(try ev.coerceString(a[0])) }
        def("hasContext", 1) { ev, a in .bool(!(try ev.forceString(a[0]).context.isEmpty)) }
        def("getContext", 1) { ev, a in
            let s = try ev.forceString(a[0])
            var info: [String: (path: Bool, all: Bool, outs: [String])] = [:]
            for c in s.context {
                if c.hasPrefix("=") {
                    info[String(c.dropFirst()), default: (false, false, [])].all = true
                } else if c.hasPrefix("!") {
                    let rest = c.dropFirst()
                    guard let bang = rest.firstIndex(of: "!") else { continue }
                    info[String(rest[rest.index(after: bang)...]), default: (false, false, [])].outs.append(String(rest[..<bang]))
                } else {
                    info[c, default: (false, false, [])].path = true
                }
            }
            var d: [String: Value] = [:]
            for (k, v) in info {
                var e: [String: Value] = [:]
                if v.path { e["path"] = .bool(true) }
                if v.all { e["allOutputs"] = .bool(true) }
                if !v.outs.isEmpty { e["outputs"] = .list(v.outs.sorted(by: nixLess).map { Thunk(value: .str($0)) }) }
                d[k] = mkAttrs(e)
            }
            return mkAttrs(d)
        }
        def("appendContext", 2) { ev, a in
            var s = try ev.forceString(a[0])
            let c = try ev.forceAttrs(a[1])
            for (k, t) in zip(c.sortedNames, c.values) {
                let e = try ev.forceAttrs(t)
                if let p = e["path"], try ev.forceBool(p) { s.context.insert(k) }
                if let p = e["allOutputs"], try ev.forceBool(p) { s.context.insert("=" + k) }
                if let o = e["outputs"] {
                    for x in try ev.forceList(o) { s.context.insert("!" + (try ev.forceString(x).value) + "!" + k) }
                }
            }
            return .string(s)
        }
        def("compareVersions", 2) { ev, a in
            .int(Int64(compareVersions(try ev.forceString(a[0]).value, try ev.forceString(a[1]).value)))
        }
        def("splitVersion", 1) { ev, a in
            let s = Array(try ev.forceString(a[0]).value.utf8)
            var p = 0
            var out: [Thunk] = []
            while true {
                let c = nextVersionComponent(s, &p)
                if c.isEmpty { break }
                out.append(Thunk(value: .str(String(decoding: c, as: UTF8.self))))
            }
            return .list(out)
        }
        def("parseDrvName", 1) { ev, a in
            let s = try ev.forceString(a[0]).value
            let bytes = Array(s.utf8)
            var name = s, version = ""
            for i in 0..<bytes.count where bytes[i] == 45 && i + 1 < bytes.count {
                let c = bytes[i + 1]
                if !((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
                    name = String(decoding: bytes[0..<i], as: UTF8.self)
                    version = String(decoding: bytes[(i + 1)...], as: UTF8.self)
                    break
                }
            }
            return mkAttrs(["name": .str(name), "version": .str(version)])
        }
        def("hashString", 2) { ev, a in
            let algo = try ev.forceString(a[0]).value
            let s = try ev.forceString(a[1]).value
            guard let h = hashHex(algo, Array(s.utf8)) else { throw NixError(.invalidValue, "unknown hash algorithm '\(algo)'") }
            return .str(h)
        }
        def("hashFile", 2) { ev, a in
            let algo = try ev.forceString(a[0]).value
            let p = try ev.coerceString(a[1]).value
            guard let h = hashHex(algo, try ev.io.readBytes(p)) else { throw NixError(.invalidValue, "unknown hash algorithm '\(algo)'") }
            return .str(h)
        }
        def("baseNameOf", 1, global: true) { ev, a in
            let s = try ev.coerceToString(a[0].force(ev), span: nil, coerceMore: false, copyToStore: false)
            return .string(NixString(baseNameOf(s.value), context: s.context))
        }
        def("dirOf", 1, global: true) { ev, a in
            let v = try a[0].force(ev)
            if case .path(let p) = v { return .path(dirOf(p)) }
            let s = try ev.coerceToString(v, span: nil, coerceMore: false, copyToStore: false)
            return .string(NixString(dirOf(s.value), context: s.context))
        }
        def("toPath", 1) { ev, a in
            let s = try ev.coerceString(a[0]).value
            guard s.hasPrefix("/") else { throw NixError(.invalidValue, "string '\(s)' doesn't represent an absolute path") }
            return .str(canonicalizePath(s))
        }
        def("floor", 1) { ev, a in
            let v = try a[0].force(ev)
            switch v {
            case .int: return v
            case .float(let f): return .int(try floatToInt(f.rounded(.down), "floor", f))
            default: throw typeError("value is \(v.typeDescription) while a float was expected")
            }
        }
        def("ceil", 1) { ev, a in
            let v = try a[0].force(ev)
            switch v {
            case .int: return v
            case .float(let f): return .int(try floatToInt(f.rounded(.up), "ceil", f))
            default: throw typeError("value is \(v.typeDescription) while a float was expected")
            }
        }
        def("placeholder", 1, global: true) { ev, a in
            .str("/placeholder-" + (try ev.forceString(a[0]).value))
        }

        def("derivationStrict", 1, global: true) { ev, a in try ev.derivationStrict(ev.forceAttrs(a[0])) }
        let derivationThunk = Thunk(lazy: { [unowned self] in
            let e = try self.parse(derivationNixSource, fileName: "<nix/derivation.nix>", baseDir: "/")
            return try self.evalForce(e, self.globalEnv)
        })
        b.set("derivation", derivationThunk)
        addGlobal("derivation", derivationThunk)

        // MARK: JSON
        def("toJSON", 1) { ev, a in
            var out = ""
            var ctx = Set<String>()
            try ev.jsonValue(a[0].force(ev), &out, &ctx)
            return .string(NixString(out, context: ctx))
        }
        def("fromJSON", 1) { ev, a in
            var p = JSONParser(Array(try ev.forceString(a[0]).value.utf8))
            return try p.parseTop()
        }

        def("fromTOML", 1) { ev, a in
            var p = TOMLParser(try ev.forceString(a[0]).value)
            return try p.parse()
        }

        // MARK: Files
        def("pathExists", 1) { ev, a in
            let p = try ev.coerceString(a[0]).value
            return .bool(ev.io.pathExists(canonicalizePath(p)))
        }
        def("readFile", 1) { ev, a in
            let p = try ev.coerceString(a[0]).value
            return .str(try ev.io.readFile(p))
        }
        def("readDir", 1) { ev, a in
            let p = try ev.coerceString(a[0]).value
            // Through the evaluator's I/O, which fails as Nix does for a missing path or a
            // file ("opening directory '…': Not a directory") instead of listing nothing.
            var d: [String: Value] = [:]
            for name in try ev.io.listDirectory(p) {
                let type: String
                switch ev.io.fileKind(p + "/" + name) {
                case .directory: type = "directory"
                case .symlink: type = "symlink"
                case .regular: type = "regular"
                case nil: type = "unknown"
                }
                d[name] = .str(type)
            }
            return mkAttrs(d)
        }
        def("findFile", 2) { ev, a in
            var entries: [(prefix: String, path: String)] = []
            for t in try ev.forceList(a[0]) {
                let e = try ev.forceAttrs(t)
                let prefix = try e.lookup("prefix").map { try ev.forceString($0).value } ?? ""
                guard let pt = try e.lookup("path") else { throw NixError(.missingAttribute, "attribute 'path' missing") }
                entries.append((prefix, try ev.coerceString(pt).value))
            }
            return try ev.findSearchPath(try ev.forceString(a[1]).value, entries: entries, span: nil)
        }
        def("scopedImport", 2, global: true) { ev, a in
            let scope = try ev.forceAttrs(a[0])
            let v = try a[1].force(ev)
            var p = try ev.coerceToString(v, span: nil, coerceMore: false, copyToStore: false).value
            if ev.io.isDirectory(p) { p = canonicalizePath(p + "/default.nix") }
            let src = try ev.io.readFile(p)
            let file = SourceFile(name: p, text: src)
            var parser = try Parser(file: file, baseDir: dirOf(p), home: ev.io.getEnv("HOME"))
            parser.stackLimit = ev.stackLimit
            let e = try parser.parseFile()
            let names = scope.sortedNames
            let sc = Scope(parent: ev.globalScope, ordered: names)
            try e.bind(sc)
            let env = Env(parent: ev.globalEnv, slots: scope.values)
            return try ev.evalForce(e, env)
        }
        def("toXML", 1) { ev, a in
            var out = "<?xml version='1.0' encoding='utf-8'?>\n<expr>\n"
            try ev.xmlValue(a[0].force(ev), &out, indent: "  ")
            out += "</expr>\n"
            return .str(out)
        }
    }

    /// The compiled pattern of builtins.match/split (lib functions use the same few patterns
    /// over and over).
    func regex(_ pattern: String) throws -> Regex {
        if let re = regexCache[pattern] { return re }
        do {
            let re = try Regex(pattern)
            regexCache[pattern] = re
            return re
        } catch {
            throw NixError(.invalidValue, "invalid regular expression '\(pattern)'")
        }
    }

    /// Runs a match, turning the matcher's step limit into an evaluation error.
    func runRegex<T>(_ pattern: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch is RegexError {
            throw NixError(.invalidValue, "regular expression '\(pattern)' is too complex to match")
        }
    }
}

/// A rounded float as an integer. Nix converts with a C cast, which is undefined for NaN,
/// infinities and anything beyond 64 bits (it gives INT64_MIN there); Kiln used to give 0.
/// Either way a wrong number would flow on silently, so it is an error.
func floatToInt(_ rounded: Double, _ builtin: String, _ original: Double) throws -> Int64 {
    guard let i = Int64(exactly: rounded) else {
        throw NixError(.overflow, "builtins.\(builtin): \(formatFloat(original)) does not fit in a 64-bit integer (the range is -9223372036854775808 to 9223372036854775807)")
    }
    return i
}

extension Value {
    func numeric() throws -> Value {
        switch self {
        case .int, .float: return self
        default: throw typeError("value is \(typeDescription) while an integer was expected")
        }
    }
}

// MARK: - Sorting

/// `sort lessThan` of a list of integers, without a comparison closure per step.
/// Forces the elements exactly as `mergeSort` would (its first pass compares the pairs
/// (1, 0), (3, 2), …; a left-over last element is forced later, after comparisons that
/// cannot fail), so errors and traces are the same. Returns nil, having forced only what
/// `mergeSort` forces too, as soon as a non-integer shows up; the caller then sorts the
/// general way (forcing again is free and comparisons have no effects).
func sortIntsLessThan(_ l: [Thunk], _ ev: Evaluator) throws -> [Thunk]? {
    let n = l.count
    if n <= 1 { return nil }
    var keys = [(key: Int64, index: Int)](repeating: (0, 0), count: n)
    var i = 0
    while i + 1 < n {
        guard case .int(let b) = try l[i + 1].force(ev), case .int(let a) = try l[i].force(ev) else { return nil }
        keys[i] = (a, i)
        keys[i + 1] = (b, i + 1)
        i += 2
    }
    if i < n {
        guard case .int(let a) = try l[i].force(ev) else { return nil }
        keys[i] = (a, i)
    }
    // A stable sort: equal keys keep their order.
    keys.sort { x, y in x.key < y.key || (x.key == y.key && x.index < y.index) }
    return keys.map { l[$0.index] }
}

func mergeSort(_ a: [Thunk], _ less: (Thunk, Thunk) throws -> Bool) throws -> [Thunk] {
    if a.count <= 1 { return a }
    var src = a
    var dst = a
    var width = 1
    let n = a.count
    while width < n {
        var i = 0
        while i < n {
            let mid = min(i + width, n), hi = min(i + 2 * width, n)
            var l = i, r = mid, k = i
            while l < mid && r < hi {
                if try less(src[r], src[l]) { dst[k] = src[r]; r += 1 } else { dst[k] = src[l]; l += 1 }
                k += 1
            }
            while l < mid { dst[k] = src[l]; l += 1; k += 1 }
            while r < hi { dst[k] = src[r]; r += 1; k += 1 }
            i += 2 * width
        }
        swap(&src, &dst)
        width *= 2
    }
    return src
}

// MARK: - Versions

func nextVersionComponent(_ s: [UInt8], _ p: inout Int) -> [UInt8] {
    while p < s.count && (s[p] == 46 || s[p] == 45) { p += 1 }
    if p >= s.count { return [] }
    let start = p
    func digit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    if digit(s[p]) {
        while p < s.count && digit(s[p]) { p += 1 }
    } else {
        while p < s.count && !digit(s[p]) && s[p] != 46 && s[p] != 45 { p += 1 }
    }
    return Array(s[start..<p])
}

func componentsLT(_ c1: [UInt8], _ c2: [UInt8]) -> Bool {
    // Nix parses a component with string2Int<int>: digits beyond a 32-bit int are no number.
    func num(_ c: [UInt8]) -> Int32? {
        if c.isEmpty || !c.allSatisfy({ $0 >= 48 && $0 <= 57 }) { return nil }
        return Int32(String(decoding: c, as: UTF8.self))
    }
    let n1 = num(c1), n2 = num(c2)
    let pre = Array("pre".utf8)
    if let a = n1, let b = n2 { return a < b }
    if c1.isEmpty && n2 != nil { return true }
    if c1 == pre && c2 != pre { return true }
    if c2 == pre { return false }
    if n2 != nil { return true }
    if n1 != nil { return false }
    return c1.lexicographicallyPrecedes(c2)
}

func compareVersions(_ v1: String, _ v2: String) -> Int {
    let a = Array(v1.utf8), b = Array(v2.utf8)
    var p1 = 0, p2 = 0
    while p1 < a.count || p2 < b.count {
        let c1 = nextVersionComponent(a, &p1)
        let c2 = nextVersionComponent(b, &p2)
        if componentsLT(c1, c2) { return -1 }
        if componentsLT(c2, c1) { return 1 }
    }
    return 0
}
