internal import CYaml

/// The shape of a YAML text read from libyaml's event stream, which libyaml parses with
/// explicit stacks (no recursion), so any input is safe to scan. A target of its own: libyaml's
/// headers and CPython's cannot meet in one clang module graph (`fd_set`).
public struct YAMLShape: Sendable, Equatable {
    /// The deepest nesting of sequences and mappings seen (up to where scanning stopped).
    public var depth = 0
    /// Alias nodes (`*name`) seen.
    public var aliases = 0
    /// Nodes the document would have with every alias expanded ("billion laughs" grows this
    /// exponentially while the text stays small).
    public var expandedNodes = 0

    /// Scans `text`, stopping as soon as a count passes its limit, or at the first syntax error
    /// (left to the real parser to report).
    public static func scan(_ text: String, maxDepth: Int, maxAliases: Int, maxExpandedNodes: Int) -> YAMLShape {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buf -> YAMLShape in
            var shape = YAMLShape()
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return shape }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            // Expanded size of each anchored node, and the open collections' anchors and start counts.
            var sizes: [String: Int] = [:]
            var open: [(anchor: String?, start: Int)] = []
            func name(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                p.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            }
            func add(_ n: Int) -> Bool {
                let (sum, overflow) = shape.expandedNodes.addingReportingOverflow(n)
                shape.expandedNodes = overflow ? Int.max : sum
                return shape.expandedNodes <= maxExpandedNodes
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return shape }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let anchor = event.type == YAML_SEQUENCE_START_EVENT ? name(event.data.sequence_start.anchor) : name(event.data.mapping_start.anchor)
                    open.append((anchor, shape.expandedNodes))
                    shape.depth = max(shape.depth, open.count)
                    if open.count > maxDepth || !add(1) { return shape }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    if let last = open.popLast(), let anchor = last.anchor {
                        sizes[anchor] = shape.expandedNodes - last.start
                    }
                case YAML_SCALAR_EVENT:
                    if let anchor = name(event.data.scalar.anchor) { sizes[anchor] = 1 }
                    if !add(1) { return shape }
                case YAML_ALIAS_EVENT:
                    shape.aliases += 1
                    let size = name(event.data.alias.anchor).flatMap { sizes[$0] } ?? 1
                    if shape.aliases > maxAliases || !add(size) { return shape }
                case YAML_STREAM_END_EVENT, YAML_NO_EVENT:
                    return shape
                default:
                    break
                }
            }
        }
    }
}
