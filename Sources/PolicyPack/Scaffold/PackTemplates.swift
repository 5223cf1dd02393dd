import Foundation
import PolicyValues
import HostCore

/// The pack templates compiled into the binary (from `venv-templates/`).
public enum PackTemplates {
    public struct Template: Sendable {
        public var name: String
        public var summary: String
        /// Relative path → text.
        public var files: [(String, String)]
    }

    static let summaries: [String: String] = [
        "python": "A minimal Policy Pack for any cloud using Python",
        "aws-python": "A minimal Policy Pack for AWS using Python",
        "azure-python": "A minimal Policy Pack for Azure (azure-native) using Python",
        "gcp-python": "A minimal Policy Pack for Google Cloud using Python",
        "kubernetes-python": "A minimal Policy Pack for Kubernetes using Python",
    ]

    /// All templates, sorted by name.
    public static var all: [Template] {
        var byName: [String: [(String, String)]] = [:]
        for (path, text) in EmbeddedResources.files where path.hasPrefix("venv-templates/") {
            let rest = path.dropFirst("venv-templates/".count)
            guard let slash = rest.firstIndex(of: "/") else { continue }
            byName[String(rest[..<slash]), default: []].append((String(rest[rest.index(after: slash)...]), text))
        }
        return byName.keys.sorted().map { name in
            Template(name: name, summary: summaries[name] ?? "A Policy Pack using Python",
                     files: byName[name]!.sorted { $0.0 < $1.0 })
        }
    }

    public static func named(_ name: String) -> Template? { all.first { $0.name == name } }

    /// The SDK's rule for pack names.
    public static func isValidPackName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 100 && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
        }
    }

    /// Writes `template` into `directory` with the name and description filled in; returns the paths written.
    public static func render(_ template: Template, into directory: URL, name: String, description: String,
                              toolchain: PolicyManifest.Toolchain?) throws(HostError) -> [String] {
        var written: [String] = []
        for (path, text) in template.files {
            var content = text.replacingOccurrences(of: "${PACK_NAME}", with: name)
            let desc: String
            switch path {
            case "PulumiPolicy.yaml": desc = JSON.serialize(.string(description))  // a YAML double-quoted scalar
            case "__main__.py": desc = description.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"\"\"", with: "\\\"\\\"\\\"")
            default: desc = description
            }
            content = content.replacingOccurrences(of: "${DESCRIPTION}", with: desc)
            if path == "PulumiPolicy.yaml", let toolchain {
                content = content.replacingOccurrences(of: "    virtualenv: venv\n", with: "    virtualenv: venv\n    toolchain: \(toolchain.rawValue)\n")
            }
            let url = directory.appendingPathComponent(path)
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(content.utf8).write(to: url)
            } catch {
                throw HostError(.usage, "could not write \(url.path): \(error.localizedDescription)")
            }
            written.append(path)
        }
        return written
    }
}
