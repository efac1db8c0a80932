import Foundation
import SeqboxFormat
import SeqboxProtocol
import XCTest
@testable import SeqboxServer

/// The small parts of offline push: previews, backoff, status classes, the webhook body, the
/// URL check and the options.
final class PushPartsTests: XCTestCase {
    func testPreviewIsCutOnAUTF8CharacterBoundary() {
        XCTAssertNil(PushPreview.cut(Array("hello".utf8), bytesMax: 0), "0: previews off")
        XCTAssertNil(PushPreview.cut([], bytesMax: 8))
        XCTAssertEqual(PushPreview.cut(Array("hello".utf8), bytesMax: 8), Array("hello".utf8))
        XCTAssertEqual(PushPreview.cut(Array("hello".utf8), bytesMax: 3), Array("hel".utf8))
        // é is 2 bytes, 😀 is 4: a cut inside either leaves the character out.
        XCTAssertEqual(PushPreview.cut(Array("hé!".utf8), bytesMax: 2), Array("h".utf8))
        XCTAssertEqual(PushPreview.cut(Array("hé!".utf8), bytesMax: 3), Array("hé".utf8))
        for bytesMax in 1 ... 3 { XCTAssertNil(PushPreview.cut(Array("😀x".utf8), bytesMax: bytesMax)) }
        XCTAssertEqual(PushPreview.cut(Array("😀x".utf8), bytesMax: 4), Array("😀".utf8))
        // Every cut of a mixed text is valid UTF-8 and a prefix.
        let text = Array("aé日😀b日é".utf8)
        for bytesMax in 1 ... text.count {
            let cut = PushPreview.cut(text, bytesMax: bytesMax) ?? []
            XCTAssertLessThanOrEqual(cut.count, bytesMax)
            XCTAssertNotNil(String(validating: cut, as: UTF8.self), "cut at \(bytesMax)")
            XCTAssertEqual(Array(text.prefix(cut.count)), cut)
            XCTAssertGreaterThan(cut.count, bytesMax - 4, "at most one character is left out")
        }
        XCTAssertNil(PushPreview.text([0xFF, 0xFE]), "binary bodies have no preview text")
    }

    func testTheSendPathHandsNoPreviewToTheGatewayWhenPreviewsAreOff() throws {
        let harness = try ServiceHarness()
        defer { harness.shutDown() }
        let (alice, _) = harness.logIn(user: 1, device: 1)
        _ = harness.send("private words", to: 2, id: 1, on: alice)
        XCTAssertEqual(harness.offline.recorded.map(\.user), [UserID(2)])
        XCTAssertEqual(harness.offline.previews, [nil])
    }

    func testBackoffDoublesUpToTheCapWithJitterWithinTheStep() {
        let backoff = PushBackoff(initialMs: 100, maxMs: 1_000)
        XCTAssertEqual((1 ... 6).map { backoff.stepMs(attempt: $0) }, [100, 200, 400, 800, 1_000, 1_000])
        XCTAssertEqual(backoff.stepMs(attempt: 500), 1_000, "no overflow for large attempts")
        XCTAssertEqual(backoff.delayMs(attempt: 3) { $0.lowerBound }, 200)
        XCTAssertEqual(backoff.delayMs(attempt: 3) { $0.upperBound }, 400)
        for attempt in 1 ... 8 {
            let delay = backoff.delayMs(attempt: attempt)
            XCTAssertTrue((backoff.stepMs(attempt: attempt) / 2 ... backoff.stepMs(attempt: attempt)).contains(delay))
        }
    }

    func testStatusesAreClassifiedIntoDeliveredRetriedAndDropped() {
        for status in [200, 202, 204] { XCTAssertEqual(PushDeliveryOutcome.classify(status: status), .delivered(status: status)) }
        for status in [408, 429, 500, 502, 503, 504] {
            XCTAssertEqual(PushDeliveryOutcome.classify(status: status), .failed(reason: "status \(status)"))
        }
        for status in [301, 400, 401, 403, 404, 410, 413] {
            XCTAssertEqual(PushDeliveryOutcome.classify(status: status), .rejected(status: status))
        }
    }

