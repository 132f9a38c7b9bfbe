import Foundation
import VerdictTensor

/// Reads llama.cpp's GGUF files (versions 2 and 3, little-endian): the header, the metadata
/// key/value pairs, the tensor table, and each tensor dequantized to `Float`.
///
/// Layout: `"GGUF"`, u32 version, u64 tensor count, u64 metadata count; metadata entries
/// (u64-length UTF-8 key, u32 value type, value); tensor infos (name, u32 dimension count, u64
/// dimensions with the contiguous one, ne0, first, u32 `ggml_type`, u64 offset); padding to
/// `general.alignment` (default 32); the data section, which the offsets are relative to.
///
/// The file is memory-mapped and treated as hostile: every count, length, dimension and offset is
/// checked against the bytes that are actually there before anything is allocated or read, so a
/// truncated or forged file gives a `CheckpointError.malformed` naming the file and the problem,
/// never a crash or an allocation larger than a small multiple of the file.
///
/// Tensors come back in GGUF's own layout (shape = the dimensions reversed, so a Linear weight
/// stored as `[in, out]` is a row-major `[out, in]` tensor), dequantized as gguf-py does it
/// (`GGUFQuantization.swift`); `GGUFConversion.swift` maps names, Q/K row order and the config to
/// `transformers`' conventions.
public struct GGUFFile {
    /// The value types of metadata entries.
    public enum ValueType: UInt32, Sendable {
        case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

        /// Bytes of one value in the file (strings and arrays: the smallest possible encoding).
        var minimumSize: Int {
            switch self {
            case .uint8, .int8, .bool: return 1
            case .uint16, .int16: return 2
            case .uint32, .int32, .float32: return 4
            case .uint64, .int64, .float64, .string: return 8
            case .array: return 12
            }
        }
    }

    /// A metadata value.
    public enum Value: Equatable, Sendable {
        case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
        case float32(Float), float64(Double), bool(Bool), string(String)
        case array(ValueArray)

        /// An integer of any integer type that fits `Int`.
        public var int: Int? {
            switch self {
            case let .uint8(v): return Int(v)
            case let .int8(v): return Int(v)
            case let .uint16(v): return Int(v)
            case let .int16(v): return Int(v)
            case let .uint32(v): return Int(v)
            case let .int32(v): return Int(v)
            case let .uint64(v): return Int(exactly: v)
            case let .int64(v): return Int(v)
            default: return nil
            }
        }

        /// A number of any numeric type.
        public var double: Double? {
            switch self {
            case let .float32(v): return Double(v)
            case let .float64(v): return v
            default: return int.map(Double.init)
            }
        }

        public var string: String? { if case let .string(s) = self { return s }; return nil }
        public var bool: Bool? { if case let .bool(b) = self { return b }; return nil }
        public var array: ValueArray? { if case let .array(a) = self { return a }; return nil }
    }

    /// An array value. Numbers stay as their bytes (one copy, decoded on access), so a long array
    /// costs what it costs in the file; strings are decoded once.
    public struct ValueArray: Equatable, Sendable {
        public let elementType: ValueType
        public let count: Int
        enum Storage: Equatable, Sendable { case bytes([UInt8]), strings([String]), arrays([ValueArray]) }
        let storage: Storage

        /// Element `i` (`0 ..< count`).
        public subscript(i: Int) -> Value {
            precondition(i >= 0 && i < count, "GGUF array index \(i) out of range 0..<\(count)")
            switch storage {
            case let .strings(s): return .string(s[i])
            case let .arrays(a): return .array(a[i])
            case let .bytes(b):
                return b.withUnsafeBytes { raw in
                    let size = elementType.minimumSize
                    return GGUFFile.scalar(elementType, raw.baseAddress! + i * size)
                }
            }
        }

        /// The elements, when they are strings.
        public var strings: [String]? { if case let .strings(s) = storage { return s }; return nil }
        /// All elements as values.
        public var values: [Value] { (0..<count).map { self[$0] } }
    }

    /// One entry of the tensor table.
    public struct TensorInfo: Sendable {
        public let name: String
        /// GGUF dimensions, contiguous one (ne0) first.
        public let dims: [Int]
        public let type: GGMLType
        /// Byte offset of the data from the start of the file.
        public let offset: Int
        public let byteCount: Int
        public let elementCount: Int
        /// Row-major shape: `dims` reversed.
        public var shape: [Int] { dims.reversed() }
    }

