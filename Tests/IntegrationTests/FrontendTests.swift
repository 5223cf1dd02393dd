import Foundation
import HostCore
import PolicyHostCLI
import PolicyPack
import PolicyValues
import PythonEnv
import Testing

/// The `analyze` pipelines called in-process through `AnalyzeFrontend`: they return typed reports
/// (or throw `HostError`) and never print a report or end the process — the command does that.
@Suite(.serialized) struct FrontendTests {
    /// Bad input is a thrown error before any environment work, and this process goes on.
    @Test func badInputThrowsInsteadOfExiting() throws {
        var inputs = AnalyzeInputs(stackFile: Repo.root.appendingPathComponent("Fixtures/stacks/no-such-stack.json"))
        inputs.packs = [Repo.pack("aws-basics")]
        #expect {
            _ = try AnalyzeFrontend.runPack(inputs, manager: VenvManager(verbosity: .quiet))
        } throws: { error in
            (error as? HostError)?.status == .usage && "\(error)".contains("no-such-stack.json")
        }
    }

    /// One pack in-process (on the out-of-process SDK route, so the test process starts no
    /// interpreter of its own): the same report as the command's JSON output.
    @Test func onePackMatchesTheCommand() throws {
        let pack = try preparedPack("aws-basics")
        var inputs = AnalyzeInputs(stackFile: Repo.stack("aws-webshop.json"))
        inputs.packs = [pack]
        inputs.runtime = .sdkServer
        let report = try AnalyzeFrontend.runPack(inputs, manager: VenvManager(verbosity: .quiet))
        let cli = try policyHost(["analyze", "-q", Repo.stack("aws-webshop.json").path, "--policy-pack", pack.path,
                                  "--runtime", "sdk-server", "--format", "json"])
        #expect(cli.status == report.exitStatus.rawValue)
        #expect(report.violations.count > 0 && report.exitStatus == .violations)
        #expect(JSON.serialize(report.json) == JSON.serialize(try JSON.parse(Data(cli.stdout.utf8))))
    }

    /// Several packs, each in a worker of the built binary, merged in pack order.
    @Test func severalPacksMerged() throws {
        var inputs = AnalyzeInputs(stackFile: Repo.stack("intranet-checkpoint-v1.json"))
        inputs.packs = [try preparedPack("k8s-guard"), try preparedPack("aws-basics")]
        #expect(inputs.runsSeveralPacks)
        let report = try AnalyzeFrontend.runSeveral(inputs, manager: VenvManager(verbosity: .quiet), executable: Repo.binary)
        #expect(report.packs.map(\.name) == ["k8s-guard", "aws-basics"])
        #expect(report.packFailures.isEmpty, "\(report.packFailures)")
    }
}
