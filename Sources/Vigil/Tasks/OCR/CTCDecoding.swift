import Foundation

/// Greedy (best-path) decoding of a CTC recognition network's output, as PaddleOCR's
/// `CTCLabelDecode` and most CRNN pipelines do: take the most likely class at every time step,
/// merge runs of the same class, drop the blank. "a a – a" reads "aa"; "a a a" reads "a".
///
/// `classes` names the text of every output index (the blank's entry is never emitted);
/// PP-OCR's recognisers put the blank at 0, then their dictionary's characters, then " ".
public struct CTCGreedyDecoder: Sendable, Hashable {
    public var classes: [String]
    public var blank: Int

    public init(classes: [String], blank: Int) throws {
        guard classes.indices.contains(blank) else {
            throw InputError("the CTC blank index \(blank) is not one of the \(classes.count) classes")
        }
        self.classes = classes
        self.blank = blank
    }

    /// The text and its confidence — PaddleOCR's: the mean top score of the time steps that
    /// emitted a character, 0 for an empty reading — from `scores`, `steps` rows of
    /// `classes.count` numbers (time-major, as a [1, T, C] output). Ties go to the lower index,
    /// as numpy's argmax.
    public func decode(_ scores: UnsafeBufferPointer<Float>, steps: Int) throws -> (text: String, confidence: Double) {
        let k = classes.count
        guard scores.count == steps * k else {
            throw InputError("the recognition output has \(scores.count) numbers, not \(steps) time steps × \(k) classes")
        }
        var text = "", previous = -1, confidenceSum = 0.0, emitted = 0
        for t in 0..<steps {
            let row = t * k
            var best = 0, top = scores[row]
            for c in 1..<k where scores[row + c] > top {
                best = c
                top = scores[row + c]
            }
            if best != previous && best != blank {
                text += classes[best]
                confidenceSum += Double(top)
                emitted += 1
            }
            previous = best
        }
        return (text, emitted > 0 ? confidenceSum / Double(emitted) : 0)
    }

    /// PP-OCR's class list from its character dictionary (one character per line): the blank
    /// at 0, the dictionary, then a space when `space` (PaddleOCR's `use_space_char`).
    public static func paddleClasses(dictionary: String, space: Bool) -> [String] {
        // Lines as Python's text mode reads them (\n, \r\n or \r ends one; "\r\n" is one Character).
        var lines = dictionary.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map(String.init)
        if lines.last == "" { lines.removeLast() }
        return ["blank"] + lines + (space ? [" "] : [])
    }
}
