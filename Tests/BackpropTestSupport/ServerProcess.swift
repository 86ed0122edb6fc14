import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The `backprop` executable running as a child process on a free port, for what
/// only a real process shows: signals, exit codes, refused connections.
public final class ServerProcess {
    public let port: Int
    public let process = Process()

    /// Starts the binary built next to the test bundle, with `arguments`, and waits
    /// until it accepts connections.
    public init(arguments: [String] = []) async throws {
        port = try Self.freePort()
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        process.executableURL = directory.appendingPathComponent("backprop")
        process.arguments = ["--port", String(port), "--log-level", "warning"] + arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if let connection = try? RawConnection(port: port) {
                connection.close()
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw RawSocketError.failed("the server did not start")
    }

    /// Runs the binary with `arguments` until it exits (at most `timeout`, then it is
    /// killed); returns its exit status and everything it wrote to stdout and stderr.
    public static func runToExit(arguments: [String], timeout: Duration = .seconds(30)) async throws -> (status: Int32, output: String) {
        let process = Process()
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        process.executableURL = directory.appendingPathComponent("backprop")
        process.arguments = ["--port", String(try freePort())] + arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try handle.close()
        defer { try? FileManager.default.removeItem(at: output) }
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    /// One request on a fresh connection (closed after the answer); returns the raw response.
    public func request(_ method: String, _ path: String, body: String = "", headers: String = "") async throws -> String {
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        try connection.send(
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\(headers)"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
        return await connection.read(until: "\u{0}")  // until the server closes
    }

    /// Sends SIGTERM and waits for the exit; returns the exit status.
    public func terminate(timeout: TimeInterval = 30) async -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { process.interrupt() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    public static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw RawSocketError.failed("bind") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
