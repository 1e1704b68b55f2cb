import CCairo
import Foundation
import Vigil

/// A colour as red, green, blue in 0…1.
public struct Colour: Sendable {
    public var red: Double, green: Double, blue: Double

    public init(_ red: Double, _ green: Double, _ blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// From 0xRRGGBB.
    public init(hex: UInt32) {
        self.init(Double((hex >> 16) & 0xff) / 255, Double((hex >> 8) & 0xff) / 255, Double(hex & 0xff) / 255)
    }

    // Okabe–Ito palette: distinguishable with the common forms of colour blindness.
    public static let blue = Colour(hex: 0x0072B2)
    public static let vermillion = Colour(hex: 0xD55E00)
    public static let skyBlue = Colour(hex: 0x56B4E9)
    public static let orange = Colour(hex: 0xE69F00)
    public static let bluishGreen = Colour(hex: 0x009E73)
    public static let black = Colour(0, 0, 0)
    public static let white = Colour(1, 1, 1)
    public static let grey = Colour(0.55, 0.55, 0.55)
    public static let lightGrey = Colour(0.92, 0.92, 0.92)
}

/// A small drawing surface over Cairo's image surface, writing PNG files.
final class Canvas {
    let width: Int
    let height: Int
    private let surface: OpaquePointer
    private let context: OpaquePointer

    init(width: Int, height: Int, background: Colour = .white) {
        self.width = width
        self.height = height
        surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))
        context = cairo_create(surface)
        cairo_select_font_face(context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        fill(x: 0, y: 0, width: Double(width), height: Double(height), background)
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    func fill(x: Double, y: Double, width: Double, height: Double, _ colour: Colour, alpha: Double = 1) {
        cairo_set_source_rgba(context, colour.red, colour.green, colour.blue, alpha)
        cairo_rectangle(context, x, y, width, height)
        cairo_fill(context)
    }

    func stroke(x: Double, y: Double, width: Double, height: Double, _ colour: Colour, lineWidth: Double = 1,
                dashed: Bool = false) {
        cairo_set_source_rgb(context, colour.red, colour.green, colour.blue)
        cairo_set_line_width(context, lineWidth)
        if dashed {
            var pattern: [Double] = [lineWidth * 2.5, lineWidth * 1.5]
            cairo_set_dash(context, &pattern, 2, 0)
        }
        cairo_rectangle(context, x, y, width, height)
        cairo_stroke(context)
        cairo_set_dash(context, nil, 0, 0)
    }

    /// The advance width of `string` at `size`, for laying out labels.
    func textWidth(_ string: String, size: Double, bold: Bool = false) -> Double {
        cairo_select_font_face(context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, string, &extents)
        return extents.x_advance
    }

    func line(from a: (Double, Double), to b: (Double, Double), _ colour: Colour, width: Double = 1, dashed: Bool = false) {
        cairo_set_source_rgb(context, colour.red, colour.green, colour.blue)
        cairo_set_line_width(context, width)
        if dashed {
            var pattern: [Double] = [4, 3]
            cairo_set_dash(context, &pattern, 2, 0)
        }
        cairo_move_to(context, a.0, a.1)
        cairo_line_to(context, b.0, b.1)
        cairo_stroke(context)
        cairo_set_dash(context, nil, 0, 0)
    }

    /// A filled triangle (for corner badges).
    func triangle(_ a: (Double, Double), _ b: (Double, Double), _ c: (Double, Double), _ colour: Colour) {
        cairo_set_source_rgb(context, colour.red, colour.green, colour.blue)
        cairo_move_to(context, a.0, a.1)
        cairo_line_to(context, b.0, b.1)
        cairo_line_to(context, c.0, c.1)
        cairo_close_path(context)
        cairo_fill(context)
    }

    enum Alignment { case left, centre, right }

    /// Draws one line of text with its baseline at `y`.
    func text(_ string: String, x: Double, y: Double, size: Double, _ colour: Colour = .black,
              bold: Bool = false, align: Alignment = .left) {
        cairo_select_font_face(context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, string, &extents)
        let left = switch align {
        case .left: x
        case .centre: x - extents.x_advance / 2
        case .right: x - extents.x_advance
        }
        cairo_set_source_rgb(context, colour.red, colour.green, colour.blue)
        cairo_move_to(context, left, y)
        cairo_show_text(context, string)
    }

    /// Draws text rotated a quarter turn counter-clockwise, centred on (x, y) (axis labels).
    func verticalText(_ string: String, x: Double, y: Double, size: Double, _ colour: Colour = .black) {
        cairo_save(context)
        cairo_translate(context, x, y)
        cairo_rotate(context, -Double.pi / 2)
        text(string, x: 0, y: 0, size: size, colour, align: .centre)
        cairo_restore(context)
    }

    /// Paints an image scaled to `width` x `height` (nearest neighbour when enlarging, so pixels
    /// stay crisp; area averaging when shrinking).
    func draw(_ image: Vigil.Image, x: Int, y: Int, width: Int, height: Int) throws {
        let stride = Int(cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32, Int32(width)))
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: stride * height)
        defer { buffer.deallocate() }
        try image.bgra(width: width, height: height, stride: stride, into: buffer)
        let tile = cairo_image_surface_create_for_data(buffer, CAIRO_FORMAT_ARGB32, Int32(width), Int32(height), Int32(stride))
        defer { cairo_surface_destroy(tile) }
        cairo_set_source_surface(context, tile, Double(x), Double(y))
        cairo_paint(context)
    }

    /// The size of a `width` x `height` image scaled to fit a `side` x `side` box.
    static func fit(_ width: Int, _ height: Int, in side: Int) -> (Int, Int) {
        let scale = Double(side) / Double(max(width, height))
        return (max(1, Int(Double(width) * scale)), max(1, Int(Double(height) * scale)))
    }

    /// Writes the canvas as a PNG (through Vigil's fast encoder rather than Cairo's libpng one;
    /// every canvas starts opaque, so the alpha channel is left out).
    func writePNG(to url: URL) throws {
        cairo_surface_flush(surface)
        try PNG.write(bgra: cairo_image_surface_get_data(surface), width: width, height: height,
                      stride: Int(cairo_image_surface_get_stride(surface)), to: url)
    }
}

