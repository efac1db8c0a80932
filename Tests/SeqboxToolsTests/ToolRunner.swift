import Foundation
import SeqboxTooling
import XCTest

/// Runs a tool in-process and parses its JSON output.
struct ToolResult {
    let status: Int32
    let standardOutput: String
    let standardError: String

    /// The JSON object printed by `--json`.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(standardOutput.utf8))) as? [String: Any] ?? [:]
    }

    var problemKinds: [String: Int] { (json["problemCounts"] as? [String: Int]) ?? [:] }
    var problems: [[String: Any]] { (json["problems"] as? [[String: Any]]) ?? [] }
    var lostRanges: [[UInt64]] {
        ((json["lostRanges"] as? [[String: Any]]) ?? []).map { [($0["user"] as! NSNumber).uint64Value, ($0["first"] as! NSNumber).uint64Value, ($0["last"] as! NSNumber).uint64Value] }
    }

    func problems(_ kind: String) -> [[String: Any]] { problems.filter { $0["kind"] as? String == kind } }
}

enum ToolRunner {
    static func fsck(_ arguments: [String]) -> ToolResult {
        let output = CapturedOutput()
        let status = Fsck.run(arguments: arguments, output: output)
        return ToolResult(status: status, standardOutput: output.standardOutput, standardError: output.standardError)
    }

    static func dump(_ arguments: [String]) -> ToolResult {
        let output = CapturedOutput()
        let status = Dump.run(arguments: arguments, output: output)
        return ToolResult(status: status, standardOutput: output.standardOutput, standardError: output.standardError)
    }
}
