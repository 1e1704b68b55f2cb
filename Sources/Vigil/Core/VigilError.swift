import Foundation

/// An error caused by what the user gave Vigil: a file, a suite, a model, a golden set or a
/// command-line argument. Its message is one line that names the thing, says what is wrong and,
/// where possible, what to do. The command-line tool exits with status 2 for these.
public struct InputError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Builds "did you mean ...?" hints from a list of valid names.
public enum Suggestion {
    /// The valid name closest to `name` by edit distance, when it is close enough to be a
    /// plausible typo (at most a third of the longer name's length).
    public static func closest(to name: String, in candidates: [String]) -> String? {
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(name.lowercased(), candidate.lowercased())
            if best == nil || distance < best!.distance {
                best = (candidate, distance)
            }
        }
        guard let best else { return nil }
        let limit = max(2, max(name.count, best.name.count) / 3)
        return best.distance <= limit ? best.name : nil
    }

    /// " (did you mean 'x'?)" or, when nothing is close, " (valid: a, b, c)"; long lists (a
    /// golden set's sample ids) are cut after eight names, with the count.
    public static func hint(for name: String, in candidates: [String]) -> String {
        if let match = closest(to: name, in: candidates) {
            return " (did you mean '\(match)'?)"
        }
        guard candidates.count > 10 else { return " (valid: \(candidates.joined(separator: ", ")))" }
        return " (valid: \(candidates.prefix(8).joined(separator: ", ")), … \(candidates.count) in all)"
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }
}
