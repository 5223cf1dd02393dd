import Foundation
import PolicyValues
import Testing
import PolicyPack

/// Stack files of every shape, run end to end through a probe pack that reports what its policies
/// see (it shares the aws-basics venv).
@Suite(.serialized) struct StackFileRunTests {
    static let probe = """
        import pulumi
        from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

        def seen(args, report):
            keys = ",".join(sorted(args.props.keys()))
            provider = args.provider.name if args.provider is not None else "-"
            report(f"{args.name} [{keys}] provider={provider}")

        def stack(args, report):
            names = ",".join(r.name for r in args.resources)
            arns = ",".join(sorted(r.name for r in args.resources if "arn" in r.props))
            report(f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()} [{names}] arn=[{arns}]")

        PolicyPack(name="probe", enforcement_level=EnforcementLevel.ADVISORY, policies=[
            ResourceValidationPolicy(name="seen", description="d", validate=seen),
            StackValidationPolicy(name="stack", description="d", validate=stack),
        ])
        """

    func probePack(in dir: URL) throws -> URL {
        let venv = try preparedPack("aws-basics").appendingPathComponent("venv")
        try "runtime:\n  name: python\n  options:\n    virtualenv: \(venv.path)\n".write(to: dir.appendingPathComponent("PulumiPolicy.yaml"), atomically: true, encoding: .utf8)
        try Self.probe.write(to: dir.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: Repo.pack("aws-basics").appendingPathComponent("requirements.txt"),
                                         to: dir.appendingPathComponent("requirements.txt"))
        return dir
    }

    func analyze(_ stack: String) throws -> (Run, PlainValue?) {
        try withTemporaryDirectory { dir in
            let pack = try probePack(in: dir)
            let r = try policyHost(["analyze", "-q", Repo.stack(stack).path, "--policy-pack", pack.path, "--format", "json"])
            return (r, r.json)
        }
    }

    func messages(_ json: PlainValue?, _ policy: String) -> [String] {
        (json?["violations"]?.arrayValue ?? []).filter { $0["policyName"]?.stringValue == policy }
            .map { ($0["message"]?.stringValue ?? "").replacingOccurrences(of: "d\n", with: "") }
    }

    @Test func emptyDeploymentPassesWithAWarningAndAnEmptyURN() throws {
        let (r, json) = try analyze("deployment-empty.json")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(json?["summary"]?["resources"] == 0)
        #expect(json?["summary"]?["passed"] == true)
        let warnings = (json?["warnings"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("the deployment has no resources") == true)
        #expect(r.stderr.contains("warning: "))
        // As `pulumi policy analyze --file`: a stack policy's violation on an empty stack has no URN.
        let stack = try #require(json?["violations"]?.arrayValue?.first { $0["policyName"] == "stack" })
        #expect(stack["urn"] == "")
    }

    @Test func stackLatestCheckpoint() throws {
        let (r, json) = try analyze("checkpoint-stack-latest-keys.json")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(json?["summary"]?["resources"] == 4)
        #expect(messages(json, "stack") == ["acme/intranet/prod [intranet-prod,default_6_52_0,wiki,app] arn=[wiki]"])
    }

    @Test func gzipAndVersionFour() throws {
        for stack in ["checkpoint-gzip.json.gz", "v4/refreshBeforeUpdate.json", "checkpoint-v4.json"] {
            let (r, json) = try analyze(stack)
            #expect(r.status == 0, "\(stack): \(r.stderr)")
            #expect(json?["summary"]?["resources"] == 4, "\(stack)")
        }
        let (r, _) = try analyze("v4/unknown-feature.json")
        #expect(r.status == 2)
        #expect(r.stderr.contains("error: ") && r.stderr.contains("features this tool does not support: teleportation"))
    }

    @Test func previewDigest() throws {
        let (r, json) = try analyze("preview-digest.json")
        #expect(r.status == 0, "\(r.stderr)")
        // The read VPC is not analysed on its own; the default provider is, and every resource has it.
        #expect(messages(json, "seen").sorted() == [
            "assets [acl,bucket,forceDestroy] provider=default_6_52_0",
            "db [engine,identifier,instanceClass,password,storageEncrypted,vpcSecurityGroupIds] provider=default_6_52_0",
            "default_6_52_0 [region,secretKey] provider=-",
            "web [ami,instanceType,tags] provider=default_6_52_0",
            "webshop-dev [] provider=-",
        ])
        #expect(messages(json, "stack") == ["organization/webshop/dev [webshop-dev,default_6_52_0,default,web,assets,db] arn=[web]"])
        let warnings = (json?["warnings"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("1 unchanged resource(s)") == true)
    }

    @Test func streamingPreview() throws {
        let (r, json) = try analyze("preview-streaming.jsonl")
        #expect(r.status == 0, "\(r.stderr)")
        // The outputs the provider previewed hold unknowns (the created bucket's ARN), and reading one
        // makes the stack policy a preview note, as through the engine.
        #expect(messages(json, "stack") == ["can't run policy 'stack' from policy pack 'probe@v0.0.1' during preview: string value at .arn can't be known during preview"])
        #expect(messages(json, "seen").contains("default_6_52_0 [region,secretKey] provider=-"))
    }

    @Test func wrongTypeIsOneError() throws {
        try withTemporaryDirectory { dir in
            let f = dir.appendingPathComponent("stack.json")
            try Data(#"{"version":3,"deployment":{"resources":[{"urn":"urn:pulumi:s::p::t::a","type":"t","inputs":"str"}]}}"#.utf8).write(to: f)
            let r = try policyHost(["analyze", "-q", f.path, "--policy-pack", Repo.pack("aws-basics").path])
            #expect(r.status == 2)
            #expect(r.stderr.hasPrefix("error: \(f.path): deployment.resources[0].inputs: expected an object, found a string\n"), "\(r.stderr)")
        }
    }
}
