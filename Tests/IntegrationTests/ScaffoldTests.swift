import Foundation
import Testing
import HostCore

struct TemplateCase: Sendable, CustomStringConvertible {
    var template: String
    var violating: String
    var expected: [String]
    var compliant: String
    var description: String { template }
}

let templateCases: [TemplateCase] = [
    .init(template: "python", violating: "aws-webshop.json", expected: [
        "protect-stateful bastion advisory", "protect-stateful orders-db advisory", "protect-stateful public-site advisory",
        "protect-stateful uploads advisory", "required-labels bastion mandatory", "required-labels logs mandatory",
        "required-labels logs-policy mandatory", "required-labels orders-db mandatory", "required-labels orphan-policy mandatory",
        "required-labels public-site mandatory", "required-labels uploads mandatory", "required-labels web mandatory",
    ], compliant: "aws-compliant.json"),
    .init(template: "aws-python", violating: "aws-webshop.json", expected: [
        "cloudtrail-with-buckets webshop-prod advisory", "ec2-no-open-admin-ports web mandatory",
        "rds-storage-encrypted orders-db mandatory", "s3-no-public-read public-site mandatory", "s3-no-public-read uploads mandatory",
    ], compliant: "aws-compliant.json"),
    .init(template: "azure-python", violating: "azure-portal.json", expected: [
        "approved-locations assets mandatory", "minimum-tls assets mandatory", "minimum-tls db mandatory", "minimum-tls portal mandatory",
        "storage-account-secure assets mandatory", "storage-account-secure assets mandatory",
    ], compliant: "azure-compliant.json"),
    .init(template: "gcp-python", violating: "gcp-analytics.json", expected: [
        "compute-no-public-ip notebook mandatory", "required-labels events advisory", "required-labels notebook advisory",
        "required-labels raw advisory", "sql-deletion-protection warehouse mandatory", "storage-uniform-access raw mandatory",
    ], compliant: "gcp-compliant.json"),
    .init(template: "kubernetes-python", violating: "storefront-k8s.json", expected: [
        "no-privileged-containers cart mandatory", "pinned-images cart mandatory", "pinned-images debug-tools mandatory",
        "resource-limits debug-tools advisory",
    ], compliant: "storefront-k8s-compliant.json"),
]

