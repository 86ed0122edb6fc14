// Checks bp_format_double (Sources/CBackpropJSON/dtoa.c) against Swift's own
// Double.description, byte for byte, and that every output parses back to the same
// bits; and bp_format_json_number / bp_format_json_numbers against the same text
// without the ".0" of integral values below 10^15. Built and run by
// Benchmarks/dtoa/run.sh.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// SplitMix64: fixed seeds, so every run checks the same values.
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

let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: 64)
var checked = 0
var mismatches = 0
var roundTripFailures = 0
var jsonMismatches = 0

// Values are also gathered into arrays of arrayLength for bp_format_json_numbers,
// checked against their JSON texts joined with "," (", " every other array).
let arrayLength = 997
var arrayValues: [Double] = []
var arrayTexts: [String] = []
var arraysChecked = 0
let arrayBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: arrayLength * 26 + 32 + 64)

func checkArray() {
    let spaced = arraysChecked % 2 == 1
    let expected = arrayTexts.joined(separator: spaced ? ", " : ",")
    let room = arrayValues.count * 26 + 32
    arrayBuffer.initialize(repeating: 0x7F, count: room + 64)
    let count = arrayValues.withUnsafeBufferPointer {
        Int(bp_format_json_numbers($0.baseAddress, $0.count, spaced ? 1 : 0, arrayBuffer))
    }
    var same = count == expected.utf8.count
    if same {
        var i = 0
        for byte in expected.utf8 {
            if UInt8(bitPattern: arrayBuffer[i]) != byte { same = false; break }
            i += 1
        }
    }
    for i in room..<(room + 64) where arrayBuffer[i] != 0x7F { same = false }
    if !same {
        jsonMismatches += 1
        if jsonMismatches <= 20 { print("JSON ARRAY MISMATCH in array \(arraysChecked)") }
    }
    arraysChecked += 1
    arrayValues.removeAll(keepingCapacity: true)
    arrayTexts.removeAll(keepingCapacity: true)
}

/// Whether `buffer` starts with the `count` bytes of `expected` (at most 24), and the
/// formatter touched nothing past the documented 32 bytes (all 0x7F before the call).
func bufferHolds(_ expected: String, count: Int) -> Bool {
    guard count == expected.utf8.count, count <= 24 else { return false }
    var i = 0
    for byte in expected.utf8 {
        if UInt8(bitPattern: buffer[i]) != byte { return false }
        i += 1
    }
    for i in 32..<64 where buffer[i] != 0x7F { return false }
    return true
}

/// bp_format_json_number's text for value, whose description is `description`.
func checkJSON(_ value: Double, _ description: String) {
    let expected = abs(value) < 1e15 && description.hasSuffix(".0")
        ? String(description.dropLast(2)) : description
    buffer.initialize(repeating: 0x7F, count: 64)
    let count = Int(bp_format_json_number(value, buffer))
    let mine = UnsafeRawBufferPointer(start: buffer, count: count)
    if !bufferHolds(expected, count: count) {
        jsonMismatches += 1
        if jsonMismatches <= 20 {
            print("JSON MISMATCH bits=0x\(String(value.bitPattern, radix: 16)) expected=\(expected) "
                  + "mine=\(String(decoding: mine, as: UTF8.self))")
        }
    }
    arrayValues.append(value)
    arrayTexts.append(expected)
    if arrayValues.count == arrayLength { checkArray() }
}

@inline(never)
func check(_ value: Double) {
    guard value.isFinite else { return }
    buffer.initialize(repeating: 0x7F, count: 64)
    let count = Int(bp_format_double(value, buffer))
    let mine = UnsafeRawBufferPointer(start: buffer, count: count)
    let expected = value.description
    checked += 1
    let same = bufferHolds(expected, count: count)
    let text = String(decoding: mine, as: UTF8.self)
    if !same {
        mismatches += 1
        if mismatches <= 20 {
            print("MISMATCH bits=0x\(String(value.bitPattern, radix: 16)) swift=\(expected) mine=\(text)")
        }
    }
    if Double(text)?.bitPattern != value.bitPattern {
        roundTripFailures += 1
        if roundTripFailures <= 20 {
            print("ROUND-TRIP FAILURE bits=0x\(String(value.bitPattern, radix: 16)) mine=\(text)")
        }
    }
    checkJSON(value, expected)
}

/// The value, its negation and `steps` neighbours on each side.
func checkAround(_ value: Double, steps: Int = 3) {
    guard value.isFinite else { return }
    var up = value, down = value
    check(value); check(-value)
    for _ in 0..<steps {
        up = up.nextUp; down = down.nextDown
        check(up); check(-up); check(down); check(-down)
    }
}

