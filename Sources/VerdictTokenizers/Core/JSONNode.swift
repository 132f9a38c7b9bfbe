import Foundation

/// A JSON value with the path that led to it, so that every error names file and JSON path.
struct JSONNode {
    let value: JSONValue
    let path: String
    let file: String

    static func parse(data: Data, file: String) throws -> JSONNode {
        do {
            return JSONNode(value: try JSONParser.parse(data), path: "$", file: file)
        } catch {
            throw TokenizerError.malformedJSON(file: file, reason: "\(error)")
        }
    }

    func fail(_ expected: String) -> TokenizerError { .invalidValue(file: file, path: path, expected: expected) }

    var isNull: Bool { if case .null = value { return true }; return false }

    subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        // Keys compared by exact scalars; the last duplicate wins, as in Python's json.
        guard let v = members.last(where: { $0.0.utf8.elementsEqual(key.utf8) })?.1 else { return nil }
        if case .null = v { return nil }
        return JSONNode(value: v, path: path + "." + key, file: file)
    }

    func required(_ key: String) throws -> JSONNode {
        guard case .object = value else { throw fail("an object") }
        guard let v = self[key] else {
            throw TokenizerError.invalidValue(file: file, path: path + "." + key, expected: "a value (the key is missing)")
        }
        return v
    }

    var stringValue: String? { if case .string(let s) = value { return s }; return nil }

    func string() throws -> String {
        guard case .string(let s) = value else { throw fail("a string") }
        return s
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw fail("true or false") }
        return b
    }

    func int() throws -> Int {
        guard case .number(let d, _) = value, d == d.rounded(), abs(d) < 9e15 else { throw fail("an integer") }
        return Int(d)
    }

    func double() throws -> Double {
        guard case .number(let d, _) = value else { throw fail("a number") }
        return d
    }

    func array() throws -> [JSONNode] {
        guard case .array(let a) = value else { throw fail("an array") }
        return a.enumerated().map { JSONNode(value: $0.element, path: "\(path)[\($0.offset)]", file: file) }
    }

    func object() throws -> [(String, JSONNode)] {
        guard case .object(let members) = value else { throw fail("an object") }
        return members.map { ($0.0, JSONNode(value: $0.1, path: path + "." + $0.0, file: file)) }
    }

    /// Optional typed accessors with defaults.
    func string(_ key: String, default d: String) throws -> String { try self[key]?.string() ?? d }
    func bool(_ key: String, default d: Bool) throws -> Bool { try self[key]?.bool() ?? d }
    func int(_ key: String, default d: Int) throws -> Int { try self[key]?.int() ?? d }
    func optionalString(_ key: String) throws -> String? { try self[key]?.string() }
    func optionalBool(_ key: String) throws -> Bool? { try self[key]?.bool() }
    func optionalInt(_ key: String) throws -> Int? { try self[key]?.int() }
}