@Suite struct ScaffoldTests {
    @Test(arguments: templateCases)
    func scaffoldedPackCatchesWhatItIsWrittenFor(_ c: TemplateCase) throws {
        try withTemporaryDirectory { tmp in
            let dir = tmp.appendingPathComponent("guard-\(c.template)")
            let created = try policyHost(["new", c.template, "--dir", dir.path, "--quiet"])
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout.contains("Next steps:"))
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("venv/bin/python").path))
            for file in ["PulumiPolicy.yaml", "__main__.py", "requirements.txt", ".gitignore", "README.md"] {
                #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file)")
            }
            let main = try String(contentsOf: dir.appendingPathComponent("__main__.py"), encoding: .utf8)
            #expect(main.contains("name=\"guard-\(c.template)\""))
            #expect(!main.contains("${"))

            let bad = try policyHost(["analyze", "-q", Repo.stack(c.violating).path, "--policy-pack", dir.path, "--format", "json"])
            #expect(bad.status == 1, "\(bad.stderr)")
            #expect(bad.json?.violationTriples == c.expected)
            let good = try policyHost(["analyze", "-q", Repo.stack(c.compliant).path, "--policy-pack", dir.path, "--format", "json"])
            #expect(good.status == 0, "\(good.stderr)")
            #expect(good.json?.violationTriples == [])
            #expect(good.json?["errors"]?.arrayValue?.isEmpty == true)

            // The template's own test cases pass and make every policy both fire and pass.
            #expect(created.stdout.contains("policy-host test "))
            let tested = try policyHost(["test", dir.path, "--require-coverage", "-q"])
            #expect(tested.status == 0, "\(tested.stdout)\(tested.stderr)")
            #expect(tested.stdout.contains(" 0 failed") && tested.stdout.contains("fire in some case and pass in another\n"), "\(tested.stdout)")
            if c.template == "aws-python" {
                // README "Testing your policies": its example is written for this template and passes.
                let readme = try String(contentsOf: Repo.root.appendingPathComponent("README.md"), encoding: .utf8)
                let start = try #require(readme.range(of: "# policy-tests/buckets.yaml\n"))
                let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
                try String(readme[start.lowerBound..<end.lowerBound]).write(to: dir.appendingPathComponent("policy-tests/readme.yaml"),
                                                                          atomically: true, encoding: .utf8)
                let example = try policyHost(["test", dir.path, "--filter", "readme.yaml", "-q"])
                #expect(example.status == 0, "\(example.stdout)\(example.stderr)")
                #expect(example.stdout.contains("2 cases: 2 passed, 0 failed"))
            }
        }
    }

    @Test func generateOnlyCreatesNoVenvUntilInstall() throws {
        try withTemporaryDirectory { tmp in
            let dir = tmp.appendingPathComponent("later")
            let r = try policyHost(["new", "python", "--dir", dir.path, "-g", "--name", "my.pack_v2", "--description", "Guard: \"rails\""])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("policy-host install"))
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("venv").path))
            let manifest = try PolicyManifest.load(packDirectory: dir)
            #expect(manifest.description == "Guard: \"rails\"")
            #expect(manifest.virtualenv == "venv")
            let installed = try policyHost(["install", "-q", dir.path])
            #expect(installed.status == 0, "\(installed.stderr)")
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("venv/bin/python").path))
        }
    }

    @Test func refusesNonEmptyDirectoryUnlessForced() throws {
        try withTemporaryDirectory { dir in
            try "mine".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
            let refused = try policyHost(["new", "aws-python", "--dir", dir.path, "-g", "--name", "p"])
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("is not empty"))
            #expect(refused.stderr.contains("hint: "))
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("PulumiPolicy.yaml").path))
            let forced = try policyHost(["new", "aws-python", "--dir", dir.path, "-g", "--name", "p", "--force", "--toolchain", "uv"])
            #expect(forced.status == 0)
            #expect(try String(contentsOf: dir.appendingPathComponent("notes.txt"), encoding: .utf8) == "mine")
            #expect(try PolicyManifest.load(packDirectory: dir).toolchain == .uv)
        }
    }

    @Test func invalidNamesAndTemplates() throws {
        try withTemporaryDirectory { dir in
            let badName = try policyHost(["new", "python", "--dir", dir.appendingPathComponent("x").path, "-g", "--name", "no spaces!"])
            #expect(badName.status == 2)
            #expect(badName.stderr.contains("is not a valid policy pack name"))
            let badTemplate = try policyHost(["new", "cobol-python", "--dir", dir.appendingPathComponent("y").path, "-g"])
            #expect(badTemplate.status == 2)
            #expect(badTemplate.stderr.contains("unknown template 'cobol-python'"))
            #expect(badTemplate.stderr.contains("aws-python"))
        }
    }

    @Test func withoutTemplateOrTerminalListsAndFails() throws {
        let r = try policyHost(["new"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("Available templates:"))
        #expect(r.stderr.contains("kubernetes-python"))
        let list = try policyHost(["new", "--list"])
        #expect(list.status == 0)
        #expect(list.stdout.split(separator: "\n").count == 6)
    }

    @Test func worksFromAnyDirectory() throws {
        try withTemporaryDirectory { dir in
            let r = try policyHost(["new", "gcp-python", "-g"], cwd: dir.appendingPathComponent("gcp-guard").creatingDirectory())
            #expect(r.status == 0, "\(r.stderr)")
            let main = try String(contentsOf: dir.appendingPathComponent("gcp-guard/__main__.py"), encoding: .utf8)
            #expect(main.contains("name=\"gcp-guard\""))
        }
    }
}
