/// An n-dimensional `Float` tensor: contiguous row-major storage plus a shape.
///
/// A value type (copy-on-write through its array storage). Kernels read and write it through
/// `withUnsafeBufferPointer`/`withUnsafeMutableBufferPointer`; everything that computes lives in
/// `Ops` (fast kernels) and `ReferenceOps` (plain loops, used by tests to check the kernels).
public struct Tensor: Equatable, Sendable {
    /// Sizes of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order.
    public var scalars: [Float]

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor with the given elements; `scalars.count` must equal the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count, "shape \(shape) does not hold \(scalars.count) elements")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` whose elements `body` writes (they start uninitialised).
    public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: n) { buffer, count in
            body(buffer)
            count = n
        }
    }

    /// Number of elements.
    public var count: Int { scalars.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, scalars: scalars) }

    /// The transpose of a matrix: `[rows, columns]` → `[columns, rows]`.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed: a matrix is needed, not \(shape)")
        let (rows, columns) = (shape[0], shape[1])
        return Tensor(shape: [columns, rows]) { out in
            scalars.withUnsafeBufferPointer { x in
                for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = x[r * columns + c] } }
            }
        }
    }

    /// Rows `range` of a tensor seen as a matrix whose rows are its first dimension.
    public func rows(_ range: Range<Int>) -> Tensor {
        let width = shape.dropFirst().reduce(1, *)
        return Tensor(shape: [range.count] + shape.dropFirst(), scalars: Array(scalars[(range.lowerBound * width)..<(range.upperBound * width)]))
    }

    /// Element at a multi-dimensional index.
    public subscript(_ index: Int...) -> Float {
        get { scalars[flatIndex(index)] }
        set { scalars[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) for a tensor of rank \(shape.count)")
        var flat = 0
        for (i, d) in zip(index, shape) { precondition(i >= 0 && i < d, "index out of range"); flat = flat * d + i }
        return flat
    }

    /// Largest absolute element-wise difference to `other` (same shape).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        var m: Float = 0
        for (a, b) in zip(scalars, other.scalars) { m = max(m, abs(a - b)) }
        return m
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = scalars.prefix(6).map { String(format: "%.5g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 6 ? ", …" : "")])"
    }
}
