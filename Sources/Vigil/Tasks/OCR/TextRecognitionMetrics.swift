import Foundation

/// How text recognition is scored, with jiwer's definitions and default transforms (jiwer 4.0,
/// `cer_default` and `wer_default`), corpus-level:
///
/// - characters: the text with leading and trailing whitespace stripped (Python's `str.strip`),
///   split into Unicode code points (what Python iterates; not grapheme clusters, so "é" written
///   as e + U+0301 is two characters, as in jiwer);
/// - words: runs of two or more whitespace characters replaced by one space (jiwer's
///   `RemoveMultipleSpaces`, regex `\s\s+`), stripped, split on spaces (a lone tab stays inside
///   a word, as in jiwer);
/// - CER = Σ character edits / Σ reference characters, WER = Σ word edits / Σ reference words,
///   edits being the Levenshtein distance (substitutions + deletions + insertions, unit costs);
///   undefined (nil) when the references hold no character (jiwer returns the insertion count);
/// - exact match: the share of samples whose character edit distance is 0.
public enum TextRecognition {
    /// Python's `str.isspace` for one code point, which `str.strip` and `re`'s `\s` use: Unicode
    /// White_Space, plus the information separators U+001C…U+001F (bidirectional class B or S).
    static func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// `str.strip()`.
    static func stripped(_ scalars: [Unicode.Scalar]) -> ArraySlice<Unicode.Scalar> {
        guard let first = scalars.firstIndex(where: { !isPythonSpace($0) }),
              let last = scalars.lastIndex(where: { !isPythonSpace($0) }) else { return [] }
        return scalars[first...last]
    }

    /// The reference or prediction as CER counts it (jiwer's `cer_default`).
    public static func characters(_ text: String) -> [Unicode.Scalar] {
        Array(stripped(Array(text.unicodeScalars)))
    }

    /// The reference or prediction as WER counts it (jiwer's `wer_default`).
    public static func words(_ text: String) -> [String] {
        wordScalars(text).map { String(String.UnicodeScalarView($0)) }
    }

    /// The words as code points. Words are compared this way, as Python compares strings:
    /// Swift's `String` equality is canonical equivalence ("é" precomposed equals e + U+0301),
    /// which would hide edits jiwer counts.
    static func wordScalars(_ text: String) -> [[Unicode.Scalar]] {
        // RemoveMultipleSpaces: every run of 2+ whitespace characters becomes one space.
        var collapsed: [Unicode.Scalar] = []
        var run: [Unicode.Scalar] = []
        func flush() {
            collapsed += run.count >= 2 ? [" "] : run
            run.removeAll()
        }
        for scalar in text.unicodeScalars {
            if isPythonSpace(scalar) { run.append(scalar) } else { flush(); collapsed.append(scalar) }
        }
        flush()
        return stripped(collapsed).split(separator: " ", omittingEmptySubsequences: true).map(Array.init)
    }

    /// Levenshtein distance with unit costs (two rows of the dynamic programme).
    public static func editDistance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// One sample's counts.
    public struct SampleScore: Sendable, Hashable, Codable {
        public var id: String
        public var characterEdits: Int
        public var referenceCharacters: Int
        public var wordEdits: Int
        public var referenceWords: Int

        enum CodingKeys: String, CodingKey {
            case id, characterEdits = "char_edits", referenceCharacters = "reference_chars", wordEdits = "word_edits",
                 referenceWords = "reference_words"
        }

        public init(id: String, reference: String, prediction: String) {
            self.id = id
            let truth = TextRecognition.characters(reference), guess = TextRecognition.characters(prediction)
            characterEdits = TextRecognition.editDistance(truth, guess)
            referenceCharacters = truth.count
            let truthWords = TextRecognition.wordScalars(reference)
            wordEdits = TextRecognition.editDistance(truthWords, TextRecognition.wordScalars(prediction))
            referenceWords = truthWords.count
        }
    }

    /// Corpus-level metrics over samples.
    public struct Metrics: Sendable, Hashable, Codable {
        public var cer: Double?
        public var wer: Double?
        public var exactMatch: Double?
        public var n: Int
        public var characterEdits: Int
        public var referenceCharacters: Int
        public var wordEdits: Int
        public var referenceWords: Int

        enum CodingKeys: String, CodingKey {
            case cer, wer, exactMatch = "exact_match", n, characterEdits = "char_edits", referenceCharacters = "reference_chars",
                 wordEdits = "word_edits", referenceWords = "reference_words"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(cer, forKey: .cer)
            try c.encode(wer, forKey: .wer)
            try c.encode(exactMatch, forKey: .exactMatch)
            try c.encode(n, forKey: .n)
            try c.encode(characterEdits, forKey: .characterEdits)
            try c.encode(referenceCharacters, forKey: .referenceCharacters)
            try c.encode(wordEdits, forKey: .wordEdits)
            try c.encode(referenceWords, forKey: .referenceWords)
        }
    }

