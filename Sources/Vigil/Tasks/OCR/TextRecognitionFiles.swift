import Foundation

/// Transcripts and predictions in JSON Lines, as `vigil score ocr` reads them, one text line
/// per sample:
///
/// ```
/// labels.jsonl        {"id": "s1", "text": "Kaiserstraße 12"}
/// predictions.jsonl   {"id": "s1", "text": "Kaiserstrasse 12"}
/// ```
///
/// Texts are UTF-8; an empty text is a line with no characters (a reference with nothing to
/// read, or a recogniser that read nothing). Every problem is one `InputError` naming the file
/// and line: malformed JSON, a missing or non-string `text`, duplicate ids, ids on one side only.
public enum TextRecognitionFiles {
    struct Line: Decodable {
        var id: FlexibleID
        var text: String
    }

    /// Each sample's counts, in the labels file's order.
    public static func load(labels: URL, predictions: URL, labelsPath: String? = nil,
                            predictionsPath: String? = nil) throws -> [TextRecognition.SampleScore] {
        let labelsShown = labelsPath ?? labels.path, predictionsShown = predictionsPath ?? predictions.path
        let truth = try JSONLines.decode(Line.self, labels, shown: labelsShown)
        let guesses = try JSONLines.decode(Line.self, predictions, shown: predictionsShown)
        guard !truth.isEmpty else { throw InputError("\(labelsShown): no labels") }
        var byID: [String: (line: Int, text: String)] = [:]
        for (line, row) in guesses {
            if let first = byID.updateValue((line, row.text), forKey: row.id.value) {
                throw InputError("\(predictionsShown):\(line): id '\(row.id.value)' appears twice (first on line \(first.line))")
            }
        }
        var seen: [String: Int] = [:]
        var samples: [TextRecognition.SampleScore] = []
        for (line, row) in truth {
            if let first = seen.updateValue(line, forKey: row.id.value) {
                throw InputError("\(labelsShown):\(line): id '\(row.id.value)' appears twice (first on line \(first))")
            }
            guard let guess = byID[row.id.value] else {
                let missing = truth.filter { byID[$0.1.id.value] == nil }.count
                throw InputError("\(labelsShown):\(line): id '\(row.id.value)' has no prediction in \(predictionsShown)"
                                 + (missing > 1 ? " (\(missing) ids in all)" : "") + "; an empty prediction is {\"id\": …, \"text\": \"\"}")
            }
            samples.append(TextRecognition.SampleScore(id: row.id.value, reference: row.text, prediction: guess.text))
        }
        if let extra = guesses.first(where: { seen[$0.1.id.value] == nil }) {
            let count = guesses.filter { seen[$0.1.id.value] == nil }.count
            throw InputError("\(predictionsShown):\(extra.0): id '\(extra.1.id.value)' has no label in \(labelsShown)"
                             + (count > 1 ? " (\(count) ids in all)" : ""))
        }
        return samples
    }
}
