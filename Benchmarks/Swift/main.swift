import AllocationCounter
import BackpropCore
import BackpropServer
import CBackpropKernels
import Foundation
import NIOCore

// Backprop's benchmarks: each prints its figure as one JSON line, for
// Benchmarks/run.sh to set beside its peer's figure from the same run.
//
//   swift run -c release BackpropBenchmarks [mlp|checkpoint|small|kernels|wire|json|gzip] [--repetitions N]
//   … mlp --shape mnist|narrow|wide   (Benchmarks/peers/mlp_data.py's shapes)

let arguments = CommandLine.arguments.dropFirst()
let which = arguments.first { !$0.hasPrefix("-") } ?? "all"
let repetitions = arguments.firstIndex(of: "--repetitions").flatMap { Int(arguments[$0 + 1]) } ?? 5
if arguments.contains("--help") || arguments.contains("-h") {
    print("""
        usage: BackpropBenchmarks [all|small|inline|kernels|wire|allocations|json|gzip|forward-json|mlp|checkpoint]
                                  [--repetitions N] [--threads N] [--shape mnist|narrow|wide]
        Each section prints its figures as one JSON line. forward-json reads $BACKPROP_FORWARD_BODY
        (default /tmp/backprop-forward-237k.json, made by Benchmarks/peers/forward_body.py).
        """)
    exit(0)
}
let threads = arguments.firstIndex(of: "--threads").flatMap { Int(arguments[$0 + 1]) } ?? ProcessInfo.processInfo.activeProcessorCount

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

func report(_ fields: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// Target 1, small networks: one gradient of the seed's 3-2-1 network, in a reused workspace.
func small() throws {
    let network = try Network(layers: [
        Layer(weights: Matrix([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]])), Layer(weights: Matrix(column: [0.1, -0.3])),
    ])
    let workspace = GradientWorkspace(network)
    let input = [0.5, 0.1, -0.2], target = [0.6]
    let calls = 1_000_000
    var times: [Double] = []
    var sink = 0.0
    try input.withUnsafeBufferPointer { x in
        try target.withUnsafeBufferPointer { t in
            for _ in 0..<repetitions {
                times.append(try seconds {
                    for _ in 0..<calls { sink += try workspace.step(input: x, target: t, batch: 1, loss: .squaredError) }
                })
            }
        }
    }
    let allocating = try seconds {
        for _ in 0..<100_000 {
            sink += try network.gradient(input: Matrix(row: input), target: Matrix(row: target), loss: .squaredError).loss
        }
    }
    report([
        "benchmark": "seed_gradient", "nanoseconds": median(times) / Double(calls) * 1e9,
        "allocating_nanoseconds": allocating / 100_000 * 1e9, "sink": sink,
    ])
}

/// Target 3: a /forward request with a 1,000 × 1,000 input matrix (about 20 MB):
/// parse and read into a matrix; and encode a 1,000 × 1,000 answer.
func json() throws {
    var generator = SeededGenerator(seed: 3)
    var matrix = Matrix(rows: 1000, columns: 1000)
    for i in 0..<matrix.storage.count { matrix[element: i] = generator.nextNormal() }
    let inputJSON = JSONValue(rows: matrix)
    let body = JSONWriter.encode(.object([
        ("network", .object([("layers", .array([.object([("weights", .numbers(Array(repeating: 0.001, count: 1000)))])]))])),
        ("input", inputJSON),
    ]))
    let path = ProcessInfo.processInfo.environment["BACKPROP_JSON_BODY"] ?? "/tmp/backprop-forward-1000x1000.json"
    try Data(body).write(to: URL(fileURLWithPath: path))
    var decode: [Double] = [], encode: [Double] = []
    var rows = 0, bytes = 0
    for _ in 0..<repetitions {
        decode.append(try seconds {
            let value = try JSONParser.parse(body)
            rows = try value["input"]!.sampleMatrix().rows
        })
        // As the server answers: into the response's byte buffer.
        encode.append(seconds {
            var buffer = ByteBuffer()
            JSONWriter.encode(.object([("output", inputJSON)]), into: &buffer)
            bytes = buffer.readableBytes
        })
    }
    let megabytes = Double(body.count) / 1e6
    report([
        "benchmark": "json_1000x1000", "bytes": body.count, "rows": rows, "body": path,
        "decode_mb_s": megabytes / median(decode), "encode_mb_s": Double(bytes) / 1e6 / median(encode),
    ])
}

