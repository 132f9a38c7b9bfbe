import Foundation
import VerdictJSON
import VerdictTensor

/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// mapping names to `{dtype, shape, data_offsets}`, then the tensor bytes.
///
/// The file is memory-mapped and treated as hostile: the header length, every offset and every
/// shape is checked against the file before a byte of tensor data is touched; overlapping or
/// out-of-range tensors, and shapes whose size disagrees with their byte range, are errors.
public struct SafeTensorsFile {
    /// Where one tensor lives in the file.
    public struct Entry: Sendable {
        public let dtype: DType
        public let shape: [Int]
        /// Byte range within the data section.
        public let range: Range<Int>
    }

    public let path: String
    /// Tensors in file order.
    public private(set) var entries: [(name: String, entry: Entry)] = []
    /// `__metadata__` strings.
    public private(set) var metadata: [String: String] = [:]
    private let data: Data
    /// Whether `data` is a read-only file mapping, whose pages a loaded tensor may give back.
    private var isFileMapping = false
    private let dataStart: Int
    private let index: [String: Int]

    /// Opens and validates a file.
    public init(url: URL) throws {
        try self.init(data: try mappedFile(url), path: url.path)
        isFileMapping = true
    }

    /// Parses an in-memory file (used by tests and by `init(url:)`).
    public init(data: Data, path: String) throws {
        self.path = path
        self.data = data
        func fail(_ reason: String) -> CheckpointError { .malformed(file: path, reason: reason) }
        guard data.count >= 8 else { throw fail("file is \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("header length \(headerLength) exceeds the \(data.count - 8) bytes after it")
        }
        guard headerLength <= 100_000_000 else { throw fail("header length \(headerLength) is implausibly large") }
        dataStart = 8 + Int(headerLength)
        let dataSize = data.count - dataStart
        let header: JSONNode
        do { header = try JSONNode.parse(data: data.subdata(in: 8..<dataStart), file: path) } catch {
            throw fail("header is not valid JSON (\(error))")
        }
        guard case .object = header.value else { throw fail("header is not a JSON object") }
        var entries: [(String, Entry)] = []
        var index: [String: Int] = [:]
        do {
            for (name, node) in try header.object() {
                if name == "__metadata__" {
                    for (k, v) in try node.object() { metadata[k] = try v.string() }
                    continue
                }
                guard let dtype = DType(rawValue: try node.required("dtype").string()) else {
                    throw fail("\(name): unknown dtype \(try node.required("dtype").string())")
                }
                let shape = try node.required("shape").array().map { try $0.int() }
                guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("\(name): negative dimension in shape \(shape)") }
                let offsets = try node.required("data_offsets").array().map { try $0.int() }
                guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataSize else {
                    throw fail("\(name): data_offsets \(offsets) outside the \(dataSize)-byte data section")
                }
                var elements = 1
                for d in shape {
                    let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                    guard !overflow, p <= dataSize else { throw fail("\(name): shape \(shape) is larger than the file") }
                    elements = p
                }
                guard elements * dtype.byteSize == offsets[1] - offsets[0] else {
                    throw fail("\(name): shape \(shape) of \(dtype.rawValue) needs \(elements * dtype.byteSize) bytes, data_offsets give \(offsets[1] - offsets[0])")
                }
                guard index[name] == nil else { throw fail("tensor \(name) appears twice") }
                index[name] = entries.count
                entries.append((name, Entry(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])))
            }
        } catch let e as JSONError {
            throw fail("header: \(e)")
        }
        let sorted = entries.map(\.1.range).sorted { ($0.lowerBound, $0.upperBound) < ($1.lowerBound, $1.upperBound) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.lowerBound < a.upperBound {
            throw fail("tensors overlap: byte ranges \(a) and \(b)")
        }
        self.entries = entries.map { (name: $0.0, entry: $0.1) }
        self.index = index
    }

    /// Names of all tensors in file order.
    public var names: [String] { entries.map(\.name) }

    /// Loads one tensor, widened to `Float`.
    public func tensor(_ name: String) throws -> Tensor {
        guard let i = index[name] else { throw CheckpointError.tensorMismatch(name: name, reason: "not in \(path)") }
        let e = entries[i].entry
        let count = e.shape.reduce(1, *)
        let scalars = data.withUnsafeBytes { raw in e.dtype.decode(raw.baseAddress! + dataStart + e.range.lowerBound, count: count) }
        if isFileMapping { releasePages(of: data, (dataStart + e.range.lowerBound)..<(dataStart + e.range.upperBound)) }
        return Tensor(shape: e.shape, scalars: scalars)
    }

