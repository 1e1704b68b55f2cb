// Checks of an image file's structure before OpenCV decodes it.
//
// Why: OpenCV's decoders accept a JPEG cut short (libjpeg warns "Premature end of JPEG file"
// on stderr, naming no file, and fills the rest grey) and let libpng print "libpng error: Read
// Error" before failing; an image that declares billions of pixels fails an assertion whose text
// names OpenCV's source. Walking the markers (JPEG) or chunks (PNG) costs a pass over bytes already
// in memory and turns each of these into one reason the caller prefixes with the file's path.
#include "image_check.hpp"

#include <cstring>
#include <string>

namespace cvbridge {
namespace {

uint32_t be32(const uint8_t *p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint32_t be16(const uint8_t *p) { return uint32_t(p[0]) << 8 | p[1]; }

/// OpenCV's default CV_IO_MAX_IMAGE_PIXELS.
constexpr uint64_t maxPixels = uint64_t(1) << 30;

void check_size(uint64_t width, uint64_t height, const char *format) {
    if (width == 0 || height == 0) throw BridgeError(std::string("the ") + format + " declares a size of zero pixels");
    if (width * height > maxPixels) {
        throw BridgeError(std::string("the ") + format + " declares " + std::to_string(width) + "×" + std::to_string(height) +
                          " pixels, more than the 2^30 (about 1.07 billion) OpenCV decodes");
    }
}

void check_png(const uint8_t *b, size_t size) {
    const auto truncated = [] { return BridgeError("the PNG file is truncated (it ends before its IEND chunk)"); };
    size_t at = 8;
    bool first = true;
    int colour = 0;
    for (;;) {
        if (at + 12 > size) throw truncated();
        const uint32_t length = be32(b + at);
        if (length > 0x7fffffffu) throw BridgeError("the PNG file is damaged (a chunk's length is out of range)");
        const char *type = reinterpret_cast<const char *>(b + at + 4);
        if (at + 12 + size_t(length) > size) throw truncated();
        if (first) {
            if (std::memcmp(type, "IHDR", 4) != 0 || length < 13) throw BridgeError("the PNG file is damaged (it does not start with IHDR)");
            check_size(be32(b + at + 8), be32(b + at + 12), "PNG");
            colour = b[at + 17];
            if (colour == 4) throw BridgeError("the PNG is grey with an alpha channel; Vigil reads 8-bit grey or colour (drop the alpha channel)");
            if (colour == 6) throw BridgeError("the PNG is colour with an alpha channel; Vigil reads 8-bit grey or colour (drop the alpha channel)");
            first = false;
        } else if (std::memcmp(type, "tRNS", 4) == 0) {
            // OpenCV turns a transparent palette entry or colour into an alpha channel.
            throw BridgeError("the PNG has transparency (a tRNS chunk, read as an alpha channel); Vigil reads 8-bit grey or colour (drop the transparency)");
        } else if (std::memcmp(type, "IEND", 4) == 0) {
            return;
        }
        at += 12 + size_t(length);
    }
}

bool is_frame_header(uint8_t marker) {
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

void check_jpeg(const uint8_t *b, size_t size) {
    const auto truncated = [] { return BridgeError("the JPEG file is truncated (it ends before its end-of-image marker)"); };
    size_t at = 2;  // after SOI
    bool frame = false;
    for (;;) {
        if (at >= size) throw truncated();
        if (b[at] != 0xFF) {
            throw BridgeError("the JPEG file is damaged (no marker where one belongs, at byte " + std::to_string(at) + ")");
        }
        while (at < size && b[at] == 0xFF) ++at;  // fill bytes
        if (at >= size) throw truncated();
        const uint8_t marker = b[at++];
        if (marker == 0xD9) {  // EOI
            if (!frame) throw BridgeError("the JPEG file is damaged (it has no frame header)");
            return;
        }
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // markers without a segment
        if (at + 2 > size) throw truncated();
        const size_t length = be16(b + at);
        if (length < 2) throw BridgeError("the JPEG file is damaged (a segment's length is out of range)");
        if (at + length > size) throw truncated();
        if (is_frame_header(marker)) {
            if (length < 7) throw BridgeError("the JPEG file is damaged (its frame header is too short)");
            check_size(be16(b + at + 5), be16(b + at + 3), "JPEG");
            frame = true;
        }
        at += length;
        if (marker == 0xDA) {
            // Entropy-coded data runs to the next marker: 0xFF followed by neither a stuffed zero,
            // a restart marker nor another 0xFF (fill).
            for (;;) {
                const void *found = at < size ? std::memchr(b + at, 0xFF, size - at) : nullptr;
                if (found == nullptr) throw truncated();
                at = size_t(static_cast<const uint8_t *>(found) - b);
                if (at + 1 >= size) throw truncated();
                const uint8_t next = b[at + 1];
                if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
                    at += 2;
                    continue;
                }
                if (next == 0xFF) {
                    ++at;
                    continue;
                }
                break;
            }
        }
    }
}

}  // namespace

void check_image_bytes(const uint8_t *bytes, size_t size) {
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (size >= 8 && std::memcmp(bytes, png, 8) == 0) {
        check_png(bytes, size);
    } else if (size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
        check_jpeg(bytes, size);
    }
}

}  // namespace cvbridge
