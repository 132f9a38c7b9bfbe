import Foundation
import VerdictTensor

/// A flat store of named tensors whose names are the checkpoint's names
/// (`bert.encoder.layer.3.attention.self.query.weight`). Parameters, their gradients and the
/// optimizer's moments all use this one type, so saving, loading and updating iterate the same keys.
public struct ParameterStore: Sendable {
    public private(set) var tensors: [String: Tensor] = [:]
    /// Names in registration order (the order checkpoints are written in).
    public private(set) var names: [String] = []
    /// Linear weights packed for the matrix multiply, filled lazily once `prepareForInference()`
    /// has been called. Any change to a tensor gives this store a fresh, empty cache.
    private var packedWeights: PackedWeightCache?
    /// Shapes of the weights whose dense copy was released (`releaseDenseCopiesOfPackedWeights()`):
    /// their values live only in `packedWeights`, and reading one unpacks it.
    private var released: [String: [Int]] = [:]

    public init() {}

    /// Packs each `Linear` weight the first time a forward pass uses it and reuses the packed copy
    /// afterwards (about half the weight memory again, for much faster small batches); with
    /// `.int8`, the packed copy is quantised (`QuantizedMatrix`) and `Linear` layers compute in
    /// int8. For models that serve predictions; training leaves it off, since its weights change
    /// every step.
    public mutating func prepareForInference(precision: InferencePrecision = .float32) {
        if packedWeights?.precision != precision { invalidatePackedWeights(); packedWeights = PackedWeightCache(precision: precision) }
    }

    /// The precision `Linear` layers compute in: `.float32` unless `prepareForInference(precision:)` chose another.
    public var precision: InferencePrecision { packedWeights?.precision ?? .float32 }

    /// `.bfloat16` when every parameter was read from a checkpoint that stores it as bfloat16, so
    /// packing the weights as bfloat16 changes no value; else `.float32` (set by the loader).
    public internal(set) var storedPrecision = InferencePrecision.float32

    /// What `prepareForInference(precision: nil)` chooses: the precision already prepared (int8
    /// for a checkpoint in Verdict's quantised layout), else `storedPrecision`.
    public var defaultInferencePrecision: InferencePrecision { packedWeights?.precision ?? storedPrecision }

    /// The packed form of the 2-D tensor `name`, when `prepareForInference()` was called.
    func packedWeight(_ name: String) -> PackedWeight? {
        guard let packedWeights else { return nil }
        if let hit = packedWeights.existing(name) { return hit }
        guard let weight = tensors[name] else { return nil }
        return packedWeights.packed(name, weight)
    }

    /// Packs each of `names` (2-D `Linear` weights) and drops its dense copy right away, one
    /// weight at a time, so memory never holds both copies of the model: half the weight memory
    /// of a model that only predicts. Reading such a weight unpacks it (exactly from `Float`
    /// panels; rounded from bfloat16, dequantised from int8); changing any tensor brings every
    /// dense copy back first, from those values.
    public mutating func packReleasingDenseCopies(_ names: [String], precision: InferencePrecision = .float32) {
        prepareForInference(precision: precision)
        guard let packedWeights else { return }
        for name in names {
            guard let weight = tensors[name], weight.rank == 2 else { continue }
            _ = packedWeights.packed(name, weight)
            released[name] = weight.shape
            tensors[name] = nil
        }
    }

    /// Adds int8 `Linear` weights read from a quantised checkpoint (the store then computes in
    /// int8), keeping `names` in `order`, the model's registration order, for saving.
    mutating func install(quantized entries: [(String, QuantizedMatrix)], order: [String]) {
        guard !entries.isEmpty else { return }
        prepareForInference(precision: .int8)
        guard let packedWeights else { return }
        for (name, matrix) in entries {
            packedWeights.insert(name, .int8(matrix))
            released[name] = [matrix.columns, matrix.depth]
            if !names.contains(name) { names.append(name) }
        }
        let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        names.sort { (rank[$0] ?? Int.max) < (rank[$1] ?? Int.max) }
    }

    /// The int8 form of `name` when the store computes in int8 and has quantised it.
    package func quantizedWeight(_ name: String) -> QuantizedMatrix? {
        if case .int8(let m)? = packedWeights?.existing(name) { return m }
        return nil
    }

    /// Records the names `linear` reads, when set (`SequenceClassifier.prepareForInference()`
    /// runs a one-token forward pass with it to learn which weights are `Linear` weights).
    var linearNames: LinearNameRecorder? = nil

    /// Called before any tensor changes: restores released weights, then gives this store a fresh
    /// cache (copies of this store keep their still valid one). Changed values are no longer the
    /// checkpoint's, so they are no longer known to be bfloat16 (`storedPrecision`).
    private mutating func invalidatePackedWeights() {
        storedPrecision = .float32
        guard let cache = packedWeights else { return }
        for name in released.keys { tensors[name] = cache.existing(name)?.unpackedLinearWeight() }
        released = [:]
        packedWeights = PackedWeightCache(precision: cache.precision)
    }

