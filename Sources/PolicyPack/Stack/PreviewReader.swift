import Foundation
import PolicyValues
import HostCore

/// Reads a preview — the digest of `pulumi preview --json` or the engine events of its streaming
/// form (`PULUMI_ENABLE_STREAMING_JSON_PREVIEW`) — into what the engine's analyzers receive during
/// that preview (pkg/resource/deploy/step_generator.go), as far as the file carries it:
///
/// * every resource the program registers is analysed once, on its new inputs, however many steps
///   name it (`--show-replacement-steps` adds `create-replacement` and `delete-replaced`); one the
///   program only reads reaches AnalyzeStack alone; deleted ones are not analysed;
/// * AnalyzeStack gets the outputs the engine would hold after the preview: the file's when it has
///   them (streaming: `resOutputsEvent`), an unchanged resource's old outputs (as `SameStep` keeps
///   them), and otherwise — outputs a provider has not computed yet — the new inputs (laid over the
///   old outputs for an update);
/// * default providers, which the CLI never writes into a preview, are rebuilt as the engine
///   registers them: their package's config (from the preview's `config`) as inputs;
/// * secrets, which the CLI writes as `"[secret]"`, are secrets again (holding `"[secret]"`);
/// * one warning names everything the file could not carry.
struct PreviewReader {
    let file: String

    /// Top-level keys of an engine event (folded), to recognise a one-line event stream.
    static let eventKeys: Set<String> = [
        "RESOURCEPREEVENT", "RESOUTPUTSEVENT", "PRELUDEEVENT", "SUMMARYEVENT", "DIAGNOSTICEVENT", "STDOUTEVENT",
        "CANCELEVENT", "RESOPFAILEDEVENT", "POLICYEVENT",
    ]

    /// One resource state a preview names, with the step it came from.
    struct Step {
        var op: String
        var urn: String
        var new: PlainObject?
        var old: PlainObject?
        var path: String
        var oldPath: String
        /// Whether `new` holds the outputs after the step ran (streaming `resOutputsEvent`).
        var ran: Bool
    }

    /// Ops after which the resource is no longer in the stack.
    static let removing: Set<String> = ["delete", "discard"]
    /// Ops that carry no new state of a live resource.
    static let stateless: Set<String> = [
        "delete-replaced", "discard-replaced", "remove-pending-replace", "diff", "extend-parameterize", "read-discard",
    ]
    /// Ops of resources a program reads (`get`): no Remediate or Analyze.
    static let reads: Set<String> = ["read", "read-replacement"]

    // MARK: Formats

    /// `display.PreviewDigest`.
    func digest(_ value: PlainValue) throws(HostError) -> StackSnapshot {
        var dec = GoDecoder(file: file)
        let d = try dec.decode(value, as: .structure(StateSchema.previewDigest), path: "").objectValue ?? PlainObject()
        let stepsKey = StackSnapshot.writtenKey(value.objectValue ?? PlainObject(), "steps")
        var steps: [Step] = []
        for (i, s) in (d["steps"]?.arrayValue ?? []).enumerated() {
            guard let o = s.objectValue else { continue }
            let new = o["newState"]?.objectValue, old = o["oldState"]?.objectValue
            let urn = [o["urn"], new?["urn"], old?["urn"]].lazy.compactMap { $0?.stringValue }.first { !$0.isEmpty } ?? ""
            steps.append(Step(op: o["op"]?.stringValue ?? "", urn: urn, new: new, old: old,
                              path: "\(stepsKey)[\(i)].newState", oldPath: "\(stepsKey)[\(i)].oldState", ran: false))
        }
        let sameCount = d["changeSummary"]?.objectValue.map { $0["same"]?.intValue ?? 0 }
        var snap = try build(steps, config: d["config"]?.objectValue ?? PlainObject(), sames: sameCount, streaming: false)
        try StackSnapshot.refuseEmpty(snap, unknownKeys: dec.unknownKeys, file: file)
        snap.format = .preview
        return snap
    }