/// A 20 MB `/forward` answer (1,000 × 1,000 doubles, as `json` makes it) gzipped as the
/// server sends it: fed in 64 KiB pieces (`Answer.chunkSize`) to `GzipEncoder`, at each
/// zlib level from 1 to 6 (the server's is `GzipEncoder.level`). Per level: the time,
/// MB/s of answer, the compressed size and the ratio (BENCHMARKS.md, "Compression").
func gzip() async throws {
    var generator = SeededGenerator(seed: 3)
    var matrix = Matrix(rows: 1000, columns: 1000)
    for i in 0..<matrix.storage.count { matrix[element: i] = generator.nextNormal() }
    var answer = ByteBuffer()
    JSONWriter.encode(.object([("output", JSONValue(rows: matrix))]), into: &answer)
    let pieces = stride(from: 0, to: answer.readableBytes, by: 64 * 1024).map {
        answer.getSlice(at: $0, length: min(64 * 1024, answer.readableBytes - $0))!
    }
    var rows: [[String: Any]] = []
    for level in Int32(1)...6 {
        var times: [Double] = []
        var compressed = 0
        for _ in 0..<repetitions {
            let start = ContinuousClock.now
            let encoder = try GzipEncoder(level: level)
            var bytes = 0
            for (i, piece) in pieces.enumerated() {
                try await encoder.write(piece, finish: i == pieces.count - 1) { bytes += $0.readableBytes }
            }
            let elapsed = ContinuousClock.now - start
            times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            compressed = bytes
        }
        rows.append([
            "level": Int(level), "server": level == GzipEncoder.level, "ms": median(times) * 1e3,
            "mb_s": Double(answer.readableBytes) / 1e6 / median(times), "compressed_bytes": compressed,
            "ratio": Double(answer.readableBytes) / Double(compressed),
        ])
    }
    report(["benchmark": "gzip_forward_1000x1000", "bytes": answer.readableBytes, "rows": rows])
}

/// Decoding the /forward benchmark's body (Benchmarks/peers/forward_body.py: a
/// 64-128-10 network with biases and a batch of 32, 17 significant digits), into the
/// parsed value and the input matrix, as the server reads it.
func forwardJSON() throws {
    let path = ProcessInfo.processInfo.environment["BACKPROP_FORWARD_BODY"] ?? "/tmp/backprop-forward-237k.json"
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("""
            forward-json: no body at \(path); make it with
              python3 Benchmarks/peers/forward_body.py > \(path)
            or set BACKPROP_FORWARD_BODY to its path

            """.utf8))
        exit(2)
    }
    let body = Array(data)
    var decode: [Double] = []
    var rows = 0
    let calls = 50
    for _ in 0..<repetitions {
        decode.append(try seconds {
            for _ in 0..<calls {
                let value = try JSONParser.parse(body)
                rows = try value["input"]!.sampleMatrix().rows
            }
        } / Double(calls))
    }
    report([
        "benchmark": "json_forward_body", "bytes": body.count, "rows": rows, "body": path,
        "decode_mb_s": Double(body.count) / 1e6 / median(decode), "decode_us": median(decode) * 1e6,
    ])
}

