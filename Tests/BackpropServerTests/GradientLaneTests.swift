import BackpropCore
@testable import BackpropServer
import Foundation
import NIOCore
import Testing

/// The lean /gradient lane answers a request in the common form with the bytes the
/// general path writes, and declines everything the general path refuses.
@Suite struct GradientLaneTests {
    static let limits = Limits()

    /// The lane's answer to `body`, or nil when it declines.
    static func lane(_ body: String, inlineWork: Int = .max) -> String? {
        Array(body.utf8).withUnsafeBytes { GradientLane.respond(to: $0, limits: limits, inlineWork: inlineWork) }
            .map { String(buffer: $0) }
    }

    /// The general path's answer to `body`, or nil when it is a problem.
    static func general(_ body: String) -> String? {
        guard let json = try? JSONParser.parse(Array(body.utf8)),
            let answer = try? GradientWire.respond(to: json, limits: limits)
        else { return nil }
        return String(decoding: JSONWriter.encode(answer), as: UTF8.self)
    }

    static let seed = #"{"network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]}, "input": [0.5, 0.1, -0.2], "target": 0.6, "learning_rate": 0.5}"#

    @Test func theSeedIsAnsweredByTheLaneAsByTheGeneralPath() throws {
        let lane = try #require(Self.lane(Self.seed))
        #expect(lane == Self.general(Self.seed))
        let answer = try JSONParser.parse(Array(lane.utf8))
        // The seed notebook's second example: its output, error and output-layer deltas.
        #expect(abs(try #require(answer["output"]?.doubleValue) - 0.48497343084992534) < 1e-12)
        #expect(abs(try #require(answer["error"]?.doubleValue) - 0.11502656915007464) < 1e-12)
        let layers = try #require(answer["layers"]?.arrayValue)
        #expect(layers.count == 2)
        let deltas = try #require(layers[1]["weight_delta"]?.arrayValue)
        let delta = deltas.compactMap(\.doubleValue)
        #expect(delta.count == 2)
        #expect(zip(delta, [0.00804047394804529, 0.00555918091168283]).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func workOverTheInlineBoundIsDeclined() {
        // 1 sample × (3×2 + 2 + 2×1 + 1) = 11.
        #expect(Self.lane(Self.seed, inlineWork: 11) != nil)
        #expect(Self.lane(Self.seed, inlineWork: 10) == nil)
    }

    @Test(arguments: [
        // Other forms: the general path answers them.
        #"{"network": {"layers": [{"units": 2}], "inputs": 3, "seed": 1}, "input": [1, 2, 3], "target": [0, 1]}"#,
        #"{"network": {"layers": [{"weights": [[1]]}]}, "input": [1], "target": 1, "loss": "squared_error", "x": 1}"#,
        #"{"netw\u006frk": {"layers": [{"weights": [[1]]}]}, "input": [1], "target": 1}"#,
        // Faults: the general path answers their problems.
        #"{"network": {"layers": [{"weights": [[1]]}]}, "input": [1], "target": 1, "learning_rate": -1}"#,
        #"{"network": {"layers": [{"weights": [[1]]}]}, "input": [1, 2], "target": 1}"#,
        #"{"network": {"layers": [{"weights": [[1]]}]}, "input": [1], "target": [1, 2]}"#,
        #"{"network": {"layers": [{"weights": [[1]]}]}, "input": [1e999], "target": 1}"#,
        #"{"network": {"layers": [{"weights": [[1, 2]], "activation": "softmax"}, {"weights": [[1], [2]]}]}, "input": [1], "target": 1}"#,
        #"{"network": {"layers": [{"weights": [[1]], "activation": "relu"}]}, "input": [1], "target": 1, "loss": "cross_entropy"}"#,
        #"{"network": {"layers": [{"weights": [[1]]}]}, "input": [1], "target": 2, "loss": "cross_entropy"}"#,
        #"{"network": {"layers": [{"weights": [[1]], "biases": [1, 2]}]}, "input": [1], "target": 1}"#,
        #"{"network": {"layers": [{"weights": [[1]], "activation": "linear"}]}, "input": [1e300], "target": 1}"#,
        #"{"network": {"layers": [{"weights": [[1]]}]}, "input": [1], "target": 1, "target": 1}"#,
        #"{"network": {"layers": [{"weights": [[1]]}]}, "input": [1], "target": 1} x"#,
        #"{"network": {"layers": [{"weights": [[1], [2, 3]]}]}, "input": [1, 2], "target": 1}"#,
    ])
    func otherFormsAndFaultsAreLeftToTheGeneralPath(_ body: String) {
        #expect(Self.lane(body) == nil, "\(body)")
    }

    /// Random requests in the common form, written with random spacing and number forms,
    /// and the same requests with one thing broken: the lane answers every good one with
    /// the general path's bytes, and never answers one the general path refuses.
    @Test func randomRequestsGiveTheGeneralPathsBytes() throws {
        var generator = SeededGenerator(seed: 12)
        var answered = 0, refused = 0
        for round in 0..<600 {
            let body = Self.randomRequest(&generator, broken: round % 3 == 2)
            let general = Self.general(body)
            let lane = Self.lane(body)
            if let lane {
                #expect(lane == general, "\(body)")
                answered += 1
            } else if general == nil {
                refused += 1
            } else {
                #expect(round % 3 == 2, "a good request declined: \(body)")
            }
        }
        #expect(answered >= 350)
        #expect(refused >= 100)
    }

