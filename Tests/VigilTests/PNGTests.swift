import Foundation
import Testing
import VigilTestSupport
@testable import Vigil

/// Vigil's own PNG encoder (report pictures) against libpng, which OpenCV decodes with: every
/// picture must come back byte for byte, whatever its content and size.
@Suite("PNG encoder")
struct PNGTests {
    /// Encodes with `writePNG`, decodes with libpng, and returns the file's size.
    @discardableResult
    func roundTrip(_ image: Image, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let folder = try temporaryFolder("vigil-png")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("\(name).png")
        try image.writePNG(to: url)
        let decoded = try Image(contentsOf: url)
        #expect(decoded.width == image.width && decoded.height == image.height && decoded.channels == image.channels,
                "\(name)", sourceLocation: sourceLocation)
        #expect(decoded.pixels() == image.pixels(), "\(name): pixels differ after decoding", sourceLocation: sourceLocation)
        return try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
    }

    @Test func everyKindOfPictureDecodesToTheSamePixels() throws {
        var random = SystemRandomNumberGenerator()
        let noise = (0..<(300 * 200 * 3)).map { _ in UInt8.random(in: 0...255, using: &random) }
        try roundTrip(Image(width: 300, height: 200, channels: 3, pixels: noise), "noise")
        // Flat areas make runs longer than deflate's 258 and cross the encoder's 128 KiB blocks.
        try roundTrip(Image(width: 1000, height: 300, channels: 3, pixels: [UInt8](repeating: 200, count: 900_000)), "flat")
        var stripes = [UInt8](repeating: 0, count: 640 * 480)
        for i in stripes.indices { stripes[i] = UInt8((i % 640) / 40 * 16) }
        try roundTrip(Image(width: 640, height: 480, channels: 1, pixels: stripes), "grey-stripes")
        try roundTrip(Image(width: 1, height: 1, channels: 3, pixels: [1, 2, 3]), "one-pixel")
        var column = [UInt8](repeating: 0, count: 700)
        for i in column.indices { column[i] = UInt8(i % 7) }
        try roundTrip(Image(width: 1, height: 700, channels: 1, pixels: column), "one-column")
        // Byte counts that follow the Fibonacci numbers give Huffman codes deeper than deflate's
        // 15 bits, so the encoder must limit them. One row (sent unfiltered), bytes shuffled so
        // that they are literals, not runs.
        var fibonacci = [1, 1]
        while fibonacci.count < 22 { fibonacci.append(fibonacci[fibonacci.count - 1] + fibonacci[fibonacci.count - 2]) }
        var bytes: [UInt8] = []
        for (value, count) in fibonacci.enumerated() { bytes += [UInt8](repeating: UInt8(value * 11), count: count) }
        var state: UInt64 = 7
        for i in stride(from: bytes.count - 1, to: 0, by: -1) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes.swapAt(i, Int((state >> 33) % UInt64(i + 1)))
        }
        try roundTrip(Image(width: bytes.count, height: 1, channels: 1, pixels: bytes), "deep-codes")
    }

    /// On a real photograph the file stays close to libpng's at its fastest setting.
    @Test func aPhotographStaysCloseToLibpngsSize() throws {
        let photo = try Image(contentsOf: Repository.url("GoldenSets/orientation/images/0/building.jpg"))
        let size = try roundTrip(photo, "photo")
        let folder = try temporaryFolder("vigil-png")
        defer { try? FileManager.default.removeItem(at: folder) }
        let reference = folder.appendingPathComponent("libpng.png")
        try photo.write(to: reference)
        let libpng = try FileManager.default.attributesOfItem(atPath: reference.path)[.size] as! Int
        #expect(Double(size) < 1.25 * Double(libpng), "\(size) bytes against libpng's \(libpng)")
        #expect(size < photo.width * photo.height * 3, "no compression at all")
    }
}
