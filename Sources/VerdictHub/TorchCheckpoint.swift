import Foundation
import VerdictTensor

/// Reads `pytorch_model.bin` files written by `torch.save(state_dict)`: a zip archive holding
/// `<prefix>/data.pkl` (a pickle describing the tensors) and `<prefix>/data/<key>` (raw storages).
///
/// The pickle is interpreted by a tiny machine that knows only the opcodes and globals a torch
/// state dict uses (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
/// `torch._utils._rebuild_parameter`, `torch.*Storage`); anything else, such as `os.system`, is
/// refused before it could mean anything. Tensor views are bounds-checked against their storage.
public struct TorchCheckpoint {
    /// Tensor names in pickle order.
    public private(set) var names: [String] = []
    private var tensors: [String: TensorRef] = [:]
    private let archive: ZipArchive
    private let prefix: String

    struct TensorRef {
        let storageKey: String
        let dtype: DType
        let offset: Int
        let shape: [Int]
        let strides: [Int]
    }

    /// Opens and parses a checkpoint; storages are read lazily by `tensor(_:)`.
    public init(url: URL) throws {
        try self.init(data: try mappedFile(url), path: url.path)
    }

    public init(data: Data, path: String) throws {
        archive = try ZipArchive(data: data, path: path)
        guard let pkl = archive.entries.keys.filter({ $0.hasSuffix("data.pkl") }).min(by: { $0.count < $1.count }) else {
            throw CheckpointError.malformed(file: path, reason: "zip archive has no data.pkl: not a torch.save file")
        }
        prefix = String(pkl.dropLast("data.pkl".count))
        if let bo = archive.entries[prefix + "byteorder"], String(decoding: data[bo], as: UTF8.self) != "little" {
            throw CheckpointError.malformed(file: path, reason: "big-endian checkpoints are not supported")
        }
        var machine = PickleMachine(bytes: data[archive.entries[pkl]!], file: path)
        let root = try machine.run()
        guard case .dict(let items) = root else {
            throw CheckpointError.disallowedPickle(file: path, reason: "the pickle is not a state dict (a mapping of names to tensors)")
        }
        for (k, v) in items {
            guard case .string(let name) = k, case .tensor(let ref) = v else {
                throw CheckpointError.disallowedPickle(file: path, reason: "state dict entries must map names to tensors")
            }
            names.append(name)
            tensors[name] = ref
        }
    }

    /// Loads one tensor, widened to `Float` and made contiguous.
    public func tensor(_ name: String) throws -> Tensor {
        guard let ref = tensors[name] else { throw CheckpointError.tensorMismatch(name: name, reason: "not in \(archive.path)") }
        guard let range = archive.entries[prefix + "data/" + ref.storageKey] else {
            throw CheckpointError.malformed(file: archive.path, reason: "storage \(ref.storageKey) of \(name) is missing from the archive")
        }
        let size = ref.dtype.byteSize
        let storageCount = range.count / size
        let count = ref.shape.reduce(1, *)
        // Largest element index this view touches (strides come from the file: overflow is an error, not a trap).
        var last = ref.offset, overflow = false
        for (d, s) in zip(ref.shape, ref.strides) where d > 0 {
            let (step, o1) = (d - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = last.addingReportingOverflow(step)
            overflow = overflow || o1 || o2
            last = sum
        }
        // An empty view reads nothing, but its offset still slices the storage below.
        guard !overflow, ref.offset >= 0, ref.strides.allSatisfy({ $0 >= 0 }), (count == 0 ? ref.offset <= storageCount : last < storageCount) else {
            throw CheckpointError.malformed(file: archive.path, reason: "tensor \(name) (shape \(ref.shape), offset \(ref.offset)) reads past its \(storageCount)-element storage")
        }
        let storage = archive.data.withUnsafeBytes { raw in ref.dtype.decode(raw.baseAddress! + range.lowerBound, count: storageCount) }
        let contiguous = zip(ref.shape, ref.strides).reversed().reduce((true, 1)) { acc, ds in
            (acc.0 && (ds.0 <= 1 || ds.1 == acc.1), acc.1 * ds.0)
        }.0
        if contiguous { return Tensor(shape: ref.shape, scalars: Array(storage[ref.offset..<(ref.offset + count)])) }
        var out = [Float](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: ref.shape.count)
        for i in 0..<count {
            var o = ref.offset
            for (j, s) in zip(index, ref.strides) { o += j * s }
            out[i] = storage[o]
            var d = ref.shape.count - 1
            while d >= 0 { index[d] += 1; if index[d] < ref.shape[d] { break }; index[d] = 0; d -= 1 }
        }
        return Tensor(shape: ref.shape, scalars: out)
    }
}

/// The subset of the pickle virtual machine that torch state dicts need.
private struct PickleMachine {
    indirect enum Value {
        case none, bool(Bool), int(Int), float(Double), string(String), bytes(Data)
        case tuple([Value]), list([Value]), dict([(Value, Value)])
        case global(String), storage(key: String, dtype: DType), tensor(TorchCheckpoint.TensorRef), mark
    }