    /// Engine events, one per line: `(line number, event)`.
    func events(_ lines: [(Int, PlainValue)]) throws(HostError) -> StackSnapshot {
        var unknownKeys: [String] = []
        var steps: [Step] = []
        var config = PlainObject()
        for (line, value) in lines {
            var dec = GoDecoder(file: "\(file): line \(line)")
            let e = try dec.decode(value, as: .structure(StateSchema.engineEvent), path: "").objectValue ?? PlainObject()
            unknownKeys += dec.unknownKeys.map { "line \(line): \($0)" }
            if let c = e["preludeEvent"]?["config"]?.objectValue { config = c }
            for (key, ran) in [("resourcePreEvent", false), ("resOutputsEvent", true)] {
                guard let m = e[key]?["metadata"]?.objectValue else { continue }
                let new = m["new"]?.objectValue, old = m["old"]?.objectValue
                let urn = [m["urn"], new?["urn"], old?["urn"]].lazy.compactMap { $0?.stringValue }.first { !$0.isEmpty } ?? ""
                steps.append(Step(op: m["op"]?.stringValue ?? "", urn: urn, new: new, old: old,
                                  path: "line \(line): \(key).metadata.new", oldPath: "line \(line): \(key).metadata.old", ran: ran))
            }
        }
        var snap = try build(steps, config: config, sames: nil, streaming: true)
        try StackSnapshot.refuseEmpty(snap, unknownKeys: unknownKeys, file: file)
        snap.format = .preview
        return snap
    }

    // MARK: Building

    func build(_ steps: [Step], config: PlainObject, sames: Int?, streaming: Bool) throws(HostError) -> StackSnapshot {
        // The last state of each resource, in the order resources first appear.
        var order: [String] = []
        var latest: [String: Step] = [:]
        var sameSteps = Set<String>()
        for s in steps {
            if s.op == "same" { sameSteps.insert(s.urn) }
            if PreviewReader.removing.contains(s.op) {
                if latest.removeValue(forKey: s.urn) != nil { order.removeAll { $0 == s.urn } }
                continue
            }
            guard !PreviewReader.stateless.contains(s.op), s.new != nil else { continue }
            if latest[s.urn] == nil { order.append(s.urn) }
            // An earlier step of a resource that ran keeps its outputs if a later one has none.
            var step = s
            if let prev = latest[s.urn], prev.ran, !s.ran { step = prev }
            latest[s.urn] = step
        }

        var values = PropertyValueReader(file: file, allowsOutputValues: true)
        var redactor = Redactor()
        var resources: [StackResource] = []
        var standIns: [String] = []
        for urn in order {
            guard let s = latest[urn], let new = s.new else { continue }
            var r = try StackResource.fromCanonical(new, path: s.path, file: file, values: &values)
            r.delete = false
            // Redacted secrets and stand-in outputs are added below: encode everything.
            r.inputsPlain = false
            r.outputsPlain = false
            r.inputs = redactor.redact(r.inputs, path: "\(urn):inputs")
            var oldOutputs: PlainObject?
            if let o = s.old {
                oldOutputs = try values.read(o["outputs"]?.objectValue ?? PlainObject(), path: { "\(s.oldPath).outputs" })
            }
            if s.ran || !r.outputs.isEmpty {
                r.outputs = redactor.redact(r.outputs, path: "\(urn):outputs")
            } else if s.op == "same" || PreviewReader.reads.contains(s.op), let oldOutputs {
                r.outputs = redactor.redact(oldOutputs, path: "\(urn):outputs")
            } else {
                var stand = s.op == "update" ? redactor.redact(oldOutputs ?? PlainObject(), path: "\(urn):outputs") : PlainObject()
                for e in r.inputs.entries { stand[e.key] = e.value }
                r.outputs = stand
                standIns.append(r.name)
            }
            r.analyzedAlone = !PreviewReader.reads.contains(s.op)
            resources.append(r)
        }

        // Default providers: internal steps, never written; the engine registers them with the
        // config of their package before the first resource that uses them.
        var present = Set(resources.map(\.urn))
        var rebuilt: [String] = []
        var withProviders: [StackResource] = []
        for r in resources {
            let ref = r.provider
            if !ref.isEmpty, let cut = ref.range(of: "::", options: .backwards) {
                let providerURN = String(ref[..<cut.lowerBound])
                let type = StackResource.typeFromURN(providerURN)
                let name = StackResource.name(ofURN: providerURN)
                if !present.contains(providerURN), StackResource.isValidURN(providerURN), type.hasPrefix("pulumi:providers:"),
                   name.hasPrefix("default") {
                    let package = String(type.dropFirst("pulumi:providers:".count))
                    var inputs = PreviewReader.packageConfig(config, package: package)
                    inputs = redactor.redact(inputs, path: "\(providerURN):inputs")
                    withProviders.append(StackResource(
                        urn: providerURN, type: type, id: String(ref[cut.upperBound...]), custom: true, delete: false, parent: "",
                        provider: "", inputs: inputs, outputs: inputs, dependencies: [], propertyDependencies: [], protect: false,
                        ignoreChanges: [], additionalSecretOutputs: [], aliases: [], customTimeouts: nil))
                    present.insert(providerURN)
                    rebuilt.append(name)
                }
            }
            withProviders.append(r)
        }

        var snap = StackSnapshot(format: .preview, resources: withProviders, secretsProvider: nil, stack: "", project: "")
        snap.version = 0
        var gaps: [String] = []
        if let sames {
            if sames > sameSteps.count {
                gaps.append("\(sames - sameSteps.count) unchanged resource(s) (run `pulumi preview --json --show-sames` to include them)")
            }
        } else if !streaming, sameSteps.isEmpty {
            gaps.append("unchanged resources, if any (unless the preview ran with --show-sames)")
        }
        if !standIns.isEmpty {
            gaps.append("the outputs of \(standIns.count) resource(s) the update would create or change, which providers compute later; stack policies see their inputs instead (\(PreviewReader.list(standIns)))")
        }
        if !rebuilt.isEmpty {
            gaps.append("default provider(s) \(PreviewReader.list(rebuilt)), rebuilt with their package's config as inputs (their plugin version is not known)")
        }
        if streaming {
            gaps.append("dependencies, property dependencies, aliases, ignoreChanges, additionalSecretOutputs and custom timeouts (the streaming format has none)")
        }
        if !redactor.paths.isEmpty {
            gaps.append("\(redactor.paths.count) secret value(s), redacted by the CLI: policies see them as secrets holding \"[secret]\" (\(PreviewReader.list(redactor.paths)))")
        }
        if !gaps.isEmpty {
            snap.warnings.append("\(file): a preview does not carry everything the engine gives policies: " + gaps.joined(separator: "; "))
        }
        if resources.isEmpty {
            snap.warnings.append("\(file): the preview has no resource to analyse (no steps, or only deletions); no resource was analysed")
        }
        return snap
    }

