import BackpropCore
import BackpropTestSupport
import Foundation
import Testing

/// Outputs and gradients against an independent numpy implementation
/// (Tests/Fixtures/generate_fixtures.py), to 1e-10.
@Suite struct FixtureTests {
    struct Fixture: Decodable {
        struct LayerSpec: Decodable {
            var weights: [[Double]]
            var biases: [Double]?
            var activation: String
        }
        struct LayerResult: Decodable {
            var weighted_input: [[Double]]
            var output: [[Double]]
            var error_term: [[Double]]
            var weight_gradient: [[Double]]
            var bias_gradient: [Double]?
        }
        struct Case: Decodable {
            var name: String
            var loss: String
            var layers: [LayerSpec]
            var input: [[Double]]
            var target: [[Double]]
            var output: [[Double]]
            var loss_value: Double
            var layer_results: [LayerResult]
        }
        var cases: [Case]
    }

    static let fixture: Fixture = {
        let url = Bundle.module.url(forResource: "gradients", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    @Test func fixtureCoversEveryActivationAndLoss() {
        let activations = Set(Self.fixture.cases.flatMap { $0.layers.map(\.activation) })
        #expect(activations == Set(Activation.allCases.map(\.rawValue)))
        #expect(Set(Self.fixture.cases.map(\.loss)) == Set(Loss.allCases.map(\.rawValue)))
        #expect(Self.fixture.cases.count >= 50)
    }

    @Test(arguments: fixture.cases.map(\.name))
    func matchesNumpy(_ name: String) throws {
        let c = try #require(Self.fixture.cases.first { $0.name == name })
        let network = try Network(
            layers: c.layers.map {
                Layer(
                    weights: try Matrix($0.weights), biases: $0.biases,
                    activation: try #require(Activation(rawValue: $0.activation)))
            })
        let loss = try #require(Loss(rawValue: c.loss))
        let result = try network.gradient(input: try Matrix(c.input), target: try Matrix(c.target), loss: loss)
        let tolerance = 1e-10
        #expect(isClose(result.output, try Matrix(c.output), tolerance: tolerance))
        #expect(abs(result.loss - c.loss_value) <= tolerance * max(1, abs(c.loss_value)))
        for (index, expected) in c.layer_results.enumerated() {
            #expect(isClose(result.trace[index].weightedInput, try Matrix(expected.weighted_input), tolerance: tolerance))
            #expect(isClose(result.trace[index].output, try Matrix(expected.output), tolerance: tolerance))
            #expect(isClose(result.layers[index].errorTerm, try Matrix(expected.error_term), tolerance: tolerance))
            #expect(isClose(result.layers[index].weightGradient, try Matrix(expected.weight_gradient), tolerance: tolerance))
            #expect((result.layers[index].biasGradient == nil) == (expected.bias_gradient == nil))
            if let bias = result.layers[index].biasGradient, let expectedBias = expected.bias_gradient {
                #expect(maxAbsoluteError(bias, expectedBias) <= tolerance)
            }
        }
    }
}
