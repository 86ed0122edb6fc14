import BackpropServer
import BackpropTestSupport
import Foundation
import Testing

/// The real executable with a database URL it cannot use: a clear message, a non-zero
/// exit, and never the password.
@Suite struct DatabaseStartupTests {
    @Test func malformedURLIsRefusedBeforeStarting() async throws {
        let (status, output) = try await ServerProcess.runToExit(arguments: [
            "--database-url", "mysql://backprop:hunter2-secret@127.0.0.1/backprop",
        ])
        #expect(status != 0)
        #expect(output.contains("--database-url"))
        #expect(output.contains("postgres://"))
        #expect(!output.contains("hunter2-secret"))
    }

    @Test(
        .enabled(
            if: TestDatabase.isAvailable || TestDatabase.isRequired,
            "BACKPROP_TEST_DATABASE_URL is not set: skipped"))
    func wrongPasswordEndsTheProcessWithAClearMessage() async throws {
        let url = try DatabaseURL(try #require(TestDatabase.adminURL))
        let password = "wrong-\(UInt32.random(in: 0 ... .max))"
        let text = "postgres://\(url.username):\(password)@\(url.host):\(url.port)/\(url.database)?sslmode=disable"
        let (status, output) = try await ServerProcess.runToExit(arguments: ["--database-url", text])
        #expect(status != 0)
        #expect(output.contains("password authentication failed"))
        #expect(!output.contains(password))
    }
}
