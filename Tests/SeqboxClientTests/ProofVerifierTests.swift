@testable import SeqboxClient
import SeqboxProtocol
import XCTest

/// The proof's verifier is only worth its verdict if it can fail: each kind of broken promise,
/// planted in a small clean exchange, is reported.
final class ProofVerifierTests: XCTestCase {
    /// Alice (1) sends two messages to Bob (2); both see everything, once, in order.
    private func cleanExchange() -> (alice: ProofParticipant, bob: ProofParticipant) {
        let alice = ProofParticipant(user: 1), bob = ProofParticipant(user: 2)
        for index in 0 ..< 2 {
            let id = UInt64(100 + index)
            let seq = UInt32(index + 1)
            alice.sent.withLock { $0.append(ProofParticipant.Sent(id: id, recipient: 2, index: index)) }
            let body = Array(ProofParticipant.body(sender: 1, index: index).utf8)
            alice.record.withLock { record in
                record.receipts[id] = [SendReceipt(clientMessageID: id, recipient: 2, seq: seq, outgoingSeq: seq, timestampMs: 1, duplicate: false)]
                record.delivered.append(InboxMessage(PullRecord(seq: seq, outgoing: true, peer: 2, senderDevice: 1, clientMessageID: id, timestampMs: 1, body: body)))
            }
            bob.record.withLock {
                $0.delivered.append(InboxMessage(PullRecord(seq: seq, peer: 1, senderDevice: 1, clientMessageID: id, timestampMs: 1, body: body)))
            }
        }
        return (alice, bob)
    }

    func testCleanExchangeHasNoViolations() {
        let (alice, bob) = cleanExchange()
        XCTAssertEqual(ProofVerifier.violations([alice, bob]), [])
    }

    func testDuplicateDeliveryIsReported() {
        let (alice, bob) = cleanExchange()
        bob.record.withLock { record in
            var again = record.delivered[1]
            again.seq = 3
            record.delivered.append(again)
        }
        XCTAssertTrue(ProofVerifier.violations([alice, bob]).contains { $0.contains("delivered twice") })
    }

    func testHoleInTheSeqsIsReported() {
        let (alice, bob) = cleanExchange()
        bob.record.withLock { $0.delivered[1].seq = 3 }
        XCTAssertTrue(ProofVerifier.violations([alice, bob]).contains { $0.contains("has seq 3") })
    }

    func testLostMessageIsReported() {
        let (alice, bob) = cleanExchange()
        bob.record.withLock { _ = $0.delivered.removeLast() }
        XCTAssertTrue(ProofVerifier.violations([alice, bob]).contains { $0.contains("never delivered") })
    }

    func testReorderedConversationIsReported() {
        let (alice, bob) = cleanExchange()
        bob.record.withLock { record in
            let (first, second) = (record.delivered[0], record.delivered[1])
            record.delivered[0] = second
            record.delivered[1] = first
            record.delivered[0].seq = 1
            record.delivered[1].seq = 2
        }
        XCTAssertTrue(ProofVerifier.violations([alice, bob]).contains { $0.contains("reordered") })
    }

    func testMissingOrDoubleReceiptIsReported() {
        let (alice, bob) = cleanExchange()
        alice.record.withLock { $0.receipts[100] = nil; $0.receipts[101]! += $0.receipts[101]! }
        let problems = ProofVerifier.violations([alice, bob])
        XCTAssertTrue(problems.contains { $0.contains("got 0 receipts") })
        XCTAssertTrue(problems.contains { $0.contains("got 2 receipts") })
    }

    func testReceiptSeqDisagreeingWithTheDeliveredSeqIsReported() {
        let (alice, bob) = cleanExchange()
        alice.record.withLock { $0.receipts[100]![0].seq = 2 }
        XCTAssertTrue(ProofVerifier.violations([alice, bob]).contains { $0.contains("receipt says seq 2") })
    }

    func testRefusalGapAndUnexpectedStopAreReported() {
        let (alice, bob) = cleanExchange()
        bob.record.withLock {
            $0.gaps.append(SeqGap(first: 3, last: 4, reason: .lost))
            $0.stops.append(.replaced)
            $0.failures.append(SendFailure(clientMessageID: 5, recipient: 1, code: .blocked, message: ""))
        }
        let problems = ProofVerifier.violations([alice, bob])
        XCTAssertTrue(problems.contains { $0.contains("gaps") })
        XCTAssertTrue(problems.contains { $0.contains("stopped") })
        XCTAssertTrue(problems.contains { $0.contains("refused") })
    }
}
