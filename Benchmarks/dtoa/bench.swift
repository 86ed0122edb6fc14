// ns per number: bp_format_double (Sources/CBackpropJSON/dtoa.c) against the
// Swift runtime's formatter, both writing one after another into a byte buffer the
// way a JSON writer does, and against Double.description (a String per number).
// Built and run by Benchmarks/dtoa/run.sh.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@_silgen_name("swift_float64ToString")
func swift_float64ToString(_ buffer: UnsafeMutablePointer<UInt8>, _ bufferLength: UInt,
                           _ value: Double, _ debug: Bool) -> UInt64

struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func nanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

let count = 1_000_000
let output = UnsafeMutablePointer<UInt8>.allocate(capacity: count * 32 + 64)

@inline(never)
func runMine(_ values: UnsafeBufferPointer<Double>) -> Int {
    var position = 0
    output.withMemoryRebound(to: CChar.self, capacity: count * 32 + 64) { out in
        for v in values { position += Int(bp_format_double(v, out + position)) }
    }
    return position
}

@inline(never)
func runSwift(_ values: UnsafeBufferPointer<Double>) -> Int {
    var position = 0
    for v in values { position += Int(swift_float64ToString(output + position, 32, v, false)) }
    return position
}

@inline(never)
func runDescription(_ values: UnsafeBufferPointer<Double>) -> Int {
    var total = 0
    for v in values { total += v.description.utf8.count }
    return total
}

/// Median ns per number over `rounds` passes.
func measure(_ values: [Double], rounds: Int, _ body: (UnsafeBufferPointer<Double>) -> Int) -> (Double, Int) {
    var times: [Double] = []
    var bytes = 0
    values.withUnsafeBufferPointer { buffer in
        _ = body(buffer)  // warm up
        for _ in 0..<rounds {
            let start = nanoseconds()
            bytes = body(buffer)
            times.append(Double(nanoseconds() - start) / Double(values.count))
        }
    }
    times.sort()
    return (times[times.count / 2], bytes)
}

func format(_ x: Double) -> String {
    let tenths = Int((x * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

var rng = SplitMix64(state: 0xBE4C_4D70)
var uniform: [Double] = []
var randomBits: [Double] = []
while uniform.count < count { uniform.append(Double(rng.next() >> 11) * 0x1p-53) }
while randomBits.count < count {
    let v = Double(bitPattern: rng.next())
    if v.isFinite { randomBits.append(v) }
}

let rounds = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 9
for (name, values) in [("uniform [0,1)", uniform), ("random bits", randomBits)] {
    let (mine, mineBytes) = measure(values, rounds: rounds, runMine)
    let (swift, swiftBytes) = measure(values, rounds: rounds, runSwift)
    let (description, _) = measure(values, rounds: max(3, rounds / 3), runDescription)
    precondition(mineBytes == swiftBytes, "different output lengths")
    print("\(name), \(count) doubles, median of \(rounds): bp_format_double \(format(mine)) ns/number, "
          + "swift_float64ToString \(format(swift)) ns/number (\(format(swift / mine))x), "
          + "Double.description \(format(description)) ns/number")
}
