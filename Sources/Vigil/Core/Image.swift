import CVBridge
import Foundation

/// An 8-bit image with 1 (grey) or 3 (BGR) channels, held by the OpenCV bridge.
///
/// Images are decoded when needed and released as soon as nothing refers to them, so a run
/// never holds more than a batch of decoded images per worker.
public final class Image {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { cvb_image_free(pointer) }

    /// Why an image file's bytes cannot be what Vigil reads (a JPEG or PNG cut short or damaged
    /// in its structure, an alpha channel, a size beyond OpenCV's limit), without decoding it;
    /// nil when the structure is sound. Other formats are not looked at.
    public static func structuralProblem(_ bytes: UnsafeRawBufferPointer) -> String? {
        var error = cvb_error()
        let status = cvb_image_check_bytes(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &error)
        return status == 0 ? nil : Bridge.message(error)
    }

    /// Decodes an image file (PNG, JPEG, BMP, …). 16-bit and 4-channel images are rejected.
    public convenience init(contentsOf url: URL) throws {
        let pointer = try Bridge.call(DisplayPath.of(url)) { error in
            cvb_image_read(url.path, error)
        }
        self.init(taking: pointer)
    }

    /// An image from raw pixels: rows of `width * channels` bytes, tightly packed.
    public convenience init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        guard pixels.count == width * height * channels else {
            throw InputError("pixel buffer holds \(pixels.count) bytes, expected \(width * height * channels)")
        }
        let pointer = try pixels.withUnsafeBufferPointer { buffer in
            try Bridge.call("image") { error in
                cvb_image_create(Int32(width), Int32(height), Int32(channels), buffer.baseAddress,
                                 width * channels, error)
            }
        }
        self.init(taking: pointer)
    }

    public var width: Int { Int(cvb_image_width(pointer)) }
    public var height: Int { Int(cvb_image_height(pointer)) }
    public var channels: Int { Int(cvb_image_channels(pointer)) }

    /// The pixel bytes, rows of `width * channels` bytes, BGR order for colour images.
    public func pixels() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: width * height * channels)
        let count = bytes.count
        _ = bytes.withUnsafeMutableBufferPointer { buffer in
            cvb_image_copy_pixels(pointer, buffer.baseAddress, count, nil)
        }
        return bytes
    }

    /// Encodes to a file; the extension picks the format (PNG is lossless).
    public func write(to url: URL) throws {
        try Bridge.check(DisplayPath.of(url)) { error in cvb_image_write(pointer, url.path, error) }
    }

    /// Writes a PNG several times faster than `write(to:)` (libpng), in files a little larger:
    /// for pictures made in bulk, such as a report's galleries.
    public func writePNG(to url: URL) throws {
        try Bridge.check(DisplayPath.of(url)) { error in cvb_image_write_png(pointer, url.path, error) }
    }

    /// A copy scaled to `width` x `height`: nearest neighbour when enlarging (pixels stay
    /// visible), area averaging when shrinking (noise and texture look as they are).
    public func resized(width: Int, height: Int) throws -> Image {
        Image(taking: try Bridge.call("image") { error in
            cvb_image_resized(pointer, Int32(width), Int32(height), error)
        })
    }

    /// Premultiplied BGRA pixels (Cairo's ARGB32 layout on little-endian machines), scaled to
    /// the given size with nearest-neighbour sampling.
    public func bgra(width: Int, height: Int, stride: Int, into buffer: UnsafeMutablePointer<UInt8>) throws {
        try Bridge.check("image") { error in
            cvb_image_to_bgra(pointer, Int32(width), Int32(height), buffer, stride, error)
        }
    }
}

/// Helpers for calling the C bridge, which reports failures as a message instead of throwing.
enum Bridge {
    /// Calls a bridge function returning a pointer; NULL becomes an `InputError` prefixed with
    /// `subject` (usually a file path).
    static func call(_ subject: @autoclosure () -> String, _ body: (UnsafeMutablePointer<cvb_error>) -> OpaquePointer?) throws -> OpaquePointer {
        var error = cvb_error()
        if let pointer = body(&error) { return pointer }
        throw InputError("\(subject()): \(message(error))")
    }

    /// Calls a bridge function returning 0 on success.
    static func check(_ subject: @autoclosure () -> String, _ body: (UnsafeMutablePointer<cvb_error>) -> Int32) throws {
        var error = cvb_error()
        if body(&error) != 0 {
            throw InputError("\(subject()): \(message(error))")
        }
    }

    static func message(_ error: cvb_error) -> String {
        let text = withUnsafeBytes(of: error.message) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        // OpenCV indents nested messages with "> " markers; on one line they are only noise.
        return text.replacing(/(^|\s)(>\s)+/, with: " ").trimmingCharacters(in: .whitespaces)
    }
}

/// OpenCV facts Vigil records with every run.
/// Vigil's PNG encoder for pictures made in bulk (see `Image.writePNG(to:)`).
public enum PNG {
    /// Writes opaque BGRA pixels (a Cairo ARGB32 surface on a little-endian machine), rows
    /// `stride` bytes apart, as an RGB PNG.
    public static func write(bgra pixels: UnsafePointer<UInt8>, width: Int, height: Int, stride: Int, to url: URL) throws {
        try Bridge.check(DisplayPath.of(url)) { error in
            cvb_write_png_bgra(pixels, Int32(width), Int32(height), stride, url.path, error)
        }
    }
}

public enum OpenCV {
    public static var version: String { String(cString: cvb_opencv_version()) }

    /// OpenCV's own thread pool size. Vigil parallelises across images instead (one network
    /// per worker), so runs set this to 1 to avoid oversubscribing the cores.
    public static var threads: Int {
        get { Int(cvb_get_num_threads()) }
        set { cvb_set_num_threads(Int32(newValue)) }
    }

    /// Scenarios and models allocate and free buffers of a whole image (tens of MB at camera
    /// sizes) for every sample. glibc hands such blocks back to the system when they are freed,
    /// and the next sample faults every page in again: a third of `frost`'s time at 1080p, a
    /// quarter of `pixelate`'s. This keeps freed memory in the process for reuse (glibc only;
    /// process-wide, so the command-line tool calls it, a library leaves it to its host).
    public static func keepFreedMemoryForReuse() { cvb_keep_freed_memory() }
}

// No method changes an image's pixels once it is made (every transform returns a new one), so
// an image can be read from several threads: the run's workers and a report's kept images.
extension Image: @unchecked Sendable {}
