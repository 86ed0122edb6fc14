#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bare TCP connection to 127.0.0.1, for what an HTTP client library hides:
/// sending half a request, or hanging up in the middle of one.
public final class RawConnection {
    private let descriptor: Int32

    public init(port: Int) throws {
        #if canImport(Glibc)
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw RawSocketError.failed("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            _ = Glibc.close(descriptor)
            throw RawSocketError.failed("connect")
        }
    }

    /// Sends all of `text`.
    public func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { throw RawSocketError.failed("write") }
            sent += count
        }
    }

    /// Sends all of `bytes`; a peer that has closed is an error, not a SIGPIPE.
    public func send(bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw RawSocketError.failed("send") }
            sent += count
        }
    }

    /// A whole HTTP/1.1 POST with a JSON body.
    public func sendPost(_ path: String, _ body: String) throws {
        try send(
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    /// Reads until the text received contains `marker` (or the peer closes, or
    /// `timeout` passes); returns all that was read. It never blocks its thread:
    /// between non-blocking reads it sleeps as a task, so a server running in the
    /// same process keeps its threads.
    public func read(until marker: String, timeout: Duration = .seconds(30)) async -> String {
        String(decoding: await receive(timeout: timeout) { String(decoding: $0, as: UTF8.self).contains(marker) }, as: UTF8.self)
    }

    /// Every byte until the server closes the connection (or `timeout` passes).
    public func readToEnd(timeout: Duration = .seconds(30)) async -> [UInt8] {
        await receive(timeout: timeout) { _ in false }
    }

    /// Reads until `done` says so of what has arrived, the server closes, or `timeout` passes.
    private func receive(timeout: Duration, until done: ([UInt8]) -> Bool) async -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 { break }
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
                if done(received) { break }
                continue
            }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { break }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return received
    }

    /// Hangs up.
    public func close() { _ = Glibc.close(descriptor) }
}

public enum RawSocketError: Error {
    case failed(String)
}
