import Foundation
import KilnPrimitives

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
            let h = drvHashes[p].map { Hex.encode($0) } ?? Hex.encode(sha256(Array(p.utf8)))
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
                hashBytes = Hex.decode(oh)
            } else if oh.count == 52 {
                hashBytes = NixBase32.decode(oh)
            } else if let d = Data(base64Encoded: oh) {
                hashBytes = [UInt8](d)
            }
            guard let hb = hashBytes, algo == "sha256", hb.count == 32 else {
                throw NixError(.invalidValue, "unsupported output hash '\(oh)' (only sha256 is supported)")
            }
            let recursive = outputHashMode == "recursive"
            let path: String
            if recursive {
                path = StorePathHash.path(type: "source", hash: hb, name: drvName)
            } else {
                let inner = sha256(Array("fixed:out:sha256:\(Hex.encode(hb)):".utf8))
                path = StorePathHash.path(type: "output:out", hash: inner, name: drvName)
            }
            drv.outputs["out"] = DrvOutput(path: path, hashAlgo: (recursive ? "r:" : "") + "sha256", hash: Hex.encode(hb))
            drv.env["out"] = path
        } else {
            for o in outputs {
                drv.env[o] = ""
                drv.outputs[o] = DrvOutput(path: "", hashAlgo: "", hash: "")
            }
            let h = hashModulo(drv)
            for o in outputs {
                let p = StorePathHash.path(type: "output:" + o, hash: h, name: drvName + (o == "out" ? "" : "-" + o))
                drv.env[o] = p
                drv.outputs[o] = DrvOutput(path: p, hashAlgo: "", hash: "")
            }
        }
        let aterm = drv.aterm()
        let refs = (drv.inputSrcs.union(drv.inputDrvs.keys)).sorted(by: nixLess)
        let drvPath = StorePathHash.path(type: "text" + refs.map { ":" + $0 }.joined(), hash: sha256(Array(aterm.utf8)), name: drvName + ".drv")
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