    /// `Target.GetPackageConfig`: the config keys of one package, without their namespace (all
    /// of the config, namespaced, for dynamic providers), as strings.
    static func packageConfig(_ config: PlainObject, package: String) -> PlainObject {
        let dynamic = package == "pulumi-nodejs" || package == "pulumi-python"
        var out = PlainObject()
        for e in config.entries {
            guard let colon = e.key.firstIndex(of: ":") else { continue }
            let namespace = e.key[..<colon]
            if dynamic {
                out[e.key] = e.value
            } else if namespace == package {
                out[String(e.key[e.key.index(after: colon)...])] = e.value
            }
        }
        return out
    }

    static func list(_ names: [String]) -> String {
        names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
    }

    /// Turns the CLI's redactions back into secrets: the digest's `"[secret]"` strings and the
    /// streaming events' `{sig, ciphertext: "[secret]"}` become `{sig, value: "[secret]"}`.
    struct Redactor {
        private(set) var paths: [String] = []

        mutating func redact(_ props: PlainObject, path: String) -> PlainObject {
            changed(props, path: { path }) ?? props
        }

        private mutating func changed(_ props: PlainObject, path: () -> String) -> PlainObject? {
            var out: PlainObject?
            for e in props.entries {
                if let changed = value(e.value, path: { "\(path()).\(e.key)" }) {
                    if out == nil { out = props }
                    out?[e.key] = changed
                }
            }
            return out
        }

        private mutating func value(_ v: PlainValue, path: () -> String) -> PlainValue? {
            switch v {
            case .string("[secret]"):
                paths.append(path())
                return EngineEncoding.wrapSecret("[secret]")
            case .array(let items):
                var out: [PlainValue]?
                for (i, item) in items.enumerated() {
                    if let changed = value(item, path: { "\(path())[\(i)]" }) {
                        if out == nil { out = items }
                        out?[i] = changed
                    }
                }
                return out.map { .array($0) }
            case .object(let o):
                if o[EngineEncoding.sigKey]?.stringValue == EngineEncoding.secretSig {
                    if o["ciphertext"]?.stringValue == "[secret]" {
                        paths.append(path())
                        return EngineEncoding.wrapSecret("[secret]")
                    }
                    return nil
                }
                return changed(o, path: path).map { .object($0) }
            default:
                return nil
            }
        }
    }
}
