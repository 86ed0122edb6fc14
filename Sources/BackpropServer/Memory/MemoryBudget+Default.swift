import Foundation

extension MemoryBudget {
    /// The default budget: three quarters of the container's memory limit (cgroup v2
    /// `memory.max`, or v1 `memory.limit_in_bytes`), or of physical memory when there
    /// is no limit. Returns the bytes and where the figure came from, for the log.
    static func defaultTotal() -> (bytes: Int, source: String) {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        if let (limit, file) = containerLimit(), limit < physical {
            return (limit / 4 * 3, "3/4 of the container's memory limit (\(file): \(limit))")
        }
        return (physical / 4 * 3, "3/4 of physical memory (\(physical))")
    }

    /// The cgroup memory limit of this process, if it has one, and the file it came from.
    static func containerLimit(root: String = "/sys/fs/cgroup", cgroupFile: String = "/proc/self/cgroup") -> (Int, String)? {
        var candidates: [String] = []
        // cgroup v2: the "0::/path" line names this process's group.
        if let lines = try? String(contentsOfFile: cgroupFile, encoding: .utf8).split(separator: "\n") {
            for line in lines where line.hasPrefix("0::") {
                let path = String(line.dropFirst(3))
                candidates.append(root + (path == "/" ? "" : path) + "/memory.max")
            }
            for line in lines {
                let parts = line.split(separator: ":", maxSplits: 2)
                if parts.count == 3, parts[1].split(separator: ",").contains("memory") {
                    candidates.append(root + "/memory" + (parts[2] == "/" ? "" : parts[2]) + "/memory.limit_in_bytes")
                }
            }
        }
        candidates += [root + "/memory.max", root + "/memory/memory.limit_in_bytes"]
        for file in candidates {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if value == "max" { return nil }
            // cgroup v1 writes "no limit" as a huge number, near Int64.max.
            if let bytes = Int(value), bytes > 0, bytes < 1 << 60 { return (bytes, file) }
            if Int(value) != nil { return nil }
        }
        return nil
    }
}
