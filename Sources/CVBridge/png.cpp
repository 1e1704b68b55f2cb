// A fast PNG writer for report pictures.
//
// Why not libpng (through cv::imwrite or Cairo): a report writes one full-size PNG per gallery
// tile, and on 0.5-megapixel photographs libpng with zlib at its fastest level took 45-60 ms per
// image, most of a report's time. This writer takes a few milliseconds: every row uses the Up
// filter (the difference to the row above; vectorisable, and exact zeros where a picture repeats
// vertically, as charts and padding do), and the deflate stream has only literals and runs of
// one repeated byte (distance 1, as zlib's Z_RLE strategy), each block with its own Huffman
// codes built from the block's counts. Files are 5-15% larger than zlib level 1 on photographs
// and any PNG decoder reads them (tests decode them with libpng through OpenCV).
#include "guarded.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <queue>
#include <vector>

using namespace cvbridge;

namespace {

// MARK: Checksums

/// CRC-32 (ISO-HDLC, as PNG chunks use) eight bytes at a time ("slicing by 8").
struct CRC32 {
    std::array<std::array<uint32_t, 256>, 8> table{};
    CRC32() {
        for (uint32_t n = 0; n < 256; ++n) {
            uint32_t c = n;
            for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[0][n] = c;
        }
        for (uint32_t n = 0; n < 256; ++n) {
            for (int k = 1; k < 8; ++k) table[k][n] = table[0][table[k - 1][n] & 0xff] ^ (table[k - 1][n] >> 8);
        }
    }
    uint32_t update(uint32_t crc, const uint8_t *data, size_t size) const {
        crc = ~crc;
        while (size >= 8) {
            uint32_t low, high;
            std::memcpy(&low, data, 4);
            std::memcpy(&high, data + 4, 4);
            low ^= crc;  // little-endian machines (x86-64, arm64)
            crc = table[7][low & 0xff] ^ table[6][(low >> 8) & 0xff] ^ table[5][(low >> 16) & 0xff] ^ table[4][low >> 24] ^
                  table[3][high & 0xff] ^ table[2][(high >> 8) & 0xff] ^ table[1][(high >> 16) & 0xff] ^ table[0][high >> 24];
            data += 8;
            size -= 8;
        }
        for (size_t i = 0; i < size; ++i) crc = table[0][(crc ^ data[i]) & 0xff] ^ (crc >> 8);
        return ~crc;
    }
};

const CRC32 &crc32() {
    static const CRC32 instance;
    return instance;
}

uint32_t adler32(uint32_t adler, const uint8_t *data, size_t size) {
    uint32_t a = adler & 0xffff, b = adler >> 16;
    while (size > 0) {
        // 5552 bytes is the most that cannot overflow 32 bits before the modulo.
        const size_t chunk = std::min<size_t>(size, 5552);
        for (size_t i = 0; i < chunk; ++i) {
            a += data[i];
            b += a;
        }
        a %= 65521;
        b %= 65521;
        data += chunk;
        size -= chunk;
    }
    return (b << 16) | a;
}

// MARK: Huffman codes

/// Code lengths (at most `limit` bits) for symbols with the given counts: a Huffman code, with
/// lengths over the limit folded back as zlib and miniz do (keeping the code complete).
std::vector<uint8_t> code_lengths(const std::vector<uint32_t> &counts, int limit) {
    const int n = int(counts.size());
    std::vector<uint8_t> lengths(n, 0);
    std::vector<int> used;
    for (int s = 0; s < n; ++s) {
        if (counts[s] > 0) used.push_back(s);
    }
    if (used.empty()) return lengths;
    if (used.size() == 1) {
        // One symbol still needs a one-bit code; a second, unused one keeps the code complete.
        lengths[used[0]] = 1;
        lengths[used[0] == 0 ? 1 : 0] = 1;
        return lengths;
    }
    // Huffman tree over (count, node); leaves are 0..n-1, inner nodes follow.
    std::vector<int> parent(2 * n, -1);
    using Entry = std::pair<uint64_t, int>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
    for (int s : used) queue.push({counts[s], s});
    int next = n;
    while (queue.size() > 1) {
        const Entry a = queue.top();
        queue.pop();
        const Entry b = queue.top();
        queue.pop();
        parent[a.second] = next;
        parent[b.second] = next;
        queue.push({a.first + b.first, next});
        ++next;
    }
    std::vector<int> depth(2 * n, 0);
    for (int node = next - 2; node >= 0; --node) {
        if (parent[node] >= 0) depth[node] = depth[parent[node]] + 1;
    }
    // Number of codes per length, with over-long codes folded to the limit and the Kraft sum
    // repaired by lengthening the deepest shorter codes.
    std::vector<int> perLength(std::max(limit, 64) + 1, 0);
    for (int s : used) ++perLength[std::min(depth[s], 64)];
    for (int l = limit + 1; l < int(perLength.size()); ++l) {
        perLength[limit] += perLength[l];
        perLength[l] = 0;
    }
    uint64_t kraft = 0;
    for (int l = 1; l <= limit; ++l) kraft += uint64_t(perLength[l]) << (limit - l);
    while (kraft > (uint64_t(1) << limit)) {
        --perLength[limit];
        for (int l = limit - 1; l > 0; --l) {
            if (perLength[l] > 0) {
                --perLength[l];
                perLength[l + 1] += 2;
                break;
            }
        }
        --kraft;
    }
    // The most frequent symbols get the shortest codes.
    std::sort(used.begin(), used.end(), [&](int a, int b) {
        return counts[a] != counts[b] ? counts[a] > counts[b] : a < b;
    });
    size_t index = 0;
    for (int l = 1; l <= limit; ++l) {
        for (int k = 0; k < perLength[l]; ++k) lengths[used[index++]] = uint8_t(l);
    }
    return lengths;
}

/// Canonical codes for `lengths`, bit-reversed because deflate sends Huffman codes from their
/// most significant bit into a stream filled from the least significant bit.
std::vector<uint16_t> canonical_codes(const std::vector<uint8_t> &lengths) {
    std::array<int, 16> perLength{};
    for (uint8_t l : lengths) {
        if (l) ++perLength[l];
    }
    std::array<int, 16> nextCode{};
    int code = 0;
    for (int l = 1; l < 16; ++l) {
        code = (code + perLength[l - 1]) << 1;
        nextCode[l] = code;
    }
    std::vector<uint16_t> codes(lengths.size(), 0);
    for (size_t s = 0; s < lengths.size(); ++s) {
        const int l = lengths[s];
        if (l == 0) continue;
        int value = nextCode[l]++, reversed = 0;
        for (int b = 0; b < l; ++b) reversed |= ((value >> b) & 1) << (l - 1 - b);
        codes[s] = uint16_t(reversed);
    }
    return codes;
}

// MARK: Deflate

/// Bits into a byte buffer, least significant first. The caller reserves room: `reserve(n)`
/// before writing at most n more bytes' worth of bits.
struct BitWriter {
    std::vector<uint8_t> &out;
    size_t size;
    uint64_t bits = 0;
    int count = 0;

