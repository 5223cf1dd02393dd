import ArgumentParser
import Foundation
import PolicyValues
import PackStore

struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Show which pack versions and configuration the policy groups require for a stack.",
        discussion: """
        All groups the stack belongs to are aggregated; one version of each pack runs, the newest; when the \
        same version is enabled with different configuration, the most recently modified one wins.
        """
    )

    @Option(name: .customLong("policy-groups"), help: ArgumentHelp("The policy-groups file.", valueName: "FILE"))
    var policyGroups: String

    @Option(name: .long, help: ArgumentHelp("The stack, as ORG/PROJECT/STACK.", valueName: "ORG/PROJECT/STACK"))
    var stack: String

    @Option(name: .long, help: "Output format.")
    var format: OutputFormat = .text

    func validate() throws {
        if stack.split(separator: "/", omittingEmptySubsequences: false).count != 3 || stack.split(separator: "/").count != 3 {
            throw ValidationError("--stack must be ORG/PROJECT/STACK, got '\(stack)'")
        }
    }

    func run() throws {
        let groups = try PolicyGroups.load(URL(fileURLWithPath: policyGroups))
        let resolved = groups.resolve(stack: stack)
        switch format {
        case .json:
            let iso = ISO8601DateFormatter()
            let v: PlainValueArray = resolved.map { r in
                var o = PlainObject()
                o["name"] = .string(r.name)
                o["version"] = r.version.map { .int($0) } ?? .null
                o["versionTag"] = r.versionTag.map { .string($0) } ?? .null
                o["config"] = .object(r.config)
                o["configModified"] = r.configModified.map { .string(iso.string(from: $0)) } ?? .null
                o["policyGroup"] = .string(r.group)
                return .object(o)
            }
            print(JSON.serialize(.object(PlainObject([("stack", .string(stack)), ("policyPacks", .array(v))])), pretty: true))
        case .text:
            if resolved.isEmpty { print("No policy group requires a pack for \(stack).") }
            for r in resolved {
                print("\(r.name)@\(r.versionLabel)  (policy group \(r.group))  config: \(r.config.isEmpty ? "none" : JSON.serialize(.object(r.config)))")
            }
        }
    }
}

typealias PlainValueArray = [PlainValue]
