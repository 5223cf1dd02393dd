import Foundation
import PolicyValues
import Testing
import PolicyPack

/// A value of the wrong JSON type anywhere in a stack file is one error naming the file and the
/// JSON path (exit 2), where Go's decoder would fail; `null` is accepted wherever Go accepts it.
@Suite struct StackFileTypeTests {
    enum Kind: String, CaseIterable {
        case string, number, bool, array, object

        var sample: PlainValue {
            switch self {
            case .string: return "str"
            case .number: return 12.5
            case .bool: return true
            case .array: return [1.0]
            case .object: return ["k": "v"]
            }
        }

        var described: String {
            switch self {
            case .string: return "a string"
            case .number: return "a number"
            case .bool: return "a boolean"
            case .array: return "an array"
            case .object: return "an object"
            }
        }
    }

    /// A field of `ResourceV3`, the JSON kind Go accepts for it, and how the message names it.
    struct Field: CustomTestStringConvertible, Sendable {
        var path: String
        var accepts: Kind
        var expected: String
        var testDescription: String { path }
    }

    static let resourceFields: [Field] = {
        var out: [Field] = []
        for f in ["urn", "id", "type", "parent", "provider", "importID", "deletedWith", "sourcePosition", "viewOf", "extensionRef", "snippetID"] {
            out.append(Field(path: f, accepts: .string, expected: "a string"))
        }
        for f in ["custom", "delete", "protect", "taint", "external", "pendingReplacement", "retainOnDelete", "refreshBeforeUpdate"] {
            out.append(Field(path: f, accepts: .bool, expected: "a boolean"))
        }
        for f in ["inputs", "outputs", "propertyDependencies", "customTimeouts", "resourceHooks"] {
            out.append(Field(path: f, accepts: .object, expected: "an object"))
        }
        for f in ["dependencies", "initErrors", "additionalSecretOutputs", "aliases", "replaceWith", "stackTrace", "ignoreChanges",
                  "hideDiff", "replaceOnChanges"] {
            out.append(Field(path: f, accepts: .array, expected: "an array"))
        }
        for f in ["created", "modified"] {
            out.append(Field(path: f, accepts: .string, expected: "an RFC 3339 time string"))
        }
        return out
    }()

    static func deployment(with resource: PlainObject) -> PlainValue {
        let first: PlainValue = ["urn": "urn:pulumi:s::p::t::a", "type": "t", "custom": true, "id": "i"]
        return ["version": 3, "deployment": ["resources": [first, .object(resource)]]]
    }

    static func base() -> PlainObject {
        PlainObject([("urn", "urn:pulumi:s::p::aws:s3/bucket:Bucket::b"), ("type", "aws:s3/bucket:Bucket"), ("custom", true), ("id", "b-1")])
    }

    static func message(_ doc: PlainValue) -> String? {
        do {
            _ = try StackSnapshot.parse(doc, file: "stack.json")
            return nil
        } catch {
            return error.message
        }
    }