    explicit BitWriter(std::vector<uint8_t> &out) : out(out), size(out.size()) {}

    void reserve(size_t bytes) {
        if (out.size() < size + bytes + 8) out.resize(size + bytes + 8);
    }
    void put(uint32_t value, int length) {
        bits |= uint64_t(value) << count;
        count += length;
        if (count >= 32) {
            const uint32_t word = uint32_t(bits);
            std::memcpy(out.data() + size, &word, 4);  // little-endian machines
            size += 4;
            bits >>= 32;
            count -= 32;
        }
    }
    /// `put(pattern[t], length[t])` for every token, the hot loop: state in registers, an
    /// unconditional 8-byte store per token, whole bytes advanced.
    void putAll(const std::vector<uint16_t> &tokens, const uint32_t *pattern, const uint8_t *length) {
        uint8_t *p = out.data() + size;
        uint64_t b = bits;
        int c = count;
        // Whole bytes first, so that fewer than 8 bits are pending.
        while (c >= 8) {
            *p++ = uint8_t(b);
            b >>= 8;
            c -= 8;
        }
        for (const uint16_t t : tokens) {
            b |= uint64_t(pattern[t]) << c;
            c += length[t];
            std::memcpy(p, &b, 8);  // little-endian machines; room reserved
            const int bytes = c >> 3;
            p += bytes;
            b >>= bytes * 8;
            c &= 7;
        }
        size = size_t(p - out.data());
        bits = b;
        count = c;
    }