    public let path: String
    public let version: Int
    /// Metadata entries in file order.
    public let metadata: [(key: String, value: Value)]
    /// Tensors in file order.
    public let tensors: [TensorInfo]
    /// `general.alignment` (32 when absent).
    public let alignment: Int
    /// Start of the data section.
    public let dataOffset: Int
    private let data: Data
    private let metadataIndex: [String: Int]
    private let tensorIndex: [String: Int]

    /// Most dimensions a ggml tensor has.
    static let maxDimensions = 4
    /// Deepest nesting of arrays in metadata accepted.
    static let maxArrayDepth = 4

    /// Memory-maps and validates a file.
    public init(url: URL) throws {
        try self.init(data: try mappedFile(url), path: url.path)
    }

    /// Parses and validates an in-memory file (used by tests and by `init(url:)`).
    public init(data: Data, path: String) throws {
        self.path = path
        self.data = data
        let header = try data.withUnsafeBytes { raw -> Header in
            var r = Reader(base: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: raw.count, path: path)
            return try r.header()
        }
        version = header.version
        metadata = header.metadata
        tensors = header.tensors
        alignment = header.alignment
        dataOffset = header.dataOffset
        metadataIndex = header.metadataIndex
        tensorIndex = header.tensorIndex
    }

    /// The metadata value of `key`.
    public subscript(key: String) -> Value? { metadataIndex[key].map { metadata[$0].value } }

    /// The table entry of a tensor.
    public func info(_ name: String) -> TensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// Tensor names in file order.
    public var names: [String] { tensors.map(\.name) }

    /// Dequantizes a tensor to `Float` in GGUF's layout (shape = dims reversed).
    public func tensor(_ name: String) throws -> Tensor {
        guard let info = info(name) else { throw CheckpointError.tensorMismatch(name: name, reason: "not in \(path)") }
        return try tensor(info)
    }

    /// Dequantizes a tensor; `rowOrder(r)` is the destination row of stored row `r` (a row is
    /// `dims[0]` values), for callers that reorder rows as they decode.
    public func tensor(_ info: TensorInfo, rowOrder: ((Int) -> Int)? = nil) throws -> Tensor {
        guard info.type.isDequantizable else {
            throw CheckpointError.unsupportedModel(
                "\(path): unsupported GGUF tensor type \(info.type.name) (tensor \(info.name)); Verdict dequantizes "
                    + GGMLType.dequantizable.map(\.name).joined(separator: ", "))
        }
        guard let i = tensorIndex[info.name], tensors[i].offset == info.offset, tensors[i].byteCount == info.byteCount else {
            throw CheckpointError.tensorMismatch(name: info.name, reason: "not a tensor of \(path)")
        }
        let rowLength = info.dims.first ?? 1
        let rows = rowLength == 0 ? 0 : info.elementCount / rowLength
        let rowBlocks = rowLength / info.type.blockSize, rowBytes = rowBlocks * info.type.typeSize
        let type = info.type
        return Tensor(shape: info.shape) { out in
            guard rows > 0, rowLength > 0 else { return }
            let dst = out.baseAddress!
            data.withUnsafeBytes { raw in
                let src = raw.baseAddress! + info.offset
                // Whole rows per task, at least ~64k values each.
                Parallel.chunks(rows, granularity: max(1, 65536 / rowLength)) { range in
                    if let rowOrder {
                        for r in range { GGMLDequantizer.decode(type, src + r * rowBytes, dst + rowOrder(r) * rowLength, blocks: rowBlocks) }
                    } else {
                        GGMLDequantizer.decode(type, src + range.lowerBound * rowBytes, dst + range.lowerBound * rowLength,
                                               blocks: rowBlocks * range.count)
                    }
                }
            }
        }
    }