    /// The tensor called `name`; a missing name is a programming error in a model file.
    public subscript(name: String) -> Tensor {
        get {
            if let t = tensors[name] { return t }
            guard released[name] != nil, let packed = packedWeights?.existing(name) else { preconditionFailure("no parameter \(name)") }
            return packed.unpackedLinearWeight()
        }
        set {
            invalidatePackedWeights()
            if tensors.updateValue(newValue, forKey: name) == nil { names.append(name) }
        }
    }

    public func contains(_ name: String) -> Bool { tensors[name] != nil || released[name] != nil }

    /// The shape of the tensor called `name`, without unpacking a released weight.
    public func shape(of name: String) -> [Int] { tensors[name]?.shape ?? released[name] ?? self[name].shape }

    /// A store with the same names and shapes, all zeros.
    public func zeros() -> ParameterStore {
        var z = ParameterStore()
        for n in names { z[n] = Tensor(shape: shape(of: n)) }
        return z
    }

    /// Sets every tensor to zero in place (reusing the memory of a gradient store between steps).
    public mutating func zeroAll() {
        invalidatePackedWeights()
        for n in names { tensors[n]!.scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
    }

    /// Whether `name` is a normalisation layer's parameter by `transformers`' naming: its
    /// lower-cased name holds `layernorm` or `rmsnorm`, or has a component `norm` or ending in
    /// `_norm` (`LayerNorm`, `sa_layer_norm`, ModernBERT's `attn_norm`, `head.norm`), or starting
    /// with `ln_` (GPT-2's `ln_1`, `ln_f`, which `Trainer` finds by module type).
    public static func isNormParameter(_ name: String) -> Bool {
        let n = name.lowercased()
        if n.contains("layernorm") || n.contains("rmsnorm") { return true }
        return n.split(separator: ".", omittingEmptySubsequences: false).contains { $0 == "norm" || $0.hasSuffix("_norm") || $0.hasPrefix("ln_") }
    }

    /// Total number of scalars.
    public var scalarCount: Int { names.reduce(0) { $0 + shape(of: $1).reduce(1, *) } }

    /// Adds `other[name]` into each tensor (names must match).
    public mutating func add(_ other: ParameterStore) {
        invalidatePackedWeights()
        for n in other.names { Ops.addInPlace(&tensors[n]!, other[n]) }
    }

    /// Accumulates `value` into the tensor called `name`.
    public mutating func accumulate(_ name: String, _ value: Tensor) {
        invalidatePackedWeights()
        if tensors[name] == nil { self[name] = value } else { Ops.addInPlace(&tensors[name]!, value) }
    }

    /// Gives in-place access to one tensor.
    public mutating func modify<R>(_ name: String, _ body: (inout Tensor) -> R) -> R {
        invalidatePackedWeights()
        guard tensors[name] != nil else { preconditionFailure("no parameter \(name)") }
        return body(&tensors[name]!)
    }
}

/// The `Linear` weights one forward pass reads.
/// Unchecked: `seen` is only touched under `lock`.
final class LinearNameRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String] = []
    func record(_ name: String) { lock.withLock { if !seen.contains(name) { seen.append(name) } } }
    var names: [String] { lock.withLock { seen } }
}

/// A `Linear` weight in the form the matrix multiply reads.
enum PackedWeight: Sendable {
    /// Packed `Float` or bfloat16 panels (`PackedMatrix.element`).
    case panels(PackedMatrix)
    case int8(QuantizedMatrix)

    /// The dense weight: exactly the original for `Float` panels, rounded for bfloat16 ones, the
    /// dequantised one for `.int8`.
    func unpackedLinearWeight() -> Tensor {
        switch self {
        case .panels(let m): return m.unpackedLinearWeight()
        case .int8(let m): return m.dequantizedLinearWeight()
        }
    }
}

/// Packed `Linear` weights by name, shared by copies of a `ParameterStore` that have not changed.
/// Unchecked: `entries` is only touched under `lock`; `precision` is a constant.
final class PackedWeightCache: @unchecked Sendable {
    let precision: InferencePrecision
    private let lock = NSLock()
    private var entries: [String: PackedWeight] = [:]

    init(precision: InferencePrecision) { self.precision = precision }

    func existing(_ name: String) -> PackedWeight? { lock.withLock { entries[name] } }
    func insert(_ name: String, _ weight: PackedWeight) { lock.withLock { entries[name] = weight } }
    var names: [String] { lock.withLock { Array(entries.keys) } }

    func packed(_ name: String, _ weight: Tensor) -> PackedWeight {
        if let hit = lock.withLock({ entries[name] }) { return hit }
        let packed: PackedWeight
        switch precision {
        case .float32: packed = .panels(PackedMatrix(linearWeight: weight))
        case .bfloat16: packed = .panels(PackedMatrix(linearWeight: weight, element: .bfloat16))
        case .int8: packed = .int8(QuantizedMatrix(linearWeight: weight))
        }
        return lock.withLock {
            if let raced = entries[name] { return raced }
            entries[name] = packed
            return packed
        }
    }
}
