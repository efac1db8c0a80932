/// The example content filter: refuses a message whose body, read as UTF-8, contains one of
/// the keywords (case-insensitive) or matches one of the regular expressions.
public struct KeywordContentFilter: ContentFilter, @unchecked Sendable {
    // @unchecked: `Regex` values are immutable once compiled and only read here.
    private let keywords: [String]
    private let patterns: [(source: String, regex: Regex<AnyRegexOutput>)]

    /// Errors compiling a pattern.
    public struct PatternError: Error, CustomStringConvertible {
        public var pattern: String
        public var detail: String
        public var description: String { "invalid content pattern \(pattern): \(detail)" }
    }

    /// A filter for `keywords` (matched case-insensitively as substrings) and `patterns`
    /// (Swift regex syntax, matched anywhere in the body).
    public init(keywords: [String], patterns: [String] = []) throws(PatternError) {
        self.keywords = keywords.filter { !$0.isEmpty }.map { $0.lowercased() }
        var compiled: [(String, Regex<AnyRegexOutput>)] = []
        for pattern in patterns {
            do {
                compiled.append((pattern, try Regex(pattern)))
            } catch {
                throw PatternError(pattern: pattern, detail: "\(error)")
            }
        }
        self.patterns = compiled
    }

    public var isEmpty: Bool { keywords.isEmpty && patterns.isEmpty }

    public func inspect(_ candidate: ContentCandidate) -> ContentVerdict {
        guard !isEmpty else { return .accept }
        let text = String(decoding: candidate.body, as: UTF8.self)
        if !keywords.isEmpty {
            let lowered = text.lowercased()
            for keyword in keywords where lowered.contains(keyword) {
                return .reject(reason: "contains a blocked keyword")
            }
        }
        for pattern in patterns where (try? pattern.regex.firstMatch(in: text)) != nil {
            return .reject(reason: "matches a blocked pattern")
        }
        return .accept
    }
}
