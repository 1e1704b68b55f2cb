// Pillow's convolution resampling (Image.resize with BOX, BILINEAR, BICUBIC or LANCZOS), for
// models trained on PIL images: torchvision's transforms on PIL images and timm call it, and
// torchvision's antialiased tensor resize follows it closely.
//
// Written from Pillow's definition of the algorithm so that the network input equals Pillow's
// byte for byte:
// - the filter is stretched by the downscale factor (scale > 1), which is what makes it
//   antialiasing; upscaling uses the filter as is;
// - each output pixel's source window is [center - support, center + support] rounded, clipped
//   to the image, and its weights are normalised to sum to 1 over the clipped window;
// - weights become 22-bit fixed point (rounded half away from zero) and each pass sums
//   integers, rounds and clamps to 0–255: first horizontally (only the rows the vertical pass
//   reads), then vertically, with 8-bit pixels in between;
// - a pass whose size does not change is skipped.
// Integer arithmetic throughout, so the output is identical on every machine.
#include "transforms.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

namespace cvbridge {

namespace {

double box_filter(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }

double triangle_filter(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/// Keys' cubic with a = -0.5 (Pillow's BICUBIC; OpenCV's INTER_CUBIC uses -0.75).
double cubic_filter(double x) {
    const double a = -0.5;
    x = std::fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

double sinc(double x) {
    if (x == 0.0) return 1.0;
    x *= M_PI;
    return std::sin(x) / x;
}

/// Lanczos with three lobes (Pillow's LANCZOS; OpenCV's INTER_LANCZOS4 has four).
double lanczos_filter(double x) { return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0; }

struct Filter {
    double (*weight)(double);
    double support;
};

Filter filter_for(int interpolation) {
    switch (interpolation) {
        case CVB_INTERP_AREA: return {box_filter, 0.5};
        case CVB_INTERP_LINEAR: return {triangle_filter, 1.0};
        case CVB_INTERP_CUBIC: return {cubic_filter, 2.0};
        case CVB_INTERP_LANCZOS: return {lanczos_filter, 3.0};
        default: throw BridgeError("antialiased resampling needs linear, cubic, lanczos or area interpolation");
    }
}

constexpr int kPrecisionBits = 32 - 8 - 2;

/// Per output position: the first source index, the number of taps, and `taps` weights.
struct Coefficients {
    int taps = 0;
    std::vector<int> first, count;
    std::vector<int32_t> weights;
};

Coefficients coefficients(int in_size, int out_size, const Filter &filter) {
    const double scale = double(in_size) / out_size;
    const double filter_scale = std::max(scale, 1.0);
    const double support = filter.support * filter_scale;
    Coefficients c;
    c.taps = int(std::ceil(support)) * 2 + 1;
    c.first.resize(out_size);
    c.count.resize(out_size);
    c.weights.assign(size_t(out_size) * c.taps, 0);
    std::vector<double> w(c.taps);
    // The reference multiplies by the reciprocal; dividing could differ in the last bit.
    const double inverse_scale = 1.0 / filter_scale;
    for (int xx = 0; xx < out_size; ++xx) {
        const double center = (xx + 0.5) * scale;
        // Truncating casts, as in the reference (the low end is clipped to 0 right after).
        int xmin = int(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = int(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double total = 0;
        for (int x = 0; x < xmax; ++x) {
            w[x] = filter.weight((x + xmin - center + 0.5) * inverse_scale);
            total += w[x];
        }
        int32_t *k = &c.weights[size_t(xx) * c.taps];
        for (int x = 0; x < xmax; ++x) {
            const double normalised = total != 0.0 ? w[x] / total : w[x];
            const double fixed = normalised * (1 << kPrecisionBits);
            k[x] = int32_t(normalised < 0 ? -0.5 + fixed : 0.5 + fixed);
        }
        c.first[xx] = xmin;
        c.count[xx] = xmax;
    }
    return c;
}

inline uint8_t clip8(int32_t sum) {
    const int32_t value = sum >> kPrecisionBits;
    return uint8_t(value < 0 ? 0 : value > 255 ? 255 : value);
}

/// Rows [row0, row0 + dst.rows) of `src`, resampled horizontally into `dst`.
void horizontal(const cv::Mat &src, cv::Mat &dst, int row0, const Coefficients &c) {
    const int channels = src.channels();
    for (int y = 0; y < dst.rows; ++y) {
        const uint8_t *in = src.ptr<uint8_t>(row0 + y);
        uint8_t *out = dst.ptr<uint8_t>(y);
        if (channels == 3) {
            // Colour images: the three sums share one pass over the taps (same arithmetic).
            for (int xx = 0; xx < dst.cols; ++xx) {
                const int32_t *k = &c.weights[size_t(xx) * c.taps];
                const uint8_t *window = in + size_t(c.first[xx]) * 3;
                int32_t b = 1 << (kPrecisionBits - 1), g = b, r = b;
                for (int x = 0; x < c.count[xx]; ++x, window += 3) {
                    b += int32_t(window[0]) * k[x];
                    g += int32_t(window[1]) * k[x];
                    r += int32_t(window[2]) * k[x];
                }
                out[xx * 3] = clip8(b);
                out[xx * 3 + 1] = clip8(g);
                out[xx * 3 + 2] = clip8(r);
            }
            continue;
        }
        for (int xx = 0; xx < dst.cols; ++xx) {
            const int32_t *k = &c.weights[size_t(xx) * c.taps];
            const uint8_t *window = in + size_t(c.first[xx]) * channels;
            for (int ch = 0; ch < channels; ++ch) {
                int32_t sum = 1 << (kPrecisionBits - 1);
                for (int x = 0; x < c.count[xx]; ++x) sum += int32_t(window[x * channels + ch]) * k[x];
                out[xx * channels + ch] = clip8(sum);
            }
        }
    }
}

/// `src` resampled vertically into `dst`; `row0` is subtracted from the coefficients' rows.
void vertical(const cv::Mat &src, cv::Mat &dst, int row0, const Coefficients &c) {
    const size_t width = size_t(dst.cols) * dst.channels();
    std::vector<int32_t> sums(width);
    for (int yy = 0; yy < dst.rows; ++yy) {
        const int32_t *k = &c.weights[size_t(yy) * c.taps];
        std::fill(sums.begin(), sums.end(), 1 << (kPrecisionBits - 1));
        for (int y = 0; y < c.count[yy]; ++y) {
            const uint8_t *in = src.ptr<uint8_t>(c.first[yy] - row0 + y);
            const int32_t weight = k[y];
            for (size_t i = 0; i < width; ++i) sums[i] += int32_t(in[i]) * weight;
        }
        uint8_t *out = dst.ptr<uint8_t>(yy);
        for (size_t i = 0; i < width; ++i) out[i] = clip8(sums[i]);
    }
}

}  // namespace

cv::Mat pillow_resize(const cv::Mat &src, int width, int height, int interpolation) {
    if (src.depth() != CV_8U) throw BridgeError("antialiased resampling works on 8-bit images");
    const Filter filter = filter_for(interpolation);
    if (src.cols == width && src.rows == height) return src.clone();
    const Coefficients rows = coefficients(src.rows, height, filter);
    cv::Mat current = src;
    int row0 = 0;
    if (width != src.cols) {
        // Only the source rows the vertical pass reads.
        const int first = rows.first.front();
        const int last = rows.first.back() + rows.count.back();
        const int used = height != src.rows ? last - first : src.rows;
        row0 = height != src.rows ? first : 0;
        cv::Mat across(used, width, src.type());
        horizontal(src, across, row0, coefficients(src.cols, width, filter));
        current = across;
    }
    if (height == src.rows) return current;
    cv::Mat out(height, width, src.type());
    vertical(current, out, row0, rows);
    return out;
}

}  // namespace cvbridge
