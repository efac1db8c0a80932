/// Text-like payloads: words of a small English vocabulary with spaces and punctuation, so
/// they compress about as well as chat text does (a little).
enum TextPayload {
    static let vocabulary: [String] = """
        the be to of and a in that have I it for not on with he as you do at this but his by from \
        they we say her she or an will my one all would there their what so up out if about who get \
        which go me when make can like time no just him know take people into year your good some \
        could them see other than then now look only come its over think also back after use two how \
        our work first well way even new want because any these give day most us ok yes sure thanks \
        tonight tomorrow meeting dinner lunch coffee call later soon home office train bus late sorry \
        great cool fine love miss photo video link sent send check read reply here where why okay \
        haha lol weekend monday friday morning evening birthday party movie game ticket price plan
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    static let punctuation: [String] = [".", ",", "!", "?", " :)", "..."]

    static func make(bytes count: Int, random: inout BenchRandom) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(count + 16)
        var capitalize = true
        while text.count < count {
            var word = Array(vocabulary[random.below(vocabulary.count)].utf8)
            if capitalize, let first = word.first, first >= 97, first <= 122 { word[0] = first - 32 }
            capitalize = false
            text.append(contentsOf: word)
            if random.below(6) == 0 {
                text.append(contentsOf: Array(punctuation[random.below(punctuation.count)].utf8))
                capitalize = true
            }
            text.append(32)
        }
        return Array(text.prefix(count))
    }
}