    static func randomRequest(_ g: inout SeededGenerator, broken: Bool) -> String {
        func pick<T>(_ options: [T]) -> T { options[g.nextIndex(below: options.count)] }
        func space() -> String { pick(["", "", " ", "\n  ", "\t"]) }
        func number(_ value: Double) -> String {
            switch g.nextIndex(below: 4) {
            case 0: "\(value)"
            case 1: String(format: "%.17g", value)
            case 2: String(format: "%.3e", value)
            default: value == value.rounded() && abs(value) < 1e6 ? "\(Int(value))" : "\(value)"
            }
        }
        func vector(_ values: [Double]) -> String {
            "[" + space() + values.map(number).joined(separator: "," + space()) + space() + "]"
        }
        func matrix(_ rows: Int, _ columns: Int, _ value: () -> Double) -> String {
            "[" + (0..<rows).map { _ in vector((0..<columns).map { _ in value() }) }.joined(separator: ", ") + "]"
        }
        let depth = 1 + g.nextIndex(below: 3)
        var sizes = (0...depth).map { _ in 1 + g.nextIndex(below: 4) }
        let softmax = sizes[depth] >= 2 && g.nextIndex(below: 3) == 0
        let crossEntropy = softmax || g.nextIndex(below: 4) == 0
        var layers: [String] = []
        var shorthand = false
        for layer in 0..<depth {
            let (inputs, units) = (sizes[layer], sizes[layer + 1])
            var fields: [String] = []
            shorthand = units == 1 && g.nextIndex(below: 2) == 0
            fields.append(
                #""weights":"# + space()
                    + (shorthand ? vector((0..<inputs).map { _ in g.nextNormal() }) : matrix(inputs, units) { g.nextNormal() }))
            switch g.nextIndex(below: 3) {
            case 0: fields.append(#""biases": "# + (units == 1 && g.nextIndex(below: 2) == 0 ? number(g.nextNormal()) : vector((0..<units).map { _ in g.nextNormal() })))
            default: break
            }
            let activation = layer == depth - 1
                ? (softmax ? "softmax" : crossEntropy ? "sigmoid" : pick(["sigmoid", "tanh", "relu", "linear", "elu"]))
                : pick(["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "linear"])
            if activation != "sigmoid" || g.nextIndex(below: 2) == 0 { fields.append(#""activation": ""# + activation + "\"") }
            fields.shuffle(using: &g)
            layers.append("{" + space() + fields.joined(separator: "," + space()) + space() + "}")
        }
        let samples = 1 + g.nextIndex(below: 3)
        let batch = samples > 1 || g.nextIndex(below: 2) == 0
        let (inputs, outputs) = (sizes[0], sizes[depth])
        let input = batch ? matrix(samples, inputs) { g.nextUnit() * 2 - 1 } : vector((0..<inputs).map { _ in g.nextUnit() })
        func targetRow() -> [Double] {
            if softmax {
                var row = [Double](repeating: 0, count: outputs)
                row[g.nextIndex(below: outputs)] = 1
                return row
            }
            return (0..<outputs).map { _ in crossEntropy ? g.nextUnit() : g.nextNormal() }
        }
        let target: String
        switch (batch, outputs == 1) {
        case (false, true): target = g.nextIndex(below: 2) == 0 ? number(targetRow()[0]) : vector(targetRow())
        case (false, false): target = vector(targetRow())
        case (true, true): target = g.nextIndex(below: 2) == 0 ? vector((0..<samples).map { _ in targetRow()[0] }) : matrix(samples, 1) { targetRow()[0] }
        case (true, false): target = "[" + (0..<samples).map { _ in vector(targetRow()) }.joined(separator: ",") + "]"
        }
        var fields = [
            #""network": {"layers": ["# + layers.joined(separator: ", ") + "]}", #""input": "# + input,
            #""target": "# + target,
        ]
        if g.nextIndex(below: 2) == 0 { fields.append(#""learning_rate": "# + number(g.nextUnit() * 2)) }
        if crossEntropy || g.nextIndex(below: 4) == 0 { fields.append(#""loss": ""# + (crossEntropy ? "cross_entropy" : "squared_error") + "\"") }
        if broken {
            switch g.nextIndex(below: 6) {
            case 0: fields.append(#""learning_rate": -0.5"#)
            case 1: fields[2] = #""target": [1, 2, 3, 4, 5]"#
            case 2: fields[1] = #""input": [1e999]"#
            case 3: fields.append(#""loss": "cross_entropy""#)
            case 4: fields[0] = fields[0].replacingOccurrences(of: #""weights""#, with: #""wieghts""#)
            default: sizes[0] += 1; fields[1] = #""input": "# + vector((0..<sizes[0]).map { _ in 0.5 })
            }
        }
        fields.shuffle(using: &g)
        return "{" + space() + fields.joined(separator: "," + space()) + space() + "}"
    }
}