    void finish() {
        while (count > 0) {
            out[size++] = uint8_t(bits);
            bits >>= 8;
            count -= 8;
        }
        bits = 0;
        count = 0;
        out.resize(size);
    }
};

// Length codes 257..285: base lengths and extra bits (RFC 1951, 3.2.5).
constexpr std::array<int, 29> lengthBase = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                            31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::array<int, 29> lengthExtra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                             2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};

/// The length code (0-28, for symbols 257-285) of each match length 3-258.
const std::array<uint8_t, 259> &length_codes() {
    static const std::array<uint8_t, 259> table = [] {
        std::array<uint8_t, 259> codes{};
        for (int length = 3; length <= 258; ++length) {
            int code = 28;
            while (lengthBase[code] > length) --code;
            codes[length] = uint8_t(code);
        }
        return codes;
    }();
    return table;
}

int length_code(int length) { return length_codes()[length]; }

/// Tokens of one block: a literal byte (< 256) or a run of `length` copies of the previous byte,
/// stored as 256 + length. `counts` gets each literal/length symbol's count.
void tokenise(const uint8_t *data, size_t size, std::vector<uint16_t> &tokens, std::vector<uint32_t> &counts) {
    tokens.resize(size);
    // Every byte counted as a literal first (four interleaved tables, so repeated bytes do not
    // wait on each other); bytes that runs cover are taken off again below.
    std::array<std::array<uint32_t, 256>, 4> partial{};
    size_t k = 0;
    for (; k + 4 <= size; k += 4) {
        ++partial[0][data[k]];
        ++partial[1][data[k + 1]];
        ++partial[2][data[k + 2]];
        ++partial[3][data[k + 3]];
    }
    for (; k < size; ++k) ++partial[0][data[k]];
    counts.assign(286, 0);
    for (int b = 0; b < 256; ++b) counts[b] = partial[0][b] + partial[1][b] + partial[2][b] + partial[3][b];
    uint16_t *out = tokens.data();
    size_t i = 0;
    while (i < size) {
        const uint8_t byte = data[i];
        *out++ = byte;
        // A run needs the next three bytes equal to this one: checked in one word where it fits.
        if (i + 4 <= size) {
            uint32_t word;
            std::memcpy(&word, data + i, 4);
            if (((word ^ (uint32_t(byte) * 0x01010101u)) >> 8) != 0) {
                ++i;
                continue;
            }
        } else {
            ++i;
            continue;
        }
        size_t run = 3;
        const size_t limit = std::min<size_t>(258, size - i - 1);
        while (run < limit && data[i + 1 + run] == byte) ++run;
        *out++ = uint16_t(256 + run);
        counts[byte] -= uint32_t(run);
        ++counts[257 + length_code(int(run))];
        i += 1 + run;
    }
    tokens.resize(size_t(out - tokens.data()));
}

