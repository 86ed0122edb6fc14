import Foundation

/// xoshiro256** seeded through SplitMix64: one 64-bit seed gives the same stream
/// of numbers on every machine and every run.
///
/// References: Blackman & Vigna, "Scrambled linear pseudorandom number generators"
/// (2018); SplitMix64 from Steele, Lea & Flood (2014), as the authors recommend for
/// seeding.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    /// The generator whose state `words` returned: it goes on with the same stream.
    init(words: SIMD4<UInt64>) {
        state = (words[0], words[1], words[2], words[3])
    }

    /// The four words of xoshiro256**'s state: the whole generator.
    var words: SIMD4<UInt64> { SIMD4(state.0, state.1, state.2, state.3) }

    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    /// A double uniform in [0, 1), from the top 53 bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A double uniform in [−limit, limit).
    public mutating func nextUniform(limit: Double) -> Double {
        (2 * nextUnit() - 1) * limit
    }

    /// A standard normal double (Box–Muller; one of each pair is used, so the
    /// stream does not depend on what was drawn before).
    public mutating func nextNormal() -> Double {
        let u1 = 1 - nextUnit()  // (0, 1]: the logarithm stays finite
        let u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// An integer uniform in 0..<bound, without modulo bias (Lemire's method).
    public mutating func nextIndex(below bound: Int) -> Int {
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    @inline(__always)
    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
