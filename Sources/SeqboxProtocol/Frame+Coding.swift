/// The bridge between `Frame`'s cases and their payloads' body coding (`FramePayload`).
extension Frame {
    /// The case's payload, for its body size and coding.
    var payload: any FramePayload {
        switch self {
        case .hello(let payload): payload
        case .helloOK(let payload): payload
        case .login(let payload): payload
        case .loginOK(let payload): payload
        case .send(let payload): payload
        case .sendOK(let payload): payload
        case .pull(let payload): payload
        case .pullOK(let payload): payload
        case .truncated(let payload): payload
        case .notify(let payload): payload
        case .ack(let payload): payload
        case .ackOK(let payload): payload
        case .block(let payload): payload
        case .unblock(let payload): payload
        case .blockOK(let payload): payload
        case .ping(let payload): payload
        case .pong(let payload): payload
        case .error(let payload): payload
        case .goodbye(let payload): payload
        case .pushRegister(let payload): payload
        case .pushUnregister(let payload): payload
        case .pushOK(let payload): payload
        case .storeAppend(let payload): payload
        case .storeAppendOK(let payload): payload
        case .storePull(let payload): payload
        case .storeLoginState(let payload): payload
        case .storeAck(let payload): payload
        case .storeBlock(let payload): payload
        case .storeCursor(let payload): payload
        case .storeNewest(let payload): payload
        case .storeNewestOK(let payload): payload
        case .storeStats(let payload): payload
        case .storeStatsOK(let payload): payload
        }
    }

    /// Reads the body of a frame of `type`; the caller checks `reader.finish()` afterwards.
    static func decodeBody(_ type: FrameType, from reader: inout WireReader) throws(ProtocolError) -> Frame {
        switch type {
        case .hello: .hello(try Hello(reading: &reader))
        case .helloOK: .helloOK(try HelloOK(reading: &reader))
        case .login: .login(try Login(reading: &reader))
        case .loginOK: .loginOK(try LoginOK(reading: &reader))
        case .send: .send(try Send(reading: &reader))
        case .sendOK: .sendOK(try SendOK(reading: &reader))
        case .pull: .pull(try Pull(reading: &reader))
        case .pullOK: .pullOK(try PullOK(reading: &reader))
        case .truncated: .truncated(try Truncated(reading: &reader))
        case .notify: .notify(try Notify(reading: &reader))
        case .ack: .ack(try Ack(reading: &reader))
        case .ackOK: .ackOK(try AckOK(reading: &reader))
        case .block: .block(try Block(reading: &reader))
        case .unblock: .unblock(try Unblock(reading: &reader))
        case .blockOK: .blockOK(try BlockOK(reading: &reader))
        case .ping: .ping(try Ping(reading: &reader))
        case .pong: .pong(try Pong(reading: &reader))
        case .error: .error(try ErrorReport(reading: &reader))
        case .goodbye: .goodbye(try Goodbye(reading: &reader))
        case .pushRegister: .pushRegister(try PushRegister(reading: &reader))
        case .pushUnregister: .pushUnregister(try PushUnregister(reading: &reader))
        case .pushOK: .pushOK(try PushOK(reading: &reader))
        case .storeAppend: .storeAppend(try StoreAppend(reading: &reader))
        case .storeAppendOK: .storeAppendOK(try StoreAppendOK(reading: &reader))
        case .storePull: .storePull(try StorePull(reading: &reader))
        case .storeLoginState: .storeLoginState(try StoreLoginState(reading: &reader))
        case .storeAck: .storeAck(try StoreAck(reading: &reader))
        case .storeBlock: .storeBlock(try StoreBlock(reading: &reader))
        case .storeCursor: .storeCursor(try StoreCursor(reading: &reader))
        case .storeNewest: .storeNewest(try StoreNewest(reading: &reader))
        case .storeNewestOK: .storeNewestOK(try StoreNewestOK(reading: &reader))
        case .storeStats: .storeStats(try StoreStats(reading: &reader))
        case .storeStatsOK: .storeStatsOK(try StoreStatsOK(reading: &reader))
        }
    }
}

extension FramePayload {
    /// The frame type, reachable through an existential.
    var frameType: FrameType { Self.frameType }
}