    /// The metrics of `samples`, each counted `weights[i]` times (a bootstrap resample), or once.
    public static func metrics(_ samples: [SampleScore], weights: [Int]? = nil) -> Metrics {
        var charEdits = 0, refChars = 0, wordEdits = 0, refWords = 0, exact = 0, n = 0
        for (index, s) in samples.enumerated() {
            let w = weights?[index] ?? 1
            guard w > 0 else { continue }
            charEdits += w * s.characterEdits
            refChars += w * s.referenceCharacters
            wordEdits += w * s.wordEdits
            refWords += w * s.referenceWords
            if s.characterEdits == 0 { exact += w }
            n += w
        }
        return Metrics(cer: refChars > 0 ? Double(charEdits) / Double(refChars) : nil,
                       wer: refWords > 0 ? Double(wordEdits) / Double(refWords) : nil,
                       exactMatch: n > 0 ? Double(exact) / Double(n) : nil, n: n,
                       characterEdits: charEdits, referenceCharacters: refChars, wordEdits: wordEdits, referenceWords: refWords)
    }

    /// What `vigil score ocr` prints: the metrics, their bootstrap intervals (resampling
    /// samples) and every sample's counts.
    public struct Score: Sendable, Codable {
        public var metrics: Metrics
        public var intervals: [String: Interval]
        public var samples: [SampleScore]

        public func encode(to encoder: any Encoder) throws {
            try metrics.encode(to: encoder)
            var c = encoder.container(keyedBy: ExtraKeys.self)
            if !intervals.isEmpty { try c.encode(intervals, forKey: .intervals) }
            try c.encode(samples, forKey: .samples)
        }

        enum ExtraKeys: String, CodingKey { case intervals, samples }
    }

    /// The metrics with intervals and paired deltas, by their JSON names.
    static let headline = ["cer", "wer", "exact_match"]

    static func headlineValues(_ m: Metrics) -> [Double?] { [m.cer, m.wer, m.exactMatch] }

    public static func score(_ samples: [SampleScore], bootstrap: Bootstrap?) -> Score {
        let intervals = bootstrap?.intervals(headline, samples: samples.count) { weights in headlineValues(metrics(samples, weights: weights)) } ?? [:]
        return Score(metrics: metrics(samples), intervals: intervals, samples: samples)
    }

    /// Paired comparison of two recognisers on the same samples in the same order: deltas of
    /// CER, WER and exact match with paired-bootstrap intervals (the same resampled samples for
    /// both) and p-values.
    public static func compare(baseline: [SampleScore], candidate: [SampleScore], bootstrap: Bootstrap) throws -> [NamedDelta] {
        guard baseline.map(\.id) == candidate.map(\.id) else {
            throw InputError("a paired comparison needs both recognisers' predictions for the same samples in the same order")
        }
        return bootstrap.pairedDeltas(headline, samples: baseline.count,
                                      baseline: { headlineValues(metrics(baseline, weights: $0)) },
                                      candidate: { headlineValues(metrics(candidate, weights: $0)) })
    }
}

extension TextRecognition.Score {
    /// The text `vigil score ocr` prints: the metrics with their intervals, then the samples
    /// with the most character edits.
    public var text: String {
        func shown(_ name: String, _ value: Double?) -> String { Formatting.percent(value, interval: intervals[name]) }
        let m = metrics
        var lines = ["\(m.n) text lines, \(m.referenceCharacters) reference characters, \(m.referenceWords) reference words"
                     + (intervals.isEmpty ? "" : " · \(Int((intervals.values.first?.level ?? 0.95) * 100))% bootstrap intervals")]
        lines += TerminalReport.layout([
            ["CER", shown("cer", m.cer), "\(m.characterEdits) character edits"],
            ["WER", shown("wer", m.wer), "\(m.wordEdits) word edits"],
            ["exact match", shown("exact_match", m.exactMatch), ""],
        ])
        let worst = samples.filter { $0.characterEdits > 0 }
            .sorted { $0.characterEdits != $1.characterEdits ? $0.characterEdits > $1.characterEdits : $0.id < $1.id }.prefix(10)
        if !worst.isEmpty {
            lines.append("")
            lines += TerminalReport.layout([["most character edits", "edits", "reference chars", "word edits"]]
                + worst.map { [$0.id, "\($0.characterEdits)", "\($0.referenceCharacters)", "\($0.wordEdits)"] }, rightAligned: [1, 2, 3])
        }
        return lines.joined(separator: "\n")
    }
}