extension Canvas {
    /// The key every chart of the two models uses, at height `y`: baseline blue with squares,
    /// candidate vermillion, dashed, with triangles (Okabe–Ito colours; shapes and dashes keep
    /// them apart in grey print too).
    func modelKey(y: Double) {
        line(from: (10, y), to: (34, y), .blue, width: 2)
        fill(x: 19, y: y - 3, width: 6, height: 6, .blue)
        text("baseline", x: 40, y: y + 4, size: 11)
        line(from: (110, y), to: (134, y), .vermillion, width: 2, dashed: true)
        triangle((122, y - 4), (118, y + 3), (126, y + 3), .vermillion)
        text("candidate", x: 140, y: y + 4, size: 11)
    }

    /// One model's series in the key's style; a nil point breaks the line rather than bridging
    /// a value that is not there.
    func modelSeries(_ points: [(Double, Double)?], _ role: ModelRole) {
        let (colour, dashed) = role == .baseline ? (Colour.blue, false) : (Colour.vermillion, true)
        for (a, b) in zip(points, points.dropFirst()) {
            if let a, let b { line(from: a, to: b, colour, width: 1.8, dashed: dashed) }
        }
        for point in points.compactMap({ $0 }) {
            if dashed {
                triangle((point.0, point.1 - 4), (point.0 - 4, point.1 + 3), (point.0 + 4, point.1 + 3), colour)
            } else {
                fill(x: point.0 - 3, y: point.1 - 3, width: 6, height: 6, colour)
            }
        }
    }
}