/// One dynamic-Huffman deflate block of `tokens`.
void write_block(BitWriter &w, const std::vector<uint16_t> &tokens, std::vector<uint32_t> &literalCounts, bool last) {
    literalCounts[256] = 1;  // end of block
    const std::vector<uint8_t> literalLengths = code_lengths(literalCounts, 15);
    // Distance 1 is the only one used; two one-bit codes keep the code complete.
    const std::vector<uint8_t> distanceLengths = {1, 1};
    int literalCodes = 286;
    while (literalCodes > 257 && literalLengths[literalCodes - 1] == 0) --literalCodes;

    // The code lengths, themselves Huffman-coded (plain lengths 0-15, no repeat codes).
    std::vector<uint8_t> all(literalLengths.begin(), literalLengths.begin() + literalCodes);
    all.insert(all.end(), distanceLengths.begin(), distanceLengths.end());
    std::vector<uint32_t> lengthCounts(19, 0);
    for (uint8_t l : all) ++lengthCounts[l];
    const std::vector<uint8_t> lengthLengths = code_lengths(lengthCounts, 7);
    const std::vector<uint16_t> lengthCodes = canonical_codes(lengthLengths);
    static constexpr std::array<int, 19> order = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    int lengthCodeCount = 19;
    while (lengthCodeCount > 4 && lengthLengths[order[lengthCodeCount - 1]] == 0) --lengthCodeCount;

    w.reserve(2048);
    w.put(last ? 1 : 0, 1);
    w.put(2, 2);  // dynamic Huffman codes
    w.put(uint32_t(literalCodes - 257), 5);
    w.put(uint32_t(distanceLengths.size() - 1), 5);
    w.put(uint32_t(lengthCodeCount - 4), 4);
    for (int i = 0; i < lengthCodeCount; ++i) w.put(lengthLengths[order[i]], 3);
    for (uint8_t l : all) w.put(lengthCodes[l], lengthLengths[l]);

    // Each token's whole bit pattern (code, extra bits, distance code) and length, by token.
    const std::vector<uint16_t> literalCodesTable = canonical_codes(literalLengths);
    const std::vector<uint16_t> distanceCodes = canonical_codes(distanceLengths);
    std::array<uint32_t, 256 + 259> pattern{};
    std::array<uint8_t, 256 + 259> patternLength{};
    for (int t = 0; t < 256; ++t) {
        pattern[t] = literalCodesTable[t];
        patternLength[t] = literalLengths[t];
    }
    for (int length = 3; length <= 258; ++length) {
        const int code = length_code(length), symbol = 257 + code;
        if (literalLengths[symbol] == 0) continue;
        uint32_t bits = literalCodesTable[symbol];
        int count = literalLengths[symbol];
        bits |= uint32_t(length - lengthBase[code]) << count;
        count += lengthExtra[code];
        bits |= uint32_t(distanceCodes[0]) << count;
        count += distanceLengths[0];
        pattern[256 + length] = bits;
        patternLength[256 + length] = uint8_t(count);
    }
    w.reserve(tokens.size() * 3 + 1024);  // at most 21 bits per token
    w.putAll(tokens, pattern.data(), patternLength.data());
    w.put(literalCodesTable[256], literalLengths[256]);
}

// MARK: PNG

void chunk(std::vector<uint8_t> &out, const char *type, const uint8_t *data, size_t size) {
    const auto be32 = [&](uint32_t v) {
        for (int i = 3; i >= 0; --i) out.push_back(uint8_t(v >> (8 * i)));
    };
    be32(uint32_t(size));
    const size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data, data + size);
    be32(crc32().update(0, out.data() + start, out.size() - start));
}

/// PNG's Up filter: each byte minus the one above it (the arrays do not overlap, so it vectorises).
void up_filter(uint8_t *__restrict out, const uint8_t *__restrict row, const uint8_t *__restrict above, size_t size) {
    for (size_t i = 0; i < size; ++i) out[i] = uint8_t(row[i] - above[i]);
}

