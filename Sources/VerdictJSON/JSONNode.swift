import Foundation

/// A JSON value with the path that led to it, so that every error names file and JSON path.
public struct JSONNode {
    public let value: JSONValue
    public let path: String
    public let file: String

    public init(value: JSONValue, path: String = "$", file: String) { self.value = value; self.path = path; self.file = file }

    public static func parse(data: Data, file: String) throws -> JSONNode {
        do {
            return JSONNode(value: try JSONParser.parse(data), path: "$", file: file)
        } catch {
            throw JSONError.malformed(file: file, reason: "\(error)")
        }
    }

    public func fail(_ expected: String) -> JSONError { .invalidValue(file: file, path: path, expected: expected) }

    public var isNull: Bool { if case .null = value { return true }; return false }

    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        // Keys compared by exact scalars; the last duplicate wins, as in Python's json.
        guard let v = members.last(where: { $0.0.utf8.elementsEqual(key.utf8) })?.1 else { return nil }
        if case .null = v { return nil }
        return JSONNode(value: v, path: path + "." + key, file: file)
    }

    public func required(_ key: String) throws -> JSONNode {
        guard case .object = value else { throw fail("an object") }
        guard let v = self[key] else {
            throw JSONError.invalidValue(file: file, path: path + "." + key, expected: "a value (the key is missing)")
        }
        return v
    }

    public var stringValue: String? { if case .string(let s) = value { return s }; return nil }

    public func string() throws -> String {
        guard case .string(let s) = value else { throw fail("a string") }
        return s
    }

    public func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw fail("true or false") }
        return b
    }

    public func int() throws -> Int {
        guard case .number(let d, _) = value, d == d.rounded(), abs(d) < 9e15 else { throw fail("an integer") }
        return Int(d)
    }

    public func double() throws -> Double {
        guard case .number(let d, _) = value else { throw fail("a number") }
        return d
    }

    public func array() throws -> [JSONNode] {
        guard case .array(let a) = value else { throw fail("an array") }
        return a.enumerated().map { JSONNode(value: $0.element, path: "\(path)[\($0.offset)]", file: file) }
    }

    public func object() throws -> [(String, JSONNode)] {
        guard case .object(let members) = value else { throw fail("an object") }
        return members.map { ($0.0, JSONNode(value: $0.1, path: path + "." + $0.0, file: file)) }
    }

    /// Optional typed accessors with defaults.
    public func string(_ key: String, default d: String) throws -> String { try self[key]?.string() ?? d }
    public func bool(_ key: String, default d: Bool) throws -> Bool { try self[key]?.bool() ?? d }
    public func int(_ key: String, default d: Int) throws -> Int { try self[key]?.int() ?? d }
    public func optionalString(_ key: String) throws -> String? { try self[key]?.string() }
    public func optionalBool(_ key: String) throws -> Bool? { try self[key]?.bool() }
    public func optionalInt(_ key: String) throws -> Int? { try self[key]?.int() }
}

/// A JSON file that cannot be read as what was expected; names the file and the JSON path.
public enum JSONError: Error, CustomStringConvertible, Equatable {
    /// Not valid JSON at all.
    case malformed(file: String, reason: String)
    /// Valid JSON, but the value at `path` (such as `$.model.vocab`) has the wrong shape.
    case invalidValue(file: String, path: String, expected: String)

    public var description: String {
        switch self {
        case let .malformed(file, reason): return "\(file) is not valid JSON: \(reason)"
        case let .invalidValue(file, path, expected): return "\(file): \(path): expected \(expected)"
        }
    }
}