/// Target 2's work on a pool thread: parse, read, compute and encode the seed's
/// second example as POST /gradient does, without the HTTP around it.
func wire() throws {
    let body = Array(#"{"network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]}, "input": [0.5, 0.1, -0.2], "target": 0.6, "learning_rate": 0.5}"#.utf8)
    let limits = Limits()
    let calls = 200_000
    var parse: [Double] = [], respond: [Double] = [], encode: [Double] = [], lane: [Double] = []
    var sink = 0
    for _ in 0..<repetitions {
        lane.append(seconds {
            for _ in 0..<calls {
                sink &+= body.withUnsafeBytes {
                    GradientLane.respond(to: $0, limits: limits, inlineWork: .max)?.readableBytes ?? 0
                }
            }
        })
        var json = JSONValue.null, answer = JSONValue.null
        parse.append(try seconds { for _ in 0..<calls { json = try JSONParser.parse(body) } })
        respond.append(try seconds { for _ in 0..<calls { answer = try GradientWire.respond(to: json, limits: limits) } })
        encode.append(seconds {
            for _ in 0..<calls {
                var buffer = ByteBuffer()
                JSONWriter.encode(answer, into: &buffer)
                sink &+= buffer.readableBytes
            }
        })
    }
    report([
        "benchmark": "gradient_request", "parse_ns": median(parse) / Double(calls) * 1e9,
        "respond_ns": median(respond) / Double(calls) * 1e9, "encode_ns": median(encode) / Double(calls) * 1e9,
        "lane_ns": median(lane) / Double(calls) * 1e9, "sink": sink,
    ])
}

/// Heap allocations per /gradient request's own work (the seed's second example):
/// parse, read and compute, encode, each counted by AllocationCounter's malloc.
func allocations() throws {
    let body = Array(#"{"network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]}, "input": [0.5, 0.1, -0.2], "target": 0.6, "learning_rate": 0.5}"#.utf8)
    let limits = Limits()
    let calls = 1000
    var json = try JSONParser.parse(body)
    var answer = try GradientWire.respond(to: json, limits: limits)
    var buffer = ByteBuffer()
    func counted(_ work: () throws -> Void) rethrows -> Double {
        let before = bp_allocations()
        for _ in 0..<calls { try work() }
        return Double(bp_allocations() - before) / Double(calls)
    }
    let parse = try counted { json = try JSONParser.parse(body) }
    let respond = try counted { answer = try GradientWire.respond(to: json, limits: limits) }
    let encode = counted {
        buffer = ByteBuffer()
        JSONWriter.encode(answer, into: &buffer)
    }
    var laneBytes = 0
    let lane = counted {
        laneBytes = body.withUnsafeBytes { GradientLane.respond(to: $0, limits: limits, inlineWork: .max)?.readableBytes ?? 0 }
    }
    report([
        "benchmark": "gradient_allocations", "parse": parse, "respond": respond, "encode": encode,
        "total": parse + respond + encode, "bytes": buffer.readableBytes, "lane": lane, "lane_bytes": laneBytes,
    ])
}

/// The matrix-product paths on the MLP's two large products (64×784·784×128 and
/// its transposed-left gradient 784×64·64×128), one thread: GFLOP/s per path.
func kernels() {
    let (m, k, n) = (64, 784, 128)
    var generator = SeededGenerator(seed: 4)
    let x = (0..<m * k).map { _ in generator.nextUnit() - 0.5 }
    let w = (0..<k * n).map { _ in generator.nextUnit() - 0.5 }
    var h = [Double](repeating: 0, count: m * n), g = [Double](repeating: 0, count: k * n)
    let calls = 300
    var fields: [String: Any] = ["benchmark": "kernels", "shape": "\(m)x\(k)x\(n)"]
    for (name, path) in [("portable", BP_PATH_PORTABLE), ("avx2", BP_PATH_AVX2), ("avx512", BP_PATH_AVX512)] {
        var forward: [Double] = [], gradient: [Double] = [], used = Int32(0)
        for _ in 0..<repetitions {
            forward.append(seconds {
                for _ in 0..<calls { used = bp_gemm_strided_on(Int32(path), x, k, 1, w, n, &h, n, m, k, n, 0) }
            })
            gradient.append(seconds {
                for _ in 0..<calls { used = bp_gemm_strided_on(Int32(path), x, 1, k, h, n, &g, n, k, m, n, 0) }
            })
        }
        guard used == path else { continue }  // this CPU lacks the path
        let flops = 2.0 * Double(m * k * n) * Double(calls)
        fields["\(name)_forward_gflops"] = flops / median(forward) / 1e9
        fields["\(name)_gradient_gflops"] = flops / median(gradient) / 1e9
    }
    report(fields)
}

/// What a `/gradient` request's whole work costs (parse, check, compute, encode) as its
/// size (samples × parameters) grows: the measurement behind `Configuration.inlineWork`,
/// the largest work served on the handler's task.
func inline() throws {
    let limits = Limits()
    var rows: [[String: Any]] = []
    for (inputs, units, samples) in [(3, 2, 1), (8, 8, 1), (16, 16, 1), (32, 32, 1), (16, 16, 8), (64, 64, 1), (45, 45, 2), (128, 128, 1)] {
        var generator = SeededGenerator(seed: 5)
        let weights = (0..<inputs).map { _ in "[" + (0..<units).map { _ in "\(generator.nextNormal())" }.joined(separator: ",") + "]" }
        let input = (0..<samples).map { _ in "[" + (0..<inputs).map { _ in "\(generator.nextUnit())" }.joined(separator: ",") + "]" }
        let target = (0..<samples).map { _ in "[" + (0..<units).map { _ in "\(generator.nextUnit())" }.joined(separator: ",") + "]" }
        let body = Array(#"{"network": {"layers": [{"weights": [\#(weights.joined(separator: ","))]}]}, "input": [\#(input.joined(separator: ","))], "target": [\#(target.joined(separator: ","))]}"#.utf8)
        let calls = max(2000, 2_000_000 / (inputs * units * samples + 200))
        var times: [Double] = []
        var sink = 0
        for _ in 0..<repetitions {
            times.append(try seconds {
                for _ in 0..<calls {
                    let json = try JSONParser.parse(body)
                    var buffer = ByteBuffer()
                    JSONWriter.encode(try GradientWire.respond(to: json, limits: limits), into: &buffer)
                    sink &+= buffer.readableBytes
                }
            })
        }
        let work = WorkEstimate.samplesTimesParameters(try JSONParser.parse(body)) ?? -1
        rows.append(["work": work, "body_bytes": body.count, "us": median(times) / Double(calls) * 1e6, "sink": sink])
    }
    report(["benchmark": "inline_gradient", "rows": rows])
}

if which == "all" || which == "small" { try small() }
if which == "inline" { try inline() }
if which == "all" || which == "kernels" { kernels() }
if which == "all" || which == "wire" { try wire() }
if which == "all" || which == "allocations" { try allocations() }
if which == "all" || which == "json" { try json() }
if which == "gzip" { try await gzip() }
if which == "all" || which == "forward-json" { try forwardJSON() }
if which == "all" || which == "mlp" { try mlp() }
if which == "all" || which == "checkpoint" { try checkpoint() }
