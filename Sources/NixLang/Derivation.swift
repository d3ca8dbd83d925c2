import Foundation

// MARK: - Store paths (as Nix computes them)

let nixBase32Chars = Array("0123456789abcdfghijklmnpqrsvwxyz".utf8)

/// Nix's base-32 encoding of a hash.
func nixBase32(_ hash: [UInt8]) -> String {
    if hash.isEmpty { return "" }
    let len = (hash.count * 8 - 1) / 5 + 1
    var out: [UInt8] = []
    out.reserveCapacity(len)
    for n in stride(from: len - 1, through: 0, by: -1) {
        let b = n * 5, i = b / 8, j = b % 8
        let lo = Int(hash[i]) >> j
        let hi = i >= hash.count - 1 ? 0 : Int(hash[i + 1]) << (8 - j)
        out.append(nixBase32Chars[(lo | hi) & 0x1f])
    }
    return String(decoding: out, as: UTF8.self)
}

func nixBase32Decode(_ s: String) -> [UInt8]? {
    let chars = Array(s.utf8)
    let size = chars.count * 5 / 8
    var out = [UInt8](repeating: 0, count: size)
    for (n, c) in chars.reversed().enumerated() {
        guard let digit = nixBase32Chars.firstIndex(of: c) else { return nil }
        let b = n * 5, i = b / 8, j = b % 8
        guard i < size else { if digit >> (8 - j) != 0 { return nil }; continue }
        out[i] |= UInt8(truncatingIfNeeded: digit << j)
        if i + 1 < size { out[i + 1] |= UInt8(truncatingIfNeeded: digit >> (8 - j)) } else if digit >> (8 - j) != 0 { return nil }
    }
    return out
}

