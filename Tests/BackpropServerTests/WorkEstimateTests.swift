import BackpropTestSupport
import Testing

@testable import BackpropServer

/// The shape-only estimate that decides which requests run inline.
@Suite struct WorkEstimateTests {
    static func estimate(_ text: String) throws -> Int? {
        WorkEstimate.samplesTimesParameters(try RequestBody.json(Array(text.utf8)[...]))
    }

    @Test func explicitGeneratedAndBatchedShapes() throws {
        // The seed: 3 inputs → 2 units → 1 unit: 6 + 2 + 2 + 1 parameters, one sample.
        #expect(try Self.estimate(SeedRequests.hiddenLayer) == 11)
        #expect(try Self.estimate(SeedRequests.singleNeuron) == 4 + 1)
        // Generated layers from `inputs`, a batch of 3.
        #expect(try Self.estimate(#"{"network": {"inputs": 4, "layers": [{"units": 10}, {"units": 2}]}, "input": [[1,2,3,4],[1,2,3,4],[1,2,3,4]]}"#)
            == 3 * (4 * 10 + 10 + 10 * 2 + 2))
        // A generated layer far too big for inline, from a tiny body.
        #expect(try Self.estimate(#"{"network": {"inputs": 1, "layers": [{"units": 1000000}]}, "input": [1]}"#)! > 1_000_000)
        // Shapes it does not know go to the pool, where they are checked.
        #expect(try Self.estimate(#"{"network": {"layers": [{"units": 3}]}, "input": [1]}"#) == nil)
        #expect(try Self.estimate(#"{"network": {"layers": "x"}, "input": [1]}"#) == nil)
        #expect(try Self.estimate(#"{"input": [1]}"#) == nil)
    }
}
