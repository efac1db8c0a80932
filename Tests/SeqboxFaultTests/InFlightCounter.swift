import Foundation

/// Counts operations in flight; waits are bounded.
final class InFlightCounter: @unchecked Sendable {
    private let condition = NSCondition()
    private var count = 0

    func enter() { condition.withLock { count += 1 } }

    func leave() {
        condition.withLock {
            count -= 1
            condition.broadcast()
        }
    }

    /// Waits while `limit` or more are in flight; false on timeout.
    func waitUntilBelow(_ limit: Int, timeoutSeconds: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        return condition.withLock {
            while count >= limit {
                if !condition.wait(until: deadline) { return count < limit }
            }
            return true
        }
    }

    /// Waits until none is in flight; false on timeout.
    func waitUntilZero(timeoutSeconds: TimeInterval) -> Bool {
        waitUntilBelow(1, timeoutSeconds: timeoutSeconds)
    }
}
