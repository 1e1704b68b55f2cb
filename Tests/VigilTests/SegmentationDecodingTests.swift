import Foundation
import Testing
import Vigil
import VigilTestSupport

/// Segmentation outputs decoded onto the image's pixels against a numpy implementation of
/// mmsegmentation's post-processing (Scripts/reference_segmentation_decoding.py): stretch,
/// letterbox and pad inputs, maps at the input's size and at strides 2, 4 and 8, one-channel
/// probability maps.
@Suite("Segmentation output decoding")
struct SegmentationDecodingTests {
    struct Case: Decodable {
        var name: String
        var image: [Int]
        var input: [Int]
        var mode: String
        var stride: Int
        var classes: Int
        var placement: [Int]
    }

    @Test func decodedMasksEqualTheReference() throws {
        let python = Repository.url(".build-venv/bin/python")
        let folder = try temporaryFolder("segmentation-decoding")
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = python
        process.arguments = [Repository.url("Scripts/reference_segmentation_decoding.py").path, folder.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: folder.appendingPathComponent("cases.json")))
        #expect(cases.count == 6)
        for c in cases {
            let bytes = try Data(contentsOf: folder.appendingPathComponent("\(c.name).scores"))
            let scores = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            let expected = try [UInt8](Data(contentsOf: folder.appendingPathComponent("\(c.name).labels")))
            let near = try [UInt8](Data(contentsOf: folder.appendingPathComponent("\(c.name).near")))
            let input = ModelSpec.Input(width: c.input[0], height: c.input[1], color: .rgb,
                                        resize: ModelSpec.ResizeMode(rawValue: c.mode)!, mean: [0, 0, 0], std: [1, 1, 1])
            let labels = try scores.withUnsafeBufferPointer {
                try SegmentationDecoding.decode($0, classes: c.classes, mapWidth: c.input[0] / c.stride, mapHeight: c.input[1] / c.stride,
                                                input: input, imageWidth: c.image[0], imageHeight: c.image[1])
            }
            #expect(labels.count == expected.count)
            // Pixels whose two best scores are within 1e-3 may go either way in float32; none other may differ.
            let differing = labels.indices.filter { labels[$0] != expected[$0] }
            let unexplained = differing.filter { near[$0] == 0 }
            #expect(unexplained.isEmpty, "\(c.name): \(unexplained.count) of \(labels.count) pixels differ from the reference")
            #expect(near.filter { $0 != 0 }.count * 100 < near.count, "\(c.name): too many near-ties to be a meaningful case")
            #expect(Set(labels).count >= 2, "\(c.name): a case where the classes vary")
        }
    }

    @Test func aCropThatCutsTheImageIsRefused() throws {
        let input = ModelSpec.Input(width: 32, height: 32, color: .rgb, resize: .centerCrop, mean: [0, 0, 0], std: [1, 1, 1])
        let scores = [Float](repeating: 0, count: 2 * 32 * 32)
        #expect(throws: InputError.self) {
            try scores.withUnsafeBufferPointer {
                try SegmentationDecoding.decode($0, classes: 2, mapWidth: 32, mapHeight: 32, input: input, imageWidth: 64, imageHeight: 40)
            }
        }
    }
}
