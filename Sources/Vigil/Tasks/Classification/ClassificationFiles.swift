import Foundation

/// Labels and predictions in JSON Lines, as `vigil score classification` reads them:
///
/// ```
/// labels.jsonl        {"id": "s1", "label": 3}
/// predictions.jsonl   {"id": "s1", "probs": [0.01, 0.02, 0.9, …]}    or  {"id": "s1", "logits": […]}
/// ```
///
/// Every problem is one `InputError` naming the file and line: malformed JSON (with the column),
/// missing keys, NaN or infinite values, probabilities outside [0, 1] or whose sum is more than
/// 1e-3 away from 1 (saying how far), rows with a different number of classes, labels that are
/// not class indices, duplicate ids, and ids present on one side only.
public enum ClassificationFiles {
    public static let probabilityTolerance = 1e-3

    public struct Labelled: Sendable {
        /// Sample ids in the order of the labels file.
        public var ids: [String]
        public var accumulator: ClassificationAccumulator
    }

    /// Reads labels and one predictions file; samples are ordered as in the labels file.
    public static func load(labels: URL, predictions: URL, labelsPath: String? = nil,
                            predictionsPath: String? = nil, bins: Int = 15) throws -> Labelled {
        let labelRows = try readLabels(labels, shown: labelsPath ?? labels.path)
        let predictionRows = try readPredictions(predictions, shown: predictionsPath ?? predictions.path)
        return try join(labelRows, labelsPath ?? labels.path, predictionRows, predictionsPath ?? predictions.path, bins: bins)
    }

    struct LabelRow { var id: String; var label: Int; var line: Int }
    struct PredictionRow { var id: String; var probabilities: [Double]; var line: Int }

    static func join(_ labels: [LabelRow], _ labelsPath: String, _ predictions: [PredictionRow], _ predictionsPath: String,
                     bins: Int) throws -> Labelled {
        guard let first = predictions.first else { throw InputError("\(predictionsPath): no predictions") }
        guard !labels.isEmpty else { throw InputError("\(labelsPath): no labels") }
        let k = first.probabilities.count
        var byID: [String: PredictionRow] = [:]
        for row in predictions {
            guard row.probabilities.count == k else {
                throw InputError("\(predictionsPath):\(row.line): \(row.probabilities.count) class scores, but line \(first.line) has \(k); every line needs one per class")
            }
            guard byID.updateValue(row, forKey: row.id) == nil else {
                throw InputError("\(predictionsPath):\(row.line): id '\(row.id)' appears twice")
            }
        }
        var seen = Set<String>()
        var accumulator = ClassificationAccumulator(classes: (0..<k).map(String.init), bins: bins)
        for row in labels {
            guard seen.insert(row.id).inserted else { throw InputError("\(labelsPath):\(row.line): id '\(row.id)' appears twice") }
            guard row.label < k else {
                throw InputError("\(labelsPath):\(row.line): label \(row.label) is not a class index of \(predictionsPath)'s predictions (they have \(k) classes: 0…\(k - 1))")
            }
            guard let prediction = byID[row.id] else {
                let missing = labels.filter { byID[$0.id] == nil }
                throw InputError("\(labelsPath):\(row.line): id '\(row.id)' has no prediction in \(predictionsPath)"
                                 + (missing.count > 1 ? " (\(missing.count) ids in all)" : ""))
            }
            accumulator.add(label: row.label, probabilities: prediction.probabilities)
        }
        if let extra = predictions.first(where: { !seen.contains($0.id) }) {
            let count = predictions.filter { !seen.contains($0.id) }.count
            throw InputError("\(predictionsPath):\(extra.line): id '\(extra.id)' has no label in \(labelsPath)"
                             + (count > 1 ? " (\(count) ids in all)" : ""))
        }
        return Labelled(ids: labels.map(\.id), accumulator: accumulator)
    }

    struct LabelLine: Decodable {
        var id: FlexibleID
        var label: Int

        enum CodingKeys: String, CodingKey { case id, label }

        /// A label written 1.5 (or "3") is named as what it is, not as a JSON syntax problem.
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(FlexibleID.self, forKey: .id)
            if !c.contains(.label) || (try? c.decodeNil(forKey: .label)) == true {
                label = try c.decode(Int.self, forKey: .label)  // throws: missing, or null
                return
            }
            if let whole = try? c.decode(Int.self, forKey: .label) {
                label = whole
                return
            }
            let shown = (try? c.decode(Double.self, forKey: .label)).map { Formatting.number($0) }
                ?? (try? c.decode(String.self, forKey: .label)).map { "the text \"\($0)\"" }
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.label],
                                                    debugDescription: "must be a class index (0, 1, 2, …)" + (shown.map { ", found \($0)" } ?? "")))
        }
    }

    struct PredictionLine: Decodable {
        var id: FlexibleID
        var probs: [Double]?
        var logits: [Double]?
    }

    static func readLabels(_ url: URL, shown: String) throws -> [LabelRow] {
        try JSONLines.decode(LabelLine.self, url, shown: shown).map { line, row in
            guard row.label >= 0 else { throw InputError("\(shown):\(line): \"label\" must be a class index (0, 1, 2, …), found \(row.label)") }
            return LabelRow(id: row.id.value, label: row.label, line: line)
        }
    }

    static func readPredictions(_ url: URL, shown: String) throws -> [PredictionRow] {
        try JSONLines.decode(PredictionLine.self, url, shown: shown).map { line, row in
            switch (row.probs, row.logits) {
            case (let values?, nil):
                try check(values, "probs", shown, line)
                if let bad = values.firstIndex(where: { $0 < 0 || $0 > 1 }) {
                    throw InputError("\(shown):\(line): probs[\(bad)] = \(values[bad]) is not a probability (0…1); use \"logits\" for raw scores")
                }
                let total = values.reduce(0, +)
                guard abs(total - 1) <= probabilityTolerance else {
                    throw InputError("\(shown):\(line): probs sum to \(String(format: "%.6g", total)), \(String(format: "%.3g", abs(total - 1))) away from 1 (accepted within \(probabilityTolerance)); use \"logits\" for raw scores")
                }
                return PredictionRow(id: row.id.value, probabilities: values, line: line)
            case (nil, let values?):
                try check(values, "logits", shown, line)
                let top = values.max()!
                let exps = values.map { Foundation.exp($0 - top) }
                let total = exps.reduce(0, +)
                return PredictionRow(id: row.id.value, probabilities: exps.map { $0 / total }, line: line)
            case (nil, nil):
                throw InputError("\(shown):\(line): needs \"probs\" (probabilities) or \"logits\"")
            default:
                throw InputError("\(shown):\(line): has both \"probs\" and \"logits\"; give one")
            }
        }
    }

    static func check(_ values: [Double], _ key: String, _ shown: String, _ line: Int) throws {
        guard !values.isEmpty else { throw InputError("\(shown):\(line): \"\(key)\" is empty") }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw InputError("\(shown):\(line): \(key)[\(bad)] is \(Formatting.number(values[bad])), not a finite number; scores must be finite")
        }
    }
}

