import Testing
@testable import Vigil

@Suite("Greedy CTC decoding")
struct CTCDecodingTests {
    /// One-hot-ish scores for a path of class indices (the chosen class 0.9, the rest share 0.1).
    static func scores(_ path: [Int], classes: Int, top: Float = 0.9) -> [Float] {
        path.flatMap { chosen in (0..<classes).map { $0 == chosen ? top : (1 - top) / Float(classes - 1) } }
    }

    static func read(_ decoder: CTCGreedyDecoder, _ scores: [Float], steps: Int) throws -> (text: String, confidence: Double) {
        try scores.withUnsafeBufferPointer { try decoder.decode($0, steps: steps) }
    }

    @Test func repeatsMergeAndBlanksSeparate() throws {
        let decoder = try CTCGreedyDecoder(classes: ["blank", "a", "b", " "], blank: 0)
        let cases: [([Int], String)] = [
            ([1, 1, 0, 1], "aa"),          // a blank between repeats keeps both
            ([1, 1, 1], "a"),              // a run is one character
            ([0, 0, 0], ""),               // only blanks
            ([0, 1, 2, 2, 0, 0, 3, 1], "ab a"),
            ([2, 0, 2, 0, 2], "bbb"),
        ]
        for (path, text) in cases {
            let read = try Self.read(decoder, Self.scores(path, classes: 4), steps: path.count)
            #expect(read.text == text, "\(path)")
        }
        // PaddleOCR's confidence: the mean top score of the emitting steps; 0 when nothing was read.
        let mixed = Self.scores([1], classes: 4, top: 0.5) + Self.scores([0], classes: 4) + Self.scores([2], classes: 4, top: 0.8)
        #expect(abs(try Self.read(decoder, mixed, steps: 3).confidence - 0.65) < 1e-7)
        #expect(try Self.read(decoder, Self.scores([0, 0], classes: 4), steps: 2).confidence == 0)
    }

    @Test func blankAnywhereAndTiesToTheLowerIndex() throws {
        let decoder = try CTCGreedyDecoder(classes: ["x", "y", "-"], blank: 2)
        #expect(try Self.read(decoder, [0.5, 0.5, 0, 0, 0, 1, 0, 1, 0], steps: 3).text == "xy")
        #expect(throws: InputError.self) { try CTCGreedyDecoder(classes: ["x"], blank: 1) }
        #expect(throws: InputError.self) { try Self.read(decoder, [0.5, 0.5], steps: 1) }
    }

    @Test func paddleDictionaryLayout() {
        let classes = CTCGreedyDecoder.paddleClasses(dictionary: "a\r\nb\nc\n", space: true)
        #expect(classes == ["blank", "a", "b", "c", " "])
    }
}
