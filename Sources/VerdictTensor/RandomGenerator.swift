import Foundation

/// A small, fast, seedable generator (SplitMix64) whose whole state is one integer, so training
/// checkpoints can store and restore it exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The full state; assign to restore.
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The increment of every draw: draw `i` (from 0) of a generator in state `s` is that of a
    /// generator in state `s + i · increment`, so a long stream can be drawn in parallel pieces.
    public static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The generator `draws` draws further on, without drawing them.
    public func advanced(by draws: Int) -> SplitMix64 {
        var copy = self
        copy.state &+= UInt64(truncatingIfNeeded: draws) &* Self.increment
        return copy
    }

    public mutating func next() -> UInt64 {
        state &+= Self.increment
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform float in [0, 1).
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * (1.0 / Float(1 << 24)) }

    /// A standard normal sample (Box–Muller).
    public mutating func nextGaussian() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1.0p-53, 1e-300), u2 = Double(next() >> 11) * 0x1.0p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }
}