    let bytes: Data
    let file: String
    var i: Int
    var stack: [Value] = []
    var memo: [Int: Value] = [:]

    init(bytes: Data, file: String) { self.bytes = bytes; self.file = file; self.i = bytes.startIndex }

    static let storageTypes: [String: DType] = [
        "FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16, "DoubleStorage": .float64,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
        "ByteStorage": .uint8, "BoolStorage": .bool,
    ]
    static let allowedGlobals: Set<String> = Set(["collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter"]
        + storageTypes.keys.map { "torch." + $0 })

    func refuse(_ reason: String) -> CheckpointError { .disallowedPickle(file: file, reason: reason) }
    func malformed(_ reason: String) -> CheckpointError { .malformed(file: file, reason: "data.pkl: " + reason) }

    mutating func take(_ n: Int) throws -> Data {
        guard n >= 0, i + n <= bytes.endIndex else { throw malformed("truncated pickle") }
        defer { i += n }
        return bytes[i..<(i + n)]
    }
    mutating func byte() throws -> UInt8 { try take(1).first! }
    mutating func uint(_ n: Int) throws -> Int { try take(n).reversed().reduce(0) { $0 << 8 | Int($1) } }
    mutating func pop() throws -> Value { guard let v = stack.popLast() else { throw malformed("stack underflow") }; return v }
    mutating func popMark() throws -> [Value] {
        guard let m = stack.lastIndex(where: { if case .mark = $0 { return true }; return false }) else { throw malformed("missing MARK") }
        let items = Array(stack[(m + 1)...])
        stack.removeSubrange(m...)
        return items
    }
    mutating func line() throws -> String {
        guard let end = bytes[i...].firstIndex(of: 0x0A) else { throw malformed("unterminated GLOBAL") }
        defer { i = end + 1 }
        return String(decoding: bytes[i..<end], as: UTF8.self)
    }

    mutating func global(_ module: String, _ name: String) throws -> Value {
        let full = module + "." + name
        guard Self.allowedGlobals.contains(full) else {
            throw refuse("the pickle references \(full), which a torch state dict never needs (allowed: \(Self.allowedGlobals.sorted().joined(separator: ", ")))")
        }
        return .global(full)
    }

