import Foundation
import VerdictTensor

/// Element types of stored tensors. Verdict computes in `Float`; other float types are widened at load.
public enum DType: String, Sendable, CaseIterable {
    case float32 = "F32", float16 = "F16", bfloat16 = "BF16", float64 = "F64"
    case int64 = "I64", int32 = "I32", int16 = "I16", int8 = "I8", uint8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// Decodes `count` little-endian elements starting at `bytes` into floats.
    func decode(_ bytes: UnsafeRawPointer, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, n in
            let o = out.baseAddress!
            switch self {
            case .float32: memcpy(o, bytes, count * 4)
            case .float16:
                let tmp = [UInt16](unsafeUninitializedCapacity: count) { b, c in memcpy(b.baseAddress!, bytes, count * 2); c = count }
                Kernels.float16ToFloat(tmp, o, count: count)
            case .bfloat16:
                let tmp = [UInt16](unsafeUninitializedCapacity: count) { b, c in memcpy(b.baseAddress!, bytes, count * 2); c = count }
                Kernels.bfloat16ToFloat(tmp, o, count: count)
            case .float64: for i in 0..<count { o[i] = Float(bytes.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
            case .int64: for i in 0..<count { o[i] = Float(bytes.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
            case .int32: for i in 0..<count { o[i] = Float(bytes.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
            case .int16: for i in 0..<count { o[i] = Float(bytes.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)) }
            case .int8: for i in 0..<count { o[i] = Float(bytes.load(fromByteOffset: i, as: Int8.self)) }
            case .uint8, .bool: for i in 0..<count { o[i] = Float(bytes.load(fromByteOffset: i, as: UInt8.self)) }
            }
            n = count
        }
    }

    /// Encodes floats as `self` (float types only), little-endian.
    func encode(_ values: [Float]) -> Data {
        switch self {
        case .float16, .bfloat16:
            var out = [UInt16](repeating: 0, count: values.count)
            if self == .float16 { Kernels.floatToFloat16(values, &out, count: values.count) } else { Kernels.floatToBFloat16(values, &out, count: values.count) }
            return out.withUnsafeBytes { Data($0) }
        case .float64: return values.map(Double.init).withUnsafeBytes { Data($0) }
        default: return values.withUnsafeBytes { Data($0) }
        }
    }
}