func hexString(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

func hexDecode(_ s: String) -> [UInt8]? {
    let c = Array(s.utf8)
    guard c.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    var i = 0
    while i < c.count {
        guard let v = UInt8(String(decoding: c[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
        out.append(v)
        i += 2
    }
    return out
}

func compressHash(_ h: [UInt8], _ size: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: size)
    for (i, b) in h.enumerated() { out[i % size] ^= b }
    return out
}

/// `makeStorePath` of Nix: `/nix/store/<hash>-<name>`.
public func makeStorePath(type: String, hash: [UInt8], name: String, storeDir: String = "/nix/store") -> String {
    let s = "\(type):sha256:\(hexString(hash)):\(storeDir):\(name)"
    return storeDir + "/" + nixBase32(compressHash(sha256(Array(s.utf8)), 20)) + "-" + name
}

// MARK: - derivationStrict

struct DrvOutput {
    var path: String
    var hashAlgo: String
    var hash: String
}

func atermString(_ s: String) -> String {
    var o = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": o += "\\\""
        case "\\": o += "\\\\"
        case "\n": o += "\\n"
        case "\r": o += "\\r"
        case "\t": o += "\\t"
        default: o.unicodeScalars.append(c)
        }
    }
    return o + "\""
}

struct Derivation {
    var outputs: [String: DrvOutput] = [:]
    var inputDrvs: [String: Set<String>] = [:]
    var inputSrcs: Set<String> = []
    var platform = ""
    var builder = ""
    var args: [String] = []
    var env: [String: String] = [:]

    func aterm(inputDrvsOverride: [String: Set<String>]? = nil) -> String {
        let inDrvs = inputDrvsOverride ?? inputDrvs
        var s = "Derive(["
        s += outputs.keys.sorted(by: nixLess).map { k in
            let o = outputs[k] ?? DrvOutput(path: "", hashAlgo: "", hash: "")
            return "(\(atermString(k)),\(atermString(o.path)),\(atermString(o.hashAlgo)),\(atermString(o.hash)))"
        }.joined(separator: ",")
        s += "],["
        s += inDrvs.keys.sorted(by: nixLess).map { k in
            "(\(atermString(k)),[" + (inDrvs[k] ?? []).sorted(by: nixLess).map(atermString).joined(separator: ",") + "])"
        }.joined(separator: ",")
        s += "],["
        s += inputSrcs.sorted(by: nixLess).map(atermString).joined(separator: ",")
        s += "],\(atermString(platform)),\(atermString(builder)),["
        s += args.map(atermString).joined(separator: ",")
        s += "],["
        s += env.keys.sorted(by: nixLess).map { "(\(atermString($0)),\(atermString(env[$0] ?? "")))" }.joined(separator: ",")
        s += "])"
        return s
    }
}

extension Evaluator {
    /// hashDerivationModulo: fixed-output derivations hash their output; others hash their ATerm with inputs replaced.
    func hashModulo(_ drv: Derivation) -> [UInt8] {
        if drv.outputs.count == 1, let o = drv.outputs["out"], !o.hash.isEmpty {
            return sha256(Array("fixed:out:\(o.hashAlgo):\(o.hash):\(o.path)".utf8))
        }
        var inputs: [String: Set<String>] = [:]
        for (p, outs) in drv.inputDrvs {
            let h = drvHashes[p].map(hexString) ?? hexString(sha256(Array(p.utf8)))
            inputs[h, default: []].formUnion(outs)
        }
        return sha256(Array(drv.aterm(inputDrvsOverride: inputs).utf8))
    }

    func derivationStrict(_ attrs: AttrSet) throws -> Value {
        guard let nameT = attrs["name"] else { throw NixError(.missingAttribute, "required attribute 'name' missing") }
        let drvName = try forceStringNoCtx(nameT.force(self), nil)
        var drv = Derivation()
        var context = Set<String>()
        var outputs = ["out"]
        var ignoreNulls = false
        if let t = attrs["__ignoreNulls"] { ignoreNulls = try forceBool(t) }
        var outputHash: String?, outputHashAlgo = "", outputHashMode = "flat"
        for key in attrs.sortedNames {
            guard let t = attrs[key], key != "__ignoreNulls" else { continue }
            do {
                let v = try t.force(self)
                if ignoreNulls, case .null = v { continue }
                if key == "args" {
                    guard case .list(let l) = v else { throw typeError("value is \(v.typeDescription) while a list was expected") }
                    for a in l {
                        let s = try coerceToString(a.force(self), span: nil, coerceMore: true, copyToStore: true)
                        context.formUnion(s.context)
                        drv.args.append(s.value)
                    }
                    continue
                }
                let s = try coerceToString(v, span: nil, coerceMore: true, copyToStore: true)
                context.formUnion(s.context)
                drv.env[key] = s.value
                switch key {
                case "builder": drv.builder = s.value
                case "system": drv.platform = s.value
                case "outputHash": outputHash = s.value
                case "outputHashAlgo": outputHashAlgo = s.value
                case "outputHashMode": outputHashMode = s.value
                case "outputs":
                    if case .list(let l) = v {
                        outputs = try l.map { try forceStringNoCtx($0.force(self), nil) }
                    } else {
                        outputs = s.value.split(separator: " ").map(String.init)
                    }
                    if outputs.isEmpty { throw NixError(.invalidValue, "derivation cannot have an empty set of outputs") }
                default: break
                }
            } catch let e as NixError {
                throw e.withContext("while evaluating the attribute '\(key)' of the derivation '\(drvName)'")
            }
        }
        for c in context {
            if c.hasPrefix("=") {
                let p = String(c.dropFirst())
                drv.inputDrvs[p, default: []].formUnion(drvOutputs[p] ?? ["out"])
            } else if c.hasPrefix("!") {
                let rest = c.dropFirst()
                guard let bang = rest.firstIndex(of: "!") else { continue }
                drv.inputDrvs[String(rest[rest.index(after: bang)...]), default: []].insert(String(rest[..<bang]))
            } else {
                drv.inputSrcs.insert(c)
            }
        }
        if let oh = outputHash {
            var algo = outputHashAlgo
            var hashBytes: [UInt8]?
            if algo.isEmpty, let dash = oh.firstIndex(of: "-") { // SRI
                algo = String(oh[..<dash])
                hashBytes = Data(base64Encoded: String(oh[oh.index(after: dash)...])).map { [UInt8]($0) }
            } else if oh.count == 64 {
                hashBytes = hexDecode(oh)
            } else if oh.count == 52 {
                hashBytes = nixBase32Decode(oh)
            } else if let d = Data(base64Encoded: oh) {
                hashBytes = [UInt8](d)
            }
            guard let hb = hashBytes, algo == "sha256", hb.count == 32 else {
                throw NixError(.invalidValue, "unsupported output hash '\(oh)' (only sha256 is supported)")
            }
            let recursive = outputHashMode == "recursive"
            let path: String
            if recursive {
                path = makeStorePath(type: "source", hash: hb, name: drvName)
            } else {
                let inner = sha256(Array("fixed:out:sha256:\(hexString(hb)):".utf8))
                path = makeStorePath(type: "output:out", hash: inner, name: drvName)
            }
            drv.outputs["out"] = DrvOutput(path: path, hashAlgo: (recursive ? "r:" : "") + "sha256", hash: hexString(hb))
            drv.env["out"] = path
        } else {
            for o in outputs {
                drv.env[o] = ""
                drv.outputs[o] = DrvOutput(path: "", hashAlgo: "", hash: "")
            }
            let h = hashModulo(drv)
            for o in outputs {
                let p = makeStorePath(type: "output:" + o, hash: h, name: drvName + (o == "out" ? "" : "-" + o))
                drv.env[o] = p
                drv.outputs[o] = DrvOutput(path: p, hashAlgo: "", hash: "")
            }
        }
        let aterm = drv.aterm()
        let refs = (drv.inputSrcs.union(drv.inputDrvs.keys)).sorted(by: nixLess)
        let drvPath = makeStorePath(type: "text" + refs.map { ":" + $0 }.joined(), hash: sha256(Array(aterm.utf8)), name: drvName + ".drv")
        drvHashes[drvPath] = hashModulo(drv)
        drvOutputs[drvPath] = Set(drv.outputs.keys)
        derivations[drvPath] = aterm
        var result: [String: Thunk] = ["drvPath": Thunk(value: .string(NixString(drvPath, context: ["=" + drvPath])))]
        for (o, out) in drv.outputs {
            result[o] = Thunk(value: .string(NixString(out.path, context: ["!\(o)!" + drvPath])))
        }
        return .attrs(AttrSet(result))
    }
}

let derivationNixSource = """
drvAttrs @ { outputs ? [ "out" ], ... }:
let
  strict = derivationStrict drvAttrs;
  commonAttrs = drvAttrs // (builtins.listToAttrs outputsList) //
    { all = map (x: x.value) outputsList;
      inherit drvAttrs;
    };
  outputToAttrListElement = outputName:
    { name = outputName;
      value = commonAttrs // {
        outPath = builtins.getAttr outputName strict;
        drvPath = strict.drvPath;
        type = "derivation";
        inherit outputName;
      };
    };
  outputsList = map outputToAttrListElement outputs;
in (builtins.head outputsList).value
"""
