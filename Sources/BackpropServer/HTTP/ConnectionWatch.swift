import NIOConcurrencyHelpers
import NIOCore

/// Tells a long computation that its client has gone.
///
/// Hummingbird allows half-closed connections, so a client that hangs up does not
/// close the channel while a request is being computed: the server only sees the
/// end of its input. `DisconnectHandler` sits in each connection's pipeline and
/// raises every registered callback when the input ends or the channel goes inactive.
final class ConnectionWatch: Sendable {
    /// Callbacks by token, and whether the client has gone (then nothing is kept).
    private let state = NIOLockedValueBox((callbacks: [Int: @Sendable () -> Void](), next: 0, gone: false))

    /// Calls `callback` once the client goes (at once if it has); returns a token for `remove`.
    func onDisconnect(_ callback: @escaping @Sendable () -> Void) -> Int {
        let (token, gone) = state.withLockedValue { state -> (Int, Bool) in
            guard !state.gone else { return (-1, true) }
            state.next += 1
            state.callbacks[state.next] = callback
            return (state.next, false)
        }
        if gone { callback() }
        return token
    }

    func remove(_ token: Int) {
        state.withLockedValue { _ = $0.callbacks.removeValue(forKey: token) }
    }

    func disconnected() {
        let callbacks = state.withLockedValue { state in
            state.gone = true
            defer { state.callbacks = [:] }
            return Array(state.callbacks.values)
        }
        for callback in callbacks { callback() }
    }
}
