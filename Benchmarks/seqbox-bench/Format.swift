/// Number formatting for the tables (the benchmark avoids Foundation's formatters).
enum Format {
    /// 1234567 -> "1,234,567"; small values keep two significant decimals.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "—" }
        if abs(value) >= 100 { return grouped(Int(value.rounded())) }
        if abs(value) >= 10 { return decimals(value, 1) }
        return decimals(value, 2)
    }

    static func ratio(_ value: Double) -> String {
        guard value.isFinite else { return "—" }
        return (value >= 100 ? grouped(Int(value.rounded())) : decimals(value, value >= 10 ? 1 : 2)) + "×"
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }

    static func decimals(_ value: Double, _ places: Int) -> String {
        var scale = 1.0
        for _ in 0 ..< places { scale *= 10 }
        let scaled = Int((abs(value) * scale).rounded())
        let whole = scaled / Int(scale)
        var fraction = String(scaled % Int(scale))
        while fraction.count < places { fraction = "0" + fraction }
        return (value < 0 ? "-" : "") + String(whole) + (places > 0 ? "." + fraction : "")
    }

    /// 10_000 -> "10k", 1_000_000 -> "1M".
    static func count(_ value: Int) -> String {
        if value >= 1_000_000 && value % 1_000_000 == 0 { return "\(value / 1_000_000)M" }
        if value >= 1000 && value % 1000 == 0 { return "\(value / 1000)k" }
        return grouped(value)
    }

    /// Pads `text` to `width` characters.
    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }
}
