import CBackpropKernels
import Foundation
import Testing

@testable import BackpropCore

/// tanh over arrays (activations.c): the same bits on the portable, AVX2 and AVX-512 paths and
/// for one value alone, within a few units in the last place of libm's tanh, and
/// exact at the edges.
@Suite struct TanhKernelTests {
    /// Values over every scale: the core range, the tails near ±20 where tanh rounds to
    /// ±1, tiny and subnormal values, and the edges of the reduction (k ln 2 / 2).
    static func values(_ count: Int) -> [Double] {
        var generator = SeededGenerator(seed: 11)
        var values: [Double] = [0, -0.0, 1e-310, -.leastNonzeroMagnitude, 0.34657359027997264, 0.6931471805599453, 19.06, 20, 20.5, -1e308]
        for i in 0..<count {
            let u = generator.nextUnit() - 0.5
            switch i % 4 {
            case 0: values.append(u * 50)
            case 1: values.append(u * 2)
            case 2: values.append(u * 1e-6)
            default: values.append(Foundation.scalbn(u, generator.nextIndex(below: 2100) - 1075))
            }
        }
        return values
    }

    @Test func bothPathsAndOneValueAloneGiveTheSameBits() {
        let input = Self.values(100_003)  // not a multiple of 8: the vector paths' narrower and scalar tails too
        var wide = input, vector = input, portable = input
        let count = input.count
        wide.withUnsafeMutableBufferPointer { _ = bp_tanh_on(Int32(BP_PATH_AVX512), $0.baseAddress, count) }
        vector.withUnsafeMutableBufferPointer { _ = bp_tanh_on(Int32(BP_PATH_AVX2), $0.baseAddress, count) }
        portable.withUnsafeMutableBufferPointer { _ = bp_tanh_on(Int32(BP_PATH_PORTABLE), $0.baseAddress, count) }
        var mismatches = 0, alone = 0
        for i in input.indices {
            if vector[i].bitPattern != portable[i].bitPattern || wide[i].bitPattern != portable[i].bitPattern {
                mismatches += 1
            }
            if Activation.tanh.value(input[i]).bitPattern != vector[i].bitPattern { alone += 1 }
        }
        #expect(mismatches == 0)
        #expect(alone == 0)
    }

    @Test func withinFourUlpsOfLibm() {
        var worst = 0.0, wrongSigns = 0
        for x in Self.values(100_000) {
            let got = bp_tanh_one(x), want = Foundation.tanh(x)
            if got.sign != want.sign { wrongSigns += 1 }
            guard got != want else { continue }
            worst = max(worst, abs(got - want) / want.magnitude.ulp)
        }
        #expect(wrongSigns == 0)
        #expect(worst <= 4, "worst error \(worst) ulps")
    }

    @Test func edges() {
        #expect(bp_tanh_one(0).bitPattern == (0.0).bitPattern)
        #expect(bp_tanh_one(-0.0).bitPattern == (-0.0).bitPattern)
        #expect(bp_tanh_one(.infinity) == 1)
        #expect(bp_tanh_one(-.infinity) == -1)
        #expect(bp_tanh_one(1e308) == 1)
        #expect(bp_tanh_one(-21) == -1)
        #expect(bp_tanh_one(.nan).isNaN)
        #expect(bp_tanh_one(.leastNonzeroMagnitude) == .leastNonzeroMagnitude)
        #expect(bp_tanh_one(1e-200) == 1e-200)
        // tanh(0.5) = 0.46211715726000974 (libm, and mpmath to 17 digits).
        #expect(abs(bp_tanh_one(0.5) - 0.46211715726000974) <= 2 * 0.46211715726000974.ulp)
        #expect(bp_tanh_one(-0.5) == -bp_tanh_one(0.5))
    }
}
