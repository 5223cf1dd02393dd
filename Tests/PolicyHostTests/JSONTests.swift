import Foundation
import PolicyValues
import Testing

@Suite struct JSONTests {
    @Test func numbersAreDoublesAndOrderIsKept() throws {
        let v = try JSON.parse(#"{"b": 80, "a": -1.5e2, "c": [true, null, "x"]}"#)
        #expect(v["b"] == .double(80))
        #expect(v["a"] == .double(-150))
        #expect(v.objectValue?.keys == ["b", "a", "c"])
        #expect(JSON.serialize(v) == #"{"b":80,"a":-150,"c":[true,null,"x"]}"#)
    }

    @Test func escapesAndSurrogates() throws {
        let v = try JSON.parse(#""a\"b\\c\n\u00e9\ud83d\ude00""#)
        #expect(v == .string("a\"b\\c\né😀"))
        #expect(try JSON.parse(JSON.serialize(v)) == v)
        #expect(JSON.serialize(.string("\u{01}")) == #""\u0001""#)
    }

    @Test func everyControlCharacterIsEscapedAndPrettyIndentsByTwo() throws {
        let all = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init)))
        let text = JSON.serialize(.string(all + "\"\\é"))
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 })
        #expect(text.hasPrefix(#""\u0000\u0001"#))
        #expect(text.contains(#"\u0008\t\n\u000b\u000c\r\u000e"#))  // only \t \n \r get short forms
        #expect(try JSON.parse(text) == .string(all + "\"\\é"))
        let v: PlainValue = ["a": [1.0, ["b": .null]], "e": [:]]
        #expect(JSON.serialize(v, pretty: true) == "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"e\": {}\n}")
        #expect(JSON.serializeBytes(v) == Array(JSON.serialize(v).utf8))
    }

    @Test(arguments: [
        ("{\"a\": 1,}", 1, 9), ("[1, 2", 1, 6), ("{\n  \"a\": tru\n}", 2, 8), ("\"abc", 1, 5), ("01", 1, 2), ("", 1, 1),
    ])
    func errorsHaveLineAndColumn(_ text: String, _ line: Int, _ column: Int) {
        #expect(throws: JSONSyntaxError.self) { try JSON.parse(text) }
        do {
            _ = try JSON.parse(text)
        } catch {
            #expect(error.line == line)
            #expect(error.column == column)
        }
    }

    @Test func byteOrderMarkIsSkipped() throws {
        #expect(try JSON.parse(Data([0xEF, 0xBB, 0xBF] + Array("[1]".utf8))) == [1.0])
    }
}
