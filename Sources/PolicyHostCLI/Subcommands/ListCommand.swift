import ArgumentParser
import Foundation
import PolicyValues
import PackStore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List packs installed under <PULUMI_HOME or ~/.pulumi>/policies and whether each is usable."
    )

    @Option(name: .long, help: "Output format.")
    var format: OutputFormat = .text

    func run() throws {
        let store = PolicyStore()
        let installed = store.list()
        func stateText(_ s: PolicyStore.State) -> String {
            switch s {
            case .installed: "installed"
            case .missing: "missing"
            case .broken(let why): "broken: \(why) (install it again to repair)"
            }
        }
        switch format {
        case .json:
            let v: PlainValueArray = installed.map { i in
                ["org": .string(i.org), "name": .string(i.name), "version": .string(i.version),
                 "directory": .string(i.directory.path), "state": .string(stateText(i.state))]
            }
            print(JSON.serialize(.array(v), pretty: true))
        case .text:
            if installed.isEmpty { print("No policy packs installed in \(store.root.path)") }
            for i in installed { print("\(i.org)/\(i.name)@\(i.version)  \(stateText(i.state))  \(i.directory.path)") }
        }
    }
}