func report(_ name: String, since start: Int) {
    print("  \(name): \(checked - start) values")
}

var rng = SplitMix64(state: 0x5EED_D70A)
var start = checked

// (a) random bit patterns (every sign, binade and significand)
while checked < 20_000_000 {  // NaNs and infinities are skipped, not counted
    check(Double(bitPattern: rng.next()))
}
report("random 64-bit patterns", since: start); start = checked

// (b) uniform in [0, 1)
for _ in 0..<5_000_000 {
    check(Double(rng.next() >> 11) * 0x1p-53)
}
report("uniform [0, 1)", since: start); start = checked

// (c) random significands in the binades where the decimal forms switch
// (2^-20 ... 2^60: "0.0001", "123.456", "1e+16", integers, halves, quarters)
for _ in 0..<2_000_000 {
    let exponent = 1003 + rng.next() % 81
    check(Double(bitPattern: (exponent << 52) | (rng.next() & 0xF_FFFF_FFFF_FFFF)))
}
// ... and 200 random significands in every binade (subnormals included)
for exponent in UInt64(0)...2046 {
    for _ in 0..<200 {
        check(Double(bitPattern: (exponent << 52) | (rng.next() & 0xF_FFFF_FFFF_FFFF)))
    }
}
report("random significands per binade", since: start); start = checked

// (d) short decimals: k × 10^e, k < 10^4, over the whole range, plus k / 10^n
for e in -330...310 {
    for k in 1..<10_000 { check(Double("\(k)e\(e)")!) }
}
for n in 0...22 {
    let scale = Double("1e\(n)")!
    for k in 1...20_000 { check(Double(k) / scale) }
}
report("k × 10^e and k / 10^n", since: start); start = checked

// (e) powers of two and ten with their neighbours
for e in -1074...1023 { checkAround(Double(sign: .plus, exponent: e, significand: 1)) }
for e in -324...308 { checkAround(Double("1e\(e)")!) }
for e in -324...308 {
    for d in 2...9 { checkAround(Double("\(d)e\(e)")!, steps: 1) }
}
report("powers of 2 and 10, ±3 ulps", since: start); start = checked

// (f) edges: zero, subnormals, normal/subnormal boundary, max finite
let edges: [Double] = [
    0, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
    Double(bitPattern: 0x000F_FFFF_FFFF_FFFF), Double(bitPattern: 0x0008_0000_0000_0000),
    Double(bitPattern: 0x0010_0000_0000_0001), .ulpOfOne, 1, 0.1, 0.2, 0.3, 1.0 / 3,
    0x1p53, 0x1p54, 1e15, 1e16, 1e17, 9007199254740994, 1e-4, 1e-5, 9.9999e-5, 1e22, 1e23,
    1.7976931348623157e308, 2.2250738585072014e-308,
]
for v in edges { checkAround(v, steps: 100) }
for k in 1...100_000 {  // the smallest subnormals, k × 2^-1074
    check(Double(bitPattern: UInt64(k))); check(-Double(bitPattern: UInt64(k)))
}
report("edges and ±100 ulps, smallest subnormals", since: start); start = checked

// (g) integers: small, around 2^53 and 10^n, random below 2^53 and up to 2^70
for i in 0...200_000 { check(Double(i)); check(-Double(i)) }
for base in [0x1p52, 0x1p53, 0x1p54, 0x1p63, 0x1p64] { checkAround(base, steps: 2_000) }
for n in 1...22 { checkAround(Double("1e\(n)")!, steps: 200) }
for _ in 0..<1_000_000 { check(Double(rng.next() >> 11)) }                      // < 2^53
for _ in 0..<500_000 { check(Double(rng.next() >> (rng.next() % 11))) }  // 2^53 ... 2^64
for _ in 0..<500_000 { check(Double(rng.next() >> 11) * 0x1p17) }              // up to 2^70
report("integers", since: start); start = checked

// (h) exact ties between two shortest candidates: c × 2^-2 with c odd in
// [2^50, 2^51) needs 17 digits and ends in .25 / .75 (tie at the 17th digit)
for _ in 0..<500_000 {
    let c = (rng.next() >> 14) | (1 << 50) | 1
    check(Double(c) * 0.25)
}
report("ties", since: start); start = checked

if !arrayValues.isEmpty { checkArray() }
print("checked \(checked) values: \(mismatches) mismatches with Double.description, \(roundTripFailures) round-trip failures")
print("JSON: \(checked) values and \(arraysChecked) arrays of up to \(arrayLength): \(jsonMismatches) mismatches")
if mismatches != 0 || roundTripFailures != 0 || jsonMismatches != 0 { exit(1) }
