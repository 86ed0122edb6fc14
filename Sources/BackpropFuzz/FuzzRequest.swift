// libFuzzer target over request decoding and validation: the service's own JSON
// parser, then the reading and checking that the /forward, /gradient and /train
// handlers do (RequestReader.check), and for /forward and /gradient the computation.
//
// Built only by .ci/fuzz.sh: `swift build --sanitize fuzzer --sanitize address
// -Xswiftc -DBACKPROP_FUZZ`. With the fuzzer sanitizer SwiftPM instruments every
// module (the C kernels too) and links libFuzzer, whose main() calls
// LLVMFuzzerTestOneInput below. In a normal `swift build` (no BACKPROP_FUZZ) this file
// is a tiny executable that says how to run the fuzzer, so the package builds and
// links without libFuzzer.
//
// Input layout: the first byte picks the route and whether to compute, the rest is
// the request body:
//
//   first byte % 6   0 /forward (computed)   1 /gradient (computed)   2 /train
//                    3 /forward (read only)  4 /gradient (read only)  5 /train
//
// so the seeds in Tests/Fuzz/corpus/ start with an ASCII digit ('0' is 48, 48 % 6 == 0).
// /train is read and checked (budget included) but never run. Every body that parses
// is also written back with JSONWriter (compact and pretty) and parsed again: it must
// give the same value. A crash, a sanitizer report, a 500 (an unexpected error: a bug,
// API.md) or a round trip that changes the value is a finding.
// Tests/BackpropServerTests/FuzzRegressionTests.swift replays inputs the same way.

import BackpropServer

#if BACKPROP_FUZZ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small limits, so that a generated network of 10^9 parameters is refused rather
/// than allocated (the service's defaults are 10^7 parameters and 2·10^10 of work).
let fuzzLimits = Limits(maximumParameters: 100_000, synchronousTrainingBudget: 10_000_000)

/// BACKPROP_FUZZ_PRINT=1 prints each input's route and answer, for triage:
/// `BACKPROP_FUZZ_PRINT=1 .build-fuzz/debug/BackpropFuzz FILE...`.
let printAnswers = getenv("BACKPROP_FUZZ_PRINT") != nil

/// libFuzzer's driver (compiler-rt's FuzzerDriver.cpp), called from this target's own
/// entry point: a debug build names an executable's entry point BackpropFuzz_main and
/// makes `main` an alias of it, so libFuzzer's own main() is not the one that runs.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@main
enum BackpropFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzz(data, size) }))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let selector = Int(data[0]) % 6
    let route = RequestReader.Route.allCases[selector % 3]
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let problem = RequestReader.check(body, route: route, limits: fuzzLimits, compute: selector < 3)
    if printAnswers {
        let answer = problem.map { "\($0.status.code) \($0.title): \($0.detail)" } ?? "valid"
        print("/\(route.rawValue)\(selector < 3 ? "" : " (read only)"), \(size - 1) bytes: \(answer)")
    }
    if let problem, problem.status.code >= 500 {
        fatalError("\(problem.status.code) on /\(route.rawValue): \(problem.title): \(problem.detail)")
    }
    checkRoundTrip(body)
    return 0
}

/// The writer behind every response (raw buffers, the runtime's double formatter):
/// whatever the parser reads, finite, the writer must write so that it parses back to
/// the same value, compact and pretty.
func checkRoundTrip(_ body: [UInt8]) {
    guard let value = try? JSONParser.parse(body), !value.containsNonFinite else { return }
    for pretty in [false, true] {
        let written = JSONWriter.encode(value, pretty: pretty)
        let back: JSONValue
        do {
            back = try JSONParser.parse(written)
        } catch {
            fatalError("JSONWriter wrote what JSONParser refuses (pretty: \(pretty)): \(error.message), line \(error.line), column \(error.column)")
        }
        if back != value {
            fatalError("JSONWriter's output (pretty: \(pretty)) parses to another value: \(String(decoding: written.prefix(300), as: UTF8.self))")
        }
    }
}

#else

@main
enum BackpropFuzz {
    static func main() {
        print("BackpropFuzz is a libFuzzer target: build and run it with `bash .ci/fuzz.sh` (TESTING.md, Fuzzing).")
    }
}

#endif
