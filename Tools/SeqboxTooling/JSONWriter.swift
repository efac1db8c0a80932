/// Builds one JSON object as text with its keys in insertion order, so machine output is
/// deterministic and diffable (Foundation's encoder sorts or shuffles keys).
public struct JSONWriter {
    private var text = "{"
    private var first = true

    public init() {}

    private mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        text += Self.quoted(name) + ":"
    }

    public mutating func add(_ name: String, _ value: String) { key(name); text += Self.quoted(value) }
    public mutating func add(_ name: String, _ value: Bool) { key(name); text += value ? "true" : "false" }
    public mutating func add<T: BinaryInteger>(_ name: String, _ value: T) { key(name); text += String(value) }
    /// A decimal with `digits` digits after the point.
    public mutating func add(_ name: String, _ value: Double, digits: Int) { key(name); text += Decimal.format(value, digits: digits) }
    public mutating func addNull(_ name: String) { key(name); text += "null" }
    /// A value that is already JSON text (a nested object or an array).
    public mutating func addRaw(_ name: String, _ json: String) { key(name); text += json }

    public var result: String { text + "}" }

    /// A JSON array of already-encoded values.
    public static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

    /// `value` as a JSON string literal.
    public static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + Hex.padded(UInt64(scalar.value), digits: 4)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
