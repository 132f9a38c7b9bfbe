import VerdictTensor

/// A flat store of named tensors whose names are the checkpoint's names
/// (`bert.encoder.layer.3.attention.self.query.weight`). Parameters, their gradients and the
/// optimizer's moments all use this one type, so saving, loading and updating iterate the same keys.
public struct ParameterStore: Sendable {
    public private(set) var tensors: [String: Tensor] = [:]
    /// Names in registration order (the order checkpoints are written in).
    public private(set) var names: [String] = []

    public init() {}

    /// The tensor called `name`; a missing name is a programming error in a model file.
    public subscript(name: String) -> Tensor {
        get {
            guard let t = tensors[name] else { preconditionFailure("no parameter \(name)") }
            return t
        }
        set {
            if tensors.updateValue(newValue, forKey: name) == nil { names.append(name) }
        }
    }

    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    /// A store with the same names and shapes, all zeros.
    public func zeros() -> ParameterStore {
        var z = ParameterStore()
        for n in names { z[n] = Tensor(shape: tensors[n]!.shape) }
        return z
    }

    /// Sets every tensor to zero in place (reusing the memory of a gradient store between steps).
    public mutating func zeroAll() {
        for n in names { tensors[n]!.scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
    }

    /// Total number of scalars.
    public var scalarCount: Int { tensors.values.reduce(0) { $0 + $1.count } }

    /// Adds `other[name]` into each tensor (names must match).
    public mutating func add(_ other: ParameterStore) {
        for n in other.names { Ops.addInPlace(&tensors[n]!, other[n]) }
    }

    /// Accumulates `value` into the tensor called `name`.
    public mutating func accumulate(_ name: String, _ value: Tensor) {
        if tensors[name] == nil { self[name] = value } else { Ops.addInPlace(&tensors[name]!, value) }
    }

    /// Gives in-place access to one tensor.
    public mutating func modify<R>(_ name: String, _ body: (inout Tensor) -> R) -> R {
        guard tensors[name] != nil else { preconditionFailure("no parameter \(name)") }
        return body(&tensors[name]!)
    }
}