    mutating func run() throws -> Value {
        var steps = 0
        while true {
            steps += 1
            guard steps < 50_000_000 else { throw malformed("pickle too long") }
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()                                  // PROTO
            case 0x95: _ = try take(8)                                 // FRAME
            case UInt8(ascii: "}"): stack.append(.dict([]))
            case UInt8(ascii: "]"): stack.append(.list([]))
            case UInt8(ascii: ")"): stack.append(.tuple([]))
            case UInt8(ascii: "("): stack.append(.mark)
            case UInt8(ascii: "q"): memo[try uint(1)] = try top()      // BINPUT
            case UInt8(ascii: "r"): memo[try uint(4)] = try top()      // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()                    // MEMOIZE
            case UInt8(ascii: "h"), UInt8(ascii: "j"):                 // BINGET, LONG_BINGET
                let k = try uint(op == UInt8(ascii: "h") ? 1 : 4)
                guard let v = memo[k] else { throw malformed("memo \(k) unset") }
                stack.append(v)
            case UInt8(ascii: "X"), 0x8C:                              // BINUNICODE, SHORT_BINUNICODE
                let n = try uint(op == 0x8C ? 1 : 4)
                guard let s = String(validating: try take(n), as: UTF8.self) else { throw malformed("invalid UTF-8 string") }
                stack.append(.string(s))
            case UInt8(ascii: "C"), UInt8(ascii: "B"):                 // SHORT_BINBYTES, BINBYTES
                stack.append(.bytes(try take(try uint(op == UInt8(ascii: "C") ? 1 : 4))))
            case UInt8(ascii: "c"):                                    // GLOBAL
                let module = try line(), name = try line()
                stack.append(try global(module, name))
            case 0x93:                                                 // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else { throw malformed("STACK_GLOBAL needs two strings") }
                stack.append(try global(module, name))
            case UInt8(ascii: "t"): stack.append(.tuple(try popMark()))
            case 0x85: stack.append(.tuple([try pop()]))
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case UInt8(ascii: "J"): stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))
            case UInt8(ascii: "K"): stack.append(.int(try uint(1)))
            case UInt8(ascii: "M"): stack.append(.int(try uint(2)))
            case 0x8A:                                                 // LONG1
                let n = try uint(1)
                guard n <= 8 else { throw malformed("integer wider than 64 bits") }
                let raw = try take(n)
                var v = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                if n > 0, n < 8, raw.last! & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }
                stack.append(.int(Int(Int64(bitPattern: v))))
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case UInt8(ascii: "N"): stack.append(.none)
            case UInt8(ascii: "G"): stack.append(.float(Double(bitPattern: UInt64(try uint8BigEndian()))))
            case UInt8(ascii: "Q"): stack.append(try persistentLoad(try pop()))   // BINPERSID
            case UInt8(ascii: "R"):                                    // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args))
            case UInt8(ascii: "b"):                                    // BUILD: only an OrderedDict's _metadata
                _ = try pop()
                guard case .dict = try top() else { throw refuse("BUILD on something other than a state dict") }
            case UInt8(ascii: "s"):
                let v = try pop(), k = try pop()
                try setItems([k, v])
            case UInt8(ascii: "u"): try setItems(try popMark())
            case UInt8(ascii: "a"):
                let v = try pop()
                guard case .list(var l) = try pop() else { throw malformed("APPEND to a non-list") }
                l.append(v); stack.append(.list(l))
            case UInt8(ascii: "e"):
                let items = try popMark()
                guard case .list(var l) = try pop() else { throw malformed("APPENDS to a non-list") }
                l += items; stack.append(.list(l))
            case UInt8(ascii: "."): return try pop()                   // STOP
            default:
                throw refuse(String(format: "pickle opcode 0x%02x is not used by torch state dicts", op))
            }
        }
    }

    mutating func uint8BigEndian() throws -> Int { try take(8).reduce(0) { $0 << 8 | Int($1) } }
    func top() throws -> Value { guard let v = stack.last else { throw malformed("stack underflow") }; return v }

    mutating func setItems(_ kv: [Value]) throws {
        guard kv.count % 2 == 0, case .dict(var d) = try pop() else { throw malformed("SETITEM(S) on a non-dict") }
        for j in stride(from: 0, to: kv.count, by: 2) { d.append((kv[j], kv[j + 1])) }
        stack.append(.dict(d))
    }

    func persistentLoad(_ pid: Value) throws -> Value {
        guard case .tuple(let t) = pid, t.count == 5, case .string("storage") = t[0], case .global(let type) = t[1],
              case .string(let key) = t[2] else { throw refuse("persistent id is not a torch storage reference") }
        guard let dtype = Self.storageTypes[String(type.dropFirst("torch.".count))] else { throw refuse("unknown storage type \(type)") }
        guard !key.contains("/"), !key.contains("..") else { throw refuse("storage key \(key) is not a plain name") }
        return .storage(key: key, dtype: dtype)
    }

    func reduce(_ callable: Value, _ args: Value) throws -> Value {
        guard case .global(let name) = callable, case .tuple(let a) = args else { throw refuse("REDUCE of a non-callable") }
        switch name {
        case "collections.OrderedDict":
            return .dict([])
        case "torch._utils._rebuild_tensor_v2":
            guard a.count >= 4, case .storage(let key, let dtype) = a[0], case .int(let offset) = a[1],
                  case .tuple(let size) = a[2], case .tuple(let stride) = a[3] else { throw refuse("malformed _rebuild_tensor_v2 arguments") }
            var shape: [Int] = [], strides: [Int] = []
            for v in size { guard case .int(let d) = v, d >= 0 else { throw malformed("bad tensor size") }; shape.append(d) }
            for v in stride { guard case .int(let s) = v else { throw malformed("bad tensor stride") }; strides.append(s) }
            guard shape.count == strides.count else { throw malformed("size and stride ranks differ") }
            var n = 1
            for d in shape { let (p, o) = n.multipliedReportingOverflow(by: d); guard !o, p < Int(Int32.max) * 64 else { throw malformed("tensor too large") }; n = p }
            return .tensor(TorchCheckpoint.TensorRef(storageKey: key, dtype: dtype, offset: offset, shape: shape, strides: strides))
        case "torch._utils._rebuild_parameter":
            guard let first = a.first, case .tensor = first else { throw refuse("malformed _rebuild_parameter arguments") }
            return first
        default:
            throw refuse("calling \(name) is not allowed")
        }
    }
}
