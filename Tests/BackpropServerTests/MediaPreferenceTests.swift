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