/// An id written as a string or as a whole number.
struct FlexibleID: Decodable {
    var value: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let text = try? c.decode(String.self) {
            value = text
        } else if let number = try? c.decode(Int.self) {
            value = String(number)
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                                                                debugDescription: "an id must be a string or a whole number"))
        }
    }
}

/// JSON Lines reading with per-line errors. Numbers go through JSONDecoder, which parses them
/// correctly rounded (JSONSerialization on Linux can be a few ulps off, enough to move a
/// probability across a calibration bin edge); JSONSerialization only locates syntax errors.
enum JSONLines {
    /// Decodes every non-blank line as `T`; returns (1-based line number, value) pairs.
    static func decode<T: Decodable>(_ type: T.Type, _ url: URL, shown: String) throws -> [(Int, T)] {
        let data = try JSONInput.read(url, displayPath: shown)
        // One pass over the bytes: the non-blank lines, joined by commas into one JSON array
        // (one decoder pass over an array is much faster than a decoder per line).
        var lines: [(number: Int, range: Range<Int>)] = []
        var array: [UInt8] = [UInt8(ascii: "[")]
        array.reserveCapacity(data.count + 2)
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0, number = 1
            for index in 0...bytes.count {
                guard index == bytes.count || bytes[index] == UInt8(ascii: "\n") else { continue }
                let line = bytes[start..<index]
                if line.contains(where: { !($0 == 32 || $0 == 9 || $0 == 13) }) {
                    if !lines.isEmpty { array.append(UInt8(ascii: ",")) }
                    array.append(contentsOf: line)
                    lines.append((number, start..<index))
                }
                start = index + 1
                number += 1
            }
        }
        array.append(UInt8(ascii: "]"))
        if let values = try? JSONDecoder().decode([T].self, from: Data(array)) {
            return zip(lines.map(\.number), values).map { ($0, $1) }
        }
        // Only when that fails are the lines decoded one by one, to say which is wrong. NaN and
        // Infinity, which Python's json writes, are read (JSON5 has them) so that the caller's
        // checks name the field, as for a results file.
        var values: [(Int, T)] = []
        for line in lines {
            let bytes = data.subdata(in: (data.startIndex + line.range.lowerBound)..<(data.startIndex + line.range.upperBound))
            do {
                values.append((line.number, try JSONDecoder().decode(T.self, from: bytes)))
            } catch let error as DecodingError {
                if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                    if let token = offendingToken(bytes)?.token, isNonFinite(token), let value = JSONInput.decodeAllowingNonFinite(T.self, from: bytes) {
                        values.append((line.number, value))
                        continue
                    }
                    throw InputError("\(shown):\(line.number): \(syntaxError(bytes))")
                }
                throw InputError("\(shown):\(line.number): \(JSONProblem.describe(error))")
            }
        }
        return values
    }

    static func isNonFinite(_ token: String) -> Bool {
        token.hasPrefix("NaN") || token.hasPrefix("Infinity") || token.hasPrefix("-Infinity")
    }

    /// Where JSONSerialization stops reading `bytes`, and the text there; nil when it parses.
    static func offendingToken(_ bytes: Data) -> (offset: Int, token: String)? {
        do {
            _ = try JSONSerialization.jsonObject(with: bytes)
            return nil
        } catch {
            let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            guard let match = text.firstMatch(of: /character (\d+)/), let offset = Int(match.output.1) else { return nil }
            return (offset, JSONInput.token(at: offset, in: bytes) ?? "")
        }
    }

    /// "column C: not valid JSON …", naming NaN and Infinity, which Python writes but JSON lacks.
    static func syntaxError(_ bytes: Data) -> String {
        guard let (offset, token) = offendingToken(bytes) else {
            return (try? JSONSerialization.jsonObject(with: bytes)) != nil ? "each line must be one JSON object" : "not valid JSON"
        }
        if isNonFinite(token) {
            return "column \(offset + 1): \(token.prefix(while: { $0.isLetter || $0 == "-" })) is not a number JSON allows; scores must be finite"
        }
        return "column \(offset + 1): not valid JSON" + (token.isEmpty ? "" : " near '\(token)'")
    }
}
