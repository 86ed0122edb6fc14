import Foundation

/// The resource bundle (openapi.yaml, the playground), looked up beside the
/// executable, where SwiftPM and the Docker image put it, rather than through
/// `Bundle.module`, which stops the process when the bundle is missing.
enum Resources {
    static let directory: URL? = {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for base in [executable.deletingLastPathComponent(), Bundle.main.bundleURL] {
            let url = base.appendingPathComponent("backprop_BackpropServer.resources")
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        return nil
    }()
}