/// Encodes rows of `width * channels` bytes (grey, or RGB in that order) as a PNG.
std::vector<uint8_t> encode_png(int width, int height, int channels, const uint8_t *const *rows) {
    const size_t rowBytes = size_t(width) * channels;
    // Filtered scanlines: a filter byte (2, Up; 0, None, for the first row) and the row.
    std::vector<uint8_t> filtered((rowBytes + 1) * height);
    for (int y = 0; y < height; ++y) {
        uint8_t *line = filtered.data() + y * (rowBytes + 1);
        const uint8_t *row = rows[y];
        if (y == 0) {
            line[0] = 0;
            std::memcpy(line + 1, row, rowBytes);
        } else {
            line[0] = 2;
            up_filter(line + 1, row, rows[y - 1], rowBytes);
        }
    }
    std::vector<uint8_t> stream = {0x78, 0x01};  // zlib header: deflate, 32K window
    BitWriter w{stream};
    std::vector<uint16_t> tokens;
    std::vector<uint32_t> counts;
    // Blocks of 128 KiB, each with codes fitted to its own bytes.
    const size_t block = size_t(1) << 17;
    for (size_t start = 0; start < filtered.size(); start += block) {
        const size_t size = std::min(block, filtered.size() - start);
        tokenise(filtered.data() + start, size, tokens, counts);
        write_block(w, tokens, counts, start + size == filtered.size());
    }
    w.finish();
    const uint32_t adler = adler32(1, filtered.data(), filtered.size());
    for (int i = 3; i >= 0; --i) stream.push_back(uint8_t(adler >> (8 * i)));


    std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t header[13];
    const auto put32 = [](uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * (3 - i)));
    };
    put32(header, uint32_t(width));
    put32(header + 4, uint32_t(height));
    header[8] = 8;                          // bits per channel
    header[9] = channels == 1 ? 0 : 2;      // grey or RGB
    header[10] = header[11] = header[12] = 0;  // deflate, adaptive filtering, no interlace
    chunk(png, "IHDR", header, sizeof header);
    // IDAT chunks of at most 1 MiB.
    for (size_t start = 0; start < stream.size(); start += size_t(1) << 20) {
        chunk(png, "IDAT", stream.data() + start, std::min(size_t(1) << 20, stream.size() - start));
    }
    chunk(png, "IEND", nullptr, 0);
    return png;
}

void write_file(const char *path, const std::vector<uint8_t> &bytes) {
    std::unique_ptr<FILE, int (*)(FILE *)> file(std::fopen(path, "wb"), &std::fclose);
    if (!file) throw BridgeError(std::string("cannot open ") + path + " for writing: " + std::strerror(errno));
    if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size()) {
        throw BridgeError(std::string("cannot write ") + path + ": " + std::strerror(errno));
    }
    FILE *raw = file.release();
    if (std::fclose(raw) != 0) throw BridgeError(std::string("cannot write ") + path + ": " + std::strerror(errno));
}

}  // namespace

extern "C" {

int cvb_image_write_png(const cvb_image *image, const char *path, cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        const cv::Mat &mat = require(image);
        cv::Mat rgb;
        if (mat.channels() == 3) {
            cv::cvtColor(mat, rgb, cv::COLOR_BGR2RGB);
        } else {
            rgb = mat;
        }
        std::vector<const uint8_t *> rows(rgb.rows);
        for (int y = 0; y < rgb.rows; ++y) rows[y] = rgb.ptr<uint8_t>(y);
        write_file(path, encode_png(rgb.cols, rgb.rows, rgb.channels(), rows.data()));
        return 0;
    });
}

int cvb_write_png_bgra(const uint8_t *pixels, int width, int height, size_t stride, const char *path,
                       cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        if (pixels == nullptr || width <= 0 || height <= 0) throw BridgeError("no pixels");
        const cv::Mat bgra(height, width, CV_8UC4, const_cast<uint8_t *>(pixels), stride);
        cv::Mat rgb;
        cv::cvtColor(bgra, rgb, cv::COLOR_BGRA2RGB);
        std::vector<const uint8_t *> rows(height);
        for (int y = 0; y < height; ++y) rows[y] = rgb.ptr<uint8_t>(y);
        write_file(path, encode_png(width, height, 3, rows.data()));
        return 0;
    });
}

}  // extern "C"
