import ArgumentParser
import Foundation
import HostCore
import PolicyPack

enum ToolchainChoice: String, ExpressibleByArgument, CaseIterable {
    case pip, uv
}

struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create a new Python policy pack from a built-in template, with its venv ready.",
        discussion: "Templates: " + PackTemplates.all.map(\.name).joined(separator: ", ") + "."
    )

    @Argument(help: ArgumentHelp("The template (see --list).", valueName: "TEMPLATE"))
    var template: String?

    @Option(name: .long, help: ArgumentHelp("Directory to create the pack in (default: the current directory).", valueName: "DIR"))
    var dir: String?

    @Option(name: .long, help: "The pack name (default: the directory's name). Letters, digits, '-', '_' and '.' only.")
    var name: String?

    @Option(name: .long, help: "The pack description.")
    var description: String?

    @Flag(name: .long, help: "Write into a non-empty directory, replacing files of the same name.")
    var force = false

    @Flag(name: [.customShort("g"), .long], help: "Only write the files; create no venv (run `policy-host install` later).")
    var generateOnly = false

    @Option(name: .long, help: "The Python toolchain for the pack's venv.")
    var toolchain: ToolchainChoice?

    @Flag(name: .long, help: "List the templates and exit.")
    var list = false

    @OptionGroup var environment: EnvironmentOptions

    func run() throws {
        let templates = PackTemplates.all
        if list {
            print(templateTable(templates))
            return
        }
        let chosen: PackTemplates.Template
        if let template {
            guard let t = PackTemplates.named(template) else {
                throw HostError(.usage, "unknown template '\(template)'", hint: "choose one of: \(templates.map(\.name).joined(separator: ", "))")
            }
            chosen = t
        } else if isatty(0) != 0 && isatty(2) != 0 {
            chosen = try prompt(templates)
        } else {
            FileHandle.standardError.write(Data((templateTable(templates) + "\n").utf8))
            throw HostError(.usage, "no template given and no terminal to ask on", hint: "run `policy-host new <template>`, e.g. `policy-host new aws-python`")
        }

        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let target = URL(fileURLWithPath: dir ?? ".", relativeTo: cwd).standardizedFileURL
        let packName = name ?? target.lastPathComponent
        guard PackTemplates.isValidPackName(packName) else {
            throw HostError(.usage, "'\(packName)' is not a valid policy pack name: use letters, digits, '-', '_' and '.' (at most 100)",
                            hint: name == nil ? "pass --name, or create the pack in a directory with such a name" : nil)
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: target.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw HostError(.usage, "\(target.path) exists and is not a directory") }
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: target.path)) ?? []
            if !contents.isEmpty && !force {
                throw HostError(.usage, "\(target.path) is not empty; refusing to write a new pack into it",
                                hint: "use an empty directory (--dir), or --force to write into it anyway")
            }
        }
        let desc = description ?? chosen.summary
        let written = try PackTemplates.render(chosen, into: target, name: packName, description: desc,
                                               toolchain: toolchain.flatMap { PolicyManifest.Toolchain(rawValue: $0.rawValue) })
        FileHandle.standardError.write(Data("Created policy pack '\(packName)' from template \(chosen.name) in \(target.path) (\(written.count) files)\n".utf8))
        if !generateOnly {
            let manifest = try PolicyManifest.load(packDirectory: target)
            try environment.manager().ensure(manifest)
        }
        let rel = target.path == cwd.path ? "." : target.path
        var next = "\nNext steps:\n"
        if generateOnly { next += "  policy-host install \(rel)                              # create the venv\n" }
        next += "  policy-host test \(rel)                                # run its test cases (policy-tests/*.yaml)\n"
        next += "  policy-host analyze stack.json --policy-pack \(rel)    # check `pulumi stack export --show-secrets` output\n"
        next += "  pulumi preview --policy-pack \(rel)                    # or run it through the Pulumi CLI\n"
        next += "  policy-host pack \(rel)                                # package it for publishing\n"
        print(next, terminator: "")
    }

    private func templateTable(_ templates: [PackTemplates.Template]) -> String {
        let width = templates.map(\.name.count).max() ?? 0
        return "Available templates:\n" + templates.map { "  \($0.name.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.summary)" }.joined(separator: "\n")
    }

    private func prompt(_ templates: [PackTemplates.Template]) throws -> PackTemplates.Template {
        var text = "Choose a template:\n"
        for (i, t) in templates.enumerated() { text += "  \(i + 1)) \(t.name)  \(t.summary)\n" }
        text += "Template [1-\(templates.count)]: "
        FileHandle.standardError.write(Data(text.utf8))
        guard let line = readLine()?.trimmingCharacters(in: .whitespaces) else {
            throw HostError(.usage, "no template chosen")
        }
        if let n = Int(line), (1...templates.count).contains(n) { return templates[n - 1] }
        if let t = templates.first(where: { $0.name == line }) { return t }
        throw HostError(.usage, "'\(line)' is not one of the templates")
    }
}
