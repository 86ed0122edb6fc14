import BackpropTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BackpropServer

/// `Accept` negotiation for POST /train: JSON unless the event stream is strictly preferred.
@Suite struct MediaPreferenceTests {
    @Test(arguments: [
        (nil, false),
        ("*/*", false),
        ("application/json", false),
        ("text/event-stream", true),
        ("text/*", true),
        ("application/json, text/event-stream, application/problem+json", false),  // generators' default
        ("text/event-stream, application/json", false),  // equal q: JSON
        ("text/event-stream, application/json;q=0.9", true),
        ("application/json;q=0.5, text/event-stream;q=0.8", true),
        ("text/event-stream;q=0.5, */*", false),
        ("text/event-stream;q=0, */*", false),
        ("application/json;q=0, */*;q=0.1", true),  // JSON refused, anything else acceptable
        ("TEXT/Event-Stream ; q=1", true),
        ("text/event-stream;q=2", false),  // a malformed range is ignored, and nothing is left
        ("garbage", false),
    ] as [(String?, Bool)])
    func streamsOnlyWhenStrictlyPreferred(accept: String?, streams: Bool) {
        #expect(MediaPreference(accept: accept).prefersEventStream == streams, "\(accept ?? "no Accept")")
    }
}

/// The same over HTTP: what a generated client's default `Accept` gets from POST /train.
@Suite struct TrainNegotiationTests {
    static let xor = """
        {"network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": 7},
         "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0], "epochs": 50, "seed": 7}
        """

    @Test func generatedClientsGetJSONAndAStreamIsChosenOnlyWhenPreferred() async throws {
        let app = buildApplication(testConfiguration())
        try await app.test(.live) { client in
            for accept in ["application/json, text/event-stream, application/problem+json", "*/*", "text/event-stream;q=0.5, application/json"] {
                let response = try await client.post("/train", Self.xor, headers: [.accept: accept])
                #expect(response.status == .ok, "\(accept)")
                #expect(response.headers[.contentType] == "application/json", "\(accept)")
                #expect(try JSONBody(response)["epochs_run"]?.number == 50, "\(accept)")
            }
            let streamed = try await client.post("/train", Self.xor, headers: [.accept: "text/event-stream, application/json;q=0.5"])
            #expect(streamed.status == .ok)
            #expect(streamed.headers[.contentType] == "text/event-stream")
            #expect(String(buffer: streamed.body).contains("event: done"))
        }
    }
}
