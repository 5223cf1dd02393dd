internal import CYaml

/// The shape of a YAML text read from libyaml's event stream, which libyaml parses with
/// explicit stacks (no recursion), so any input is safe to scan. A target of its own: libyaml's
/// headers and CPython's cannot meet in one clang module graph (`fd_set`).
public struct YAMLShape: Sendable, Equatable {
    /// The deepest nesting of sequences and mappings seen (up to where scanning stopped).
    public var depth = 0
    /// Alias nodes (`*name`) seen.
    public var aliases = 0

    /// Scans `text`, stopping as soon as `depth` passes `maxDepth` or `aliases` passes
    /// `maxAliases`, or at the first syntax error (left to the real parser to report).
    public static func scan(_ text: String, maxDepth: Int, maxAliases: Int) -> YAMLShape {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buf -> YAMLShape in
            var shape = YAMLShape()
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return shape }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            var depth = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return shape }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    depth += 1
                    shape.depth = max(shape.depth, depth)
                    if depth > maxDepth { return shape }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    depth -= 1
                case YAML_ALIAS_EVENT:
                    shape.aliases += 1
                    if shape.aliases > maxAliases { return shape }
                case YAML_STREAM_END_EVENT, YAML_NO_EVENT:
                    return shape
                default:
                    break
                }
            }
        }
    }
}