    @Test(arguments: resourceFields)
    func wrongTypeOfAResourceFieldIsOneError(_ field: Field) throws {
        for kind in Kind.allCases where kind != field.accepts {
            var r = Self.base()
            r[field.path] = kind.sample
            let got = Self.message(Self.deployment(with: r))
            #expect(got == "stack.json: deployment.resources[1].\(field.path): expected \(field.expected), found \(kind.described)",
                    "\(field.path) = \(kind)")
        }
    }

    @Test(arguments: resourceFields.filter { !["urn", "type"].contains($0.path) })
    func nullIsAbsent(_ field: Field) throws {
        var r = Self.base()
        r[field.path] = .null
        if field.path == "id" || field.path == "custom" { r["id"] = .null }
        #expect(Self.message(Self.deployment(with: r)) == nil, "\(field.path): null")
    }

    /// Elements and members: the path goes down to the value.
    @Test(arguments: [
        ("dependencies", ["urn:pulumi:s::p::t::a", 7.0] as PlainValue, "dependencies[1]: expected a string, found a number"),
        ("aliases", [["urn": "urn:pulumi:s::p::t::old"]] as PlainValue, "aliases[0]: expected a string, found an object"),
        ("ignoreChanges", [true] as PlainValue, "ignoreChanges[0]: expected a string, found a boolean"),
        ("additionalSecretOutputs", ["a", ["b"]] as PlainValue, "additionalSecretOutputs[1]: expected a string, found an array"),
        ("propertyDependencies", ["bucket": "urn:pulumi:s::p::t::a"] as PlainValue, "propertyDependencies.bucket: expected an array, found a string"),
        ("propertyDependencies", ["bucket": [1.0]] as PlainValue, "propertyDependencies.bucket[0]: expected a string, found a number"),
        ("customTimeouts", ["create": "10m"] as PlainValue, "customTimeouts.create: expected a number, found a string"),
        ("stackTrace", [["sourcePosition": 3.0]] as PlainValue, "stackTrace[0].sourcePosition: expected a string, found a number"),
        ("stackTrace", ["frame"] as PlainValue, "stackTrace[0]: expected an object, found a string"),
        ("resourceHooks", ["before_create": "notify"] as PlainValue, "resourceHooks.before_create: expected an array, found a string"),
        ("hideDiff", ["tags"] as PlainValue, "hideDiff[0]: expected an array, found a string"),
        ("created", "yesterday" as PlainValue, "created: \"yesterday\" is not an RFC 3339 time"),
        ("modified", "2026-13-01T00:00:00Z" as PlainValue, "modified: \"2026-13-01T00:00:00Z\" is not an RFC 3339 time"),
    ] as [(String, PlainValue, String)])
    func nestedWrongTypes(_ field: String, _ value: PlainValue, _ expected: String) throws {
        var r = Self.base()
        r[field] = value
        #expect(Self.message(Self.deployment(with: r)) == "stack.json: deployment.resources[1].\(expected)")
    }

    @Test func nullElementsAreZeroValuesAndTimesParse() throws {
        var r = Self.base()
        r["dependencies"] = ["urn:pulumi:s::p::t::a", .null]
        r["created"] = "2023-02-01T10:11:12.123456789+01:00"
        r["modified"] = "2023-02-01T10:11:12Z"
        r["customTimeouts"] = ["create": 60.0, "read": .null]
        let s = try StackSnapshot.parse(Self.deployment(with: r), file: "stack.json")
        #expect(s.resources[1].dependencies == ["urn:pulumi:s::p::t::a", ""])
        #expect(s.resources[1].customTimeouts?.create == 60)
    }

    @Test(arguments: [
        (#"{"version":"3","deployment":{}}"#, "version: expected an integer, found a string"),
        (#"{"version":3.5,"deployment":{}}"#, "version: expected an integer, found the number 3.5"),
        (#"{"version":1e300,"deployment":{}}"#, "version: expected an integer, found the number 1e+300"),
        (#"{"version":4,"features":"views","deployment":{}}"#, "features: expected an array, found a string"),
        (#"{"version":4,"features":[1],"deployment":{}}"#, "features[0]: expected a string, found a number"),
        (#"{"version":3,"deployment":[]}"#, "deployment: expected an object, found an array"),
        (#"{"version":3,"deployment":{"resources":{}}}"#, "deployment.resources: expected an array, found an object"),
        (#"{"version":3,"deployment":{"resources":["r"]}}"#, "deployment.resources[0]: expected an object, found a string"),
        (#"{"version":3,"deployment":{"secrets_providers":"b64"}}"#, "deployment.secrets_providers: expected an object, found a string"),
        (#"{"version":3,"deployment":{"secrets_providers":{"type":1}}}"#, "deployment.secrets_providers.type: expected a string, found a number"),
        (#"{"version":3,"deployment":{"manifest":{"time":"now"}}}"#, "deployment.manifest.time: \"now\" is not an RFC 3339 time"),
        (#"{"version":3,"deployment":{"manifest":{"plugins":[{"name":2}]}}}"#, "deployment.manifest.plugins[0].name: expected a string, found a number"),
        (#"{"version":3,"deployment":{"pending_operations":[{"resource":{"urn":5}}]}}"#, "deployment.pending_operations[0].resource.urn: expected a string, found a number"),
        (#"{"version":3,"deployment":{"extensions":{"e":{"value":"%%%"}}}}"#, "deployment.extensions.e.value: not valid base64"),
        (#"{"version":"1","checkpoint":{}}"#, "version: expected an integer, found a string"),
        (#"{"version":3,"checkpoint":{"stack":["a"]}}"#, "checkpoint.stack: expected a string, found an array"),
        (#"{"version":3,"checkpoint":{"Latest":{"resources":[{"urn":"urn:pulumi:s::p::t::a","type":"t","Inputs":[]}]}}}"#,
         "checkpoint.Latest.resources[0].Inputs: expected an object, found an array"),
        (#"{"version":1,"checkpoint":{"latest":{"resources":[{"urn":"urn:pulumi:s::p::t::a","type":"t","defaults":1}]}}}"#,
         "checkpoint.latest.resources[0].defaults: expected an object, found a number"),
        (#"{"steps":[{"op":"create","newState":{"urn":"urn:pulumi:s::p::t::a","type":"t","inputs":"x"}}]}"#,
         "steps[0].newState.inputs: expected an object, found a string"),
        (#"{"steps":{}}"#, "steps: expected an array, found an object"),
        (#"{"config":{"aws:region":1},"steps":[]}"#, "config.aws:region: expected a string, found a number"),
    ] as [(String, String)])
    func fileLevelWrongTypes(_ text: String, _ expected: String) throws {
        #expect(Self.message(try JSON.parse(text)) == "stack.json: \(expected)")
    }

    /// Property values as `DeserializePropertyValue` checks them.
    @Test(arguments: [
        ([EngineEncoding.sigKey: "0123"] as PlainValue, "unrecognized signature '0123' in property map"),
        ([EngineEncoding.sigKey: 5.0] as PlainValue, "unrecognized signature '5' in property map"),
        ([EngineEncoding.sigKey: .string(EngineEncoding.outputSig), "value": 1.0] as PlainValue,
         "unrecognized signature '\(EngineEncoding.outputSig)' in property map"),
        ([EngineEncoding.sigKey: .string(EngineEncoding.secretSig)] as PlainValue,
         "malformed secret value: exactly one of `ciphertext` or `plaintext` must be supplied"),
        ([EngineEncoding.sigKey: .string(EngineEncoding.secretSig), "ciphertext": "a", "plaintext": "\"b\""] as PlainValue,
         "malformed secret value: exactly one of `ciphertext` or `plaintext` must be supplied"),
        ([EngineEncoding.sigKey: .string(EngineEncoding.secretSig), "plaintext": "{oops"] as PlainValue,
         "malformed secret value: its plaintext is not JSON (expected a string key)"),
        ([EngineEncoding.sigKey: .string(EngineEncoding.resourceSig), "id": "x"] as PlainValue, "malformed resource reference: missing urn"),
        ([EngineEncoding.sigKey: .string(EngineEncoding.resourceSig), "urn": "u", "id": 3.0] as PlainValue,
         "malformed resource reference: id must be a string"),
        ([EngineEncoding.sigKey: .string(EngineEncoding.resourceSig), "urn": "u", "packageVersion": 6.0] as PlainValue,
         "malformed resource reference: packageVersion must be a string"),
        ([EngineEncoding.sigKey: .string(EngineEncoding.assetSig), "text": 1.0] as PlainValue, "unexpected asset text of type a number"),
        ([EngineEncoding.sigKey: .string(EngineEncoding.archiveSig), "assets": ["a": "b"]] as PlainValue,
         "archive member 'a' is not an asset or archive"),
        ([EngineEncoding.sigKey: "8ad145fe-0d11-4827-bfd7-1abcbf086f5c", "value": "xyz"] as PlainValue,
         "malformed float value: unable to parse 'value' field"),
        ([EngineEncoding.sigKey: "803fd3297a5875dc03ca845dda5d2a98"] as PlainValue,
         "malformed byte string: missing or non-string 'value' field"),
    ] as [(PlainValue, String)])
    func malformedPropertyValues(_ value: PlainValue, _ reason: String) throws {
        var r = Self.base()
        r["outputs"] = ["nested": ["list": [1.0, value]]]
        let got = Self.message(Self.deployment(with: r))
        #expect(got == "stack.json: deployment.resources[1].outputs.nested.list[1]\(reason.hasPrefix("archive member") ? ".assets" : ""): \(reason)")
    }

    @Test func resourceReferenceIDsAsTheCLIReadsThem() throws {
        var r = Self.base()
        let ref = { (id: PlainValue) -> PlainValue in [EngineEncoding.sigKey: .string(EngineEncoding.resourceSig), "urn": "urn:x", "id": id] }
        r["inputs"] = ["a": ref("i-1"), "b": ref(["V": "i-2"]), "c": ref(["V": .null]), "d": ref(["V": ["unknown": true]])]
        let s = try StackSnapshot.parse(Self.deployment(with: r), file: "stack.json")
        var enc = EngineEncoding(secretsProvider: nil)
        let inputs = try enc.encode(s.resources[1].inputs, skipInternalKeys: true, path: "p")
        #expect(inputs == PlainObject([("a", "i-1"), ("b", "i-2"), ("c", "urn:x"), ("d", .string(EngineEncoding.unknownString))]))
    }

    @Test func semanticChecksOfDeserializeResource() throws {
        var r = Self.base()
        r["custom"] = false
        #expect(Self.message(Self.deployment(with: r)) == "stack.json: deployment.resources[1]: resource 'urn:pulumi:s::p::aws:s3/bucket:Bucket::b' has 'custom' false but non-empty ID")
        r = Self.base()
        r["type"] = nil
        #expect(Self.message(Self.deployment(with: r)) == "stack.json: deployment.resources[1]: resource 'urn:pulumi:s::p::aws:s3/bucket:Bucket::b' missing required 'type' field")
        r = Self.base()
        r["urn"] = .null
        #expect(Self.message(Self.deployment(with: r)) == "stack.json: deployment.resources[1]: resource missing required 'urn' field")
    }

    @Test func errorsExitWithTheUsageStatus() throws {
        var r = Self.base()
        r["inputs"] = "str"
        do {
            _ = try StackSnapshot.parse(Self.deployment(with: r), file: "stack.json")
            Issue.record("no error")
        } catch {
            #expect(error.status == .usage)
            #expect(error.rendered.hasPrefix("error: stack.json: deployment.resources[1].inputs: expected an object, found a string\n"))
        }
    }
}