    /// The stored dtype of a tensor.
    public func dtype(of name: String) -> DType? { index[name].map { entries[$0].entry.dtype } }

    /// Whether `name` is a weight of Verdict's int8 layout: an `I8` matrix with an `F32` vector
    /// `<name>_scale` beside it (see `quantizedMatrix(_:)`).
    public func isQuantizedWeight(_ name: String) -> Bool {
        dtype(of: name) == .int8 && dtype(of: name + QuantizedLayout.scaleSuffix) != nil
    }

    /// Loads an int8 weight of Verdict's quantised layout straight into the packed form the int8
    /// multiply reads (no `Float` copy): `<name>` `I8 [out, in]` with values in ±63 and
    /// `<name>_scale` `F32 [out]`, each positive. Anything else is a clear error.
    package func quantizedMatrix(_ name: String) throws -> QuantizedMatrix {
        let scaleName = name + QuantizedLayout.scaleSuffix
        guard let i = index[name], let j = index[scaleName] else { throw CheckpointError.tensorMismatch(name: name, reason: "no int8 weight with a \(scaleName) in \(path)") }
        let e = entries[i].entry, se = entries[j].entry
        guard e.dtype == .int8, e.shape.count == 2, e.shape[0] > 0, e.shape[1] > 0 else {
            throw CheckpointError.tensorMismatch(name: name, reason: "a quantised weight is a non-empty I8 matrix, got \(e.dtype.rawValue) \(e.shape) in \(path)")
        }
        guard se.dtype == .float32, se.shape == [e.shape[0]] else {
            throw CheckpointError.tensorMismatch(name: scaleName, reason: "the scales of \(name) are F32 [\(e.shape[0])], got \(se.dtype.rawValue) \(se.shape) in \(path)")
        }
        let (values, scales) = data.withUnsafeBytes { raw -> ([Int8], [Float]) in
            let base = raw.baseAddress! + dataStart
            let values = [Int8](UnsafeBufferPointer(start: (base + e.range.lowerBound).assumingMemoryBound(to: Int8.self), count: e.range.count))
            return (values, DType.float32.decode(base + se.range.lowerBound, count: e.shape[0]))
        }
        if isFileMapping { releasePages(of: data, (dataStart + e.range.lowerBound)..<(dataStart + e.range.upperBound)) }
        guard let matrix = QuantizedMatrix(quantized: values, scales: scales, columns: e.shape[0], depth: e.shape[1]) else {
            throw CheckpointError.tensorMismatch(name: name, reason: "int8 values must lie in ±\(QuantizedMatrix.maxQuantizedMagnitude) and scales be positive and finite (\(path))")
        }
        return matrix
    }

    /// One tensor to write: its name, stored dtype, shape and little-endian bytes.
    public struct StoredTensor {
        public var name: String, dtype: DType, shape: [Int], bytes: Data
        public init(name: String, dtype: DType, shape: [Int], bytes: Data) { self.name = name; self.dtype = dtype; self.shape = shape; self.bytes = bytes }
        /// A float tensor encoded as `dtype` (a float type).
        public init(name: String, _ t: Tensor, dtype: DType) { self.init(name: name, dtype: dtype, shape: t.shape, bytes: dtype.encode(t.scalars)) }
    }

    /// Writes tensors to `url` atomically (temporary file + rename), in the order given.
    public static func write(_ tensors: [(String, Tensor)], dtype: DType = .float32, metadata: [String: String] = ["format": "pt"], to url: URL) throws {
        try write(stored: tensors.map { StoredTensor(name: $0.0, $0.1, dtype: dtype) }, metadata: metadata, to: url)
    }

    /// Writes tensors of any dtypes (an int8 checkpoint mixes I8 and F32) atomically.
    public static func write(stored tensors: [StoredTensor], metadata: [String: String] = ["format": "pt"], to url: URL) throws {
        var header: [(String, JSONValue)] = [("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))]
        var offset = 0
        var blobs: [Data] = []
        for t in tensors {
            let blob = t.bytes
            header.append((t.name, .object([
                ("dtype", .string(t.dtype.rawValue)), ("shape", .array(t.shape.map { .int($0) })),
                ("data_offsets", .array([.int(offset), .int(offset + blob.count)])),
            ])))
            offset += blob.count
            blobs.append(blob)
        }
        var headerBytes = Data(JSONValue.object(header).serialized().utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(headerBytes)
        for b in blobs { out.append(b) }
        do { try out.write(to: url, options: .atomic) } catch {
            throw CheckpointError.unreadableFile(path: url.path, reason: fileErrorReason(error))
        }
    }
}