    func testTheWebhookBodyListsTheUsersDevicesWithTheirTokens() throws {
        let tip = PushTip(user: UserID(1001), newestSeq: Seq(43), epoch: 1, sender: UserID(1002), preview: Array("see you \"at\" 5".utf8))
        let devices = [PushDevice(device: DeviceID(7), platform: .apns, token: [0x9F, 0x2C, 0x00, 0xFF]),
                       PushDevice(device: DeviceID(8), platform: .fcm, token: Array("dGVzdA:APA91b".utf8))]
        let json = String(decoding: WebhookPayload(tip: tip, devices: devices).json, as: UTF8.self)
        XCTAssertEqual(json, #"{"devices":[{"device":7,"platform":"apns","token":"9f2c00ff"},{"device":8,"platform":"fcm","token":"dGVzdA:APA91b"}],"#
            + #""epoch":1,"newest_seq":43,"preview":"see you \"at\" 5","sender":1002,"user":1001}"#)
        let without = PushTip(user: UserID(1), newestSeq: Seq(1), epoch: 1, sender: UserID(2))
        XCTAssertFalse(String(decoding: WebhookPayload(tip: without, devices: devices).json, as: UTF8.self).contains("preview"))
    }

    func testWebhookURLsMustBeHTTPWithAHostAndAreLoggedWithoutSecrets() {
        for good in ["http://127.0.0.1:8080/push", "https://relay.example.com/v1/tips?key=1"] {
            XCTAssertNotNil(try? WebhookEndpoint.parse(good).get(), good)
        }
        for bad in ["", "not a url", "ftp://relay.example.com/push", "http://", "relay.example.com/push", "mailto:ops@example.com"] {
            XCTAssertNil(try? WebhookEndpoint.parse(bad).get(), bad)
        }
        XCTAssertEqual(WebhookEndpoint.redacted("https://user:secret@relay.example.com:8443/push?key=abc"), "https://relay.example.com:8443/push")
        XCTAssertFalse(WebhookEndpoint.redacted("not a url at all %%").contains("url"))
    }

    func testPushOptionsComeFromFlagsAndEnvironmentWithDefaults() throws {
        let defaults = try XCTUnwrap(ServerOptions.parse(arguments: [], environment: [:])).push
        XCTAssertEqual(defaults, PushOptions())
        XCTAssertNil(defaults.webhook)
        XCTAssertEqual(defaults.previewBytes, 0, "previews are off by default")

        let options = try XCTUnwrap(ServerOptions.parse(
            arguments: ["--push-webhook", "http://127.0.0.1:9/x", "--push-timeout-ms", "1500", "--push-retries-max", "0",
                        "--push-backoff-ms", "50", "--push-backoff-max-ms", "800", "--push-queue-max", "20",
                        "--push-concurrency", "2", "--push-preview-bytes", "64"],
            environment: ["SEQBOX_PUSH_WEBHOOK": "http://ignored.example/", "SEQBOX_PUSH_CONCURRENCY": "3"])).push
        XCTAssertEqual(options.webhook, "http://127.0.0.1:9/x", "flags win")
        XCTAssertEqual(options.timeoutMs, 1500)
        XCTAssertEqual(options.retriesMax, 0)
        XCTAssertEqual(options.backoffMs, 50)
        XCTAssertEqual(options.backoffMaxMs, 800)
        XCTAssertEqual(options.queueMax, 20)
        XCTAssertEqual(options.concurrency, 2)
        XCTAssertEqual(options.previewBytes, 64)

        let fromEnvironment = try XCTUnwrap(ServerOptions.parse(arguments: [], environment: ["SEQBOX_PUSH_WEBHOOK": "https://relay/x", "SEQBOX_PUSH_QUEUE_MAX": "7"])).push
        XCTAssertEqual(fromEnvironment.webhook, "https://relay/x")
        XCTAssertEqual(fromEnvironment.queueMax, 7)

        for bad in [["--push-timeout-ms", "0"], ["--push-concurrency", "0"], ["--push-queue-max", "-1"],
                    ["--push-preview-bytes", "\(PushPreview.bytesMax + 1)"], ["--push-retries-max", "x"]] {
            XCTAssertThrowsError(try ServerOptions.parse(arguments: bad, environment: [:]), "\(bad)")
        }
        // A bad URL is not a usage error: the server starts and reports it.
        XCTAssertEqual(try ServerOptions.parse(arguments: ["--push-webhook", "ftp://x"], environment: [:])?.push.webhook, "ftp://x")
    }
}