    /// Decodes one scalar of a numeric type at `p` (little-endian).
    static func scalar(_ type: ValueType, _ p: UnsafeRawPointer) -> Value {
        switch type {
        case .uint8: return .uint8(p.load(as: UInt8.self))
        case .int8: return .int8(p.load(as: Int8.self))
        case .bool: return .bool(p.load(as: UInt8.self) != 0)
        case .uint16: return .uint16(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
        case .int16: return .int16(Int16(littleEndian: p.loadUnaligned(as: Int16.self)))
        case .uint32: return .uint32(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
        case .int32: return .int32(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
        case .float32: return .float32(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))))
        case .uint64: return .uint64(UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
        case .int64: return .int64(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
        case .float64: return .float64(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
        case .string, .array: preconditionFailure("GGUFFile.scalar: \(type) is not a scalar type")
        }
    }

    private struct Header {
        var version: Int
        var metadata: [(key: String, value: Value)]
        var metadataIndex: [String: Int]
        var tensors: [TensorInfo]
        var tensorIndex: [String: Int]
        var alignment: Int
        var dataOffset: Int
    }

    /// A bounds-checked cursor over the file's bytes.
    private struct Reader {
        let base: UnsafeRawPointer
        let count: Int
        let path: String
        var offset = 0

        init(base: UnsafeRawPointer, count: Int, path: String) { self.base = base; self.count = count; self.path = path }

        var remaining: Int { count - offset }

        func fail(_ reason: String) -> CheckpointError { .malformed(file: path, reason: reason) }

        mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws {
            guard n >= 0, n <= remaining else {
                throw fail("truncated: \(what()) needs \(n) bytes at offset \(offset), the file has \(remaining) left")
            }
        }

        mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 {
            try need(4, what())
            defer { offset += 4 }
            return UInt32(littleEndian: (base + offset).loadUnaligned(as: UInt32.self))
        }

        mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 {
            try need(8, what())
            defer { offset += 8 }
            return UInt64(littleEndian: (base + offset).loadUnaligned(as: UInt64.self))
        }

        /// A u64 count that must fit in the rest of the file at `unit` bytes per item.
        mutating func count(_ what: @autoclosure () -> String, unit: Int) throws -> Int {
            let at = offset
            let n = try u64(what())
            guard n <= UInt64(remaining / max(unit, 1)) else {
                throw fail("\(what()) \(n) at offset \(at) cannot fit in the \(remaining) bytes left in the file")
            }
            return Int(n)
        }

        mutating func string(_ what: @autoclosure () -> String) throws -> String {
            let n = try count("length of \(what())", unit: 1)
            defer { offset += n }
            return String(decoding: UnsafeRawBufferPointer(start: base + offset, count: n), as: UTF8.self)
        }

        mutating func valueType(_ what: @autoclosure () -> String) throws -> ValueType {
            let at = offset
            let raw = try u32(what())
            guard let t = ValueType(rawValue: raw) else { throw fail("\(what()): unknown metadata value type \(raw) at offset \(at)") }
            return t
        }

        mutating func value(_ type: ValueType, _ key: String, depth: Int) throws -> Value {
            switch type {
            case .string: return .string(try string("string value of \(key)"))
            case .array:
                guard depth < GGUFFile.maxArrayDepth else { throw fail("\(key): arrays nested deeper than \(GGUFFile.maxArrayDepth)") }
                let elementType = try valueType("element type of \(key)")
                let n = try count("element count of \(key)", unit: elementType.minimumSize)
                switch elementType {
                case .string:
                    var items: [String] = []
                    items.reserveCapacity(n)
                    for i in 0..<n { items.append(try string("\(key)[\(i)]")) }
                    return .array(ValueArray(elementType: .string, count: n, storage: .strings(items)))
                case .array:
                    var items: [ValueArray] = []
                    items.reserveCapacity(n)
                    for i in 0..<n {
                        guard case let .array(a) = try value(.array, "\(key)[\(i)]", depth: depth + 1) else { preconditionFailure() }
                        items.append(a)
                    }
                    return .array(ValueArray(elementType: .array, count: n, storage: .arrays(items)))
                default:
                    let size = n * elementType.minimumSize
                    try need(size, "\(key)")
                    let bytes = [UInt8](UnsafeRawBufferPointer(start: base + offset, count: size))
                    offset += size
                    return .array(ValueArray(elementType: elementType, count: n, storage: .bytes(bytes)))
                }
            default:
                try need(type.minimumSize, "value of \(key)")
                defer { offset += type.minimumSize }
                return GGUFFile.scalar(type, base + offset)
            }
        }

        mutating func header() throws -> Header {
            guard count >= 4 else { throw fail("file is \(count) bytes, too short for the GGUF magic") }
            guard base.load(as: UInt8.self) == 0x47, (base + 1).load(as: UInt8.self) == 0x47,
                  (base + 2).load(as: UInt8.self) == 0x55, (base + 3).load(as: UInt8.self) == 0x46
            else { throw fail("not a GGUF file (no \"GGUF\" magic)") }
            offset = 4
            let version = try u32("version")
            if version & 0xFFFF == 0, version != 0 { throw fail("big-endian GGUF files are not supported") }
            guard version == 2 || version == 3 else { throw fail("GGUF version \(version) is not supported (2 or 3)") }
            // Smallest encodings: a tensor info is 8 (name length) + 4 + 4 + 8 bytes, a metadata entry 8 + 4 + 1.
            let tensorCountAt = offset
            let tensorCount = try u64("tensor count")
            let metadataCount = try count("metadata count", unit: 13)
            guard tensorCount <= UInt64(remaining / 24) else {
                throw fail("tensor count \(tensorCount) at offset \(tensorCountAt) cannot fit in the \(remaining) bytes left in the file")
            }

            var metadata: [(key: String, value: Value)] = []
            var metadataIndex: [String: Int] = [:]
            metadata.reserveCapacity(metadataCount)
            for i in 0..<metadataCount {
                let key = try string("key of metadata entry \(i)")
                let type = try valueType("type of \(key)")
                let v = try value(type, key, depth: 0)
                guard metadataIndex[key] == nil else { throw fail("metadata key \(key) appears twice") }
                metadataIndex[key] = metadata.count
                metadata.append((key, v))
            }

            var alignment = 32
            if let i = metadataIndex["general.alignment"] {
                guard case let .uint32(a) = metadata[i].value else { throw fail("general.alignment is not a uint32") }
                guard a > 0, a & (a - 1) == 0 else { throw fail("general.alignment \(a) is not a power of two") }
                alignment = Int(a)
            }

            struct Raw { var name: String; var dims: [Int]; var type: GGMLType; var offset: UInt64; var elements: Int; var bytes: Int }
            var raws: [Raw] = []
            raws.reserveCapacity(Int(tensorCount))
            var tensorIndex: [String: Int] = [:]
            for i in 0..<Int(tensorCount) {
                let name = try string("name of tensor \(i)")
                let nDims = try u32("dimension count of \(name)")
                guard nDims <= UInt32(GGUFFile.maxDimensions) else { throw fail("\(name): \(nDims) dimensions (ggml has at most \(GGUFFile.maxDimensions))") }
                var dims: [Int] = []
                var elements = 1
                for _ in 0..<Int(nDims) {
                    let d = try u64("dimensions of \(name)")
                    // No tensor has more elements than the file has bits; this also keeps products from overflowing.
                    guard d <= UInt64(count) * 8, case let (p, false) = elements.multipliedReportingOverflow(by: Int(d)), p <= count * 8 else {
                        throw fail("\(name): dimensions \(dims + [Int(clamping: d)]) are larger than the file")
                    }
                    dims.append(Int(d))
                    elements = p
                }
                let typeAt = offset
                let rawType = try u32("type of \(name)")
                guard let type = GGMLType(rawValue: rawType) else { throw fail("\(name): unknown GGUF tensor type id \(rawType) at offset \(typeAt)") }
                guard (dims.first ?? 1) % type.blockSize == 0 else {
                    throw fail("\(name): first dimension \(dims.first ?? 1) is not a multiple of the \(type.name) block size \(type.blockSize)")
                }
                let tensorOffset = try u64("data offset of \(name)")
                guard tensorIndex[name] == nil else { throw fail("tensor \(name) appears twice") }
                tensorIndex[name] = raws.count
                raws.append(Raw(name: name, dims: dims, type: type, offset: tensorOffset, elements: elements,
                                bytes: elements / type.blockSize * type.typeSize))
            }

            // The data section starts at the next multiple of the alignment.
            let dataOffset = (offset + alignment - 1) / alignment * alignment
            let dataSize = max(0, count - dataOffset)
            var tensors: [TensorInfo] = []
            tensors.reserveCapacity(raws.count)
            for t in raws {
                guard t.offset <= UInt64(dataSize), t.bytes <= dataSize - Int(t.offset) else {
                    throw fail("\(t.name): \(t.bytes) bytes of \(t.type.name) at data offset \(t.offset) run past the end of the "
                        + "\(dataSize)-byte data section (file truncated?)")
                }
                tensors.append(TensorInfo(name: t.name, dims: t.dims, type: t.type, offset: dataOffset + Int(t.offset),
                                          byteCount: t.bytes, elementCount: t.elements))
            }
            let sorted = tensors.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
            for (a, b) in zip(sorted, sorted.dropFirst()) where b.offset < a.offset + a.byteCount {
                throw fail("tensors \(a.name) and \(b.name) overlap")
            }
            return Header(version: Int(version), metadata: metadata, metadataIndex: metadataIndex, tensors: tensors,
                          tensorIndex: tensorIndex, alignment: alignment, dataOffset: dataOffset)
        }
    }
}
