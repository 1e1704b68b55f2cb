// Internal: the random generator and the shared pieces of Vigil's image transforms.
//
// Determinism: every random draw comes from a generator seeded by the caller (xoshiro256**
// seeded through SplitMix64) and draws happen in a fixed order, so the same input, parameters
// and seed give byte-identical output on a given build and CPU.
#pragma once

#include "guarded.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace cvbridge {

class Random {
public:
    explicit Random(uint64_t seed) {
        uint64_t x = seed;
        for (auto &word : state_) word = splitmix(x);
    }

    uint64_t next() {
        const uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }

    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    /// Uniform integer in [0, n).
    int below(int n) { return n <= 1 ? 0 : int(uniform() * n); }

    /// Standard normal (Box-Muller; the second value of each pair is kept for the next call).
    double normal() {
        if (hasSpare_) {
            hasSpare_ = false;
            return spare_;
        }
        double u1 = 0;
        do {
            u1 = uniform();
        } while (u1 <= 0);
        const double u2 = uniform();
        const double radius = std::sqrt(-2.0 * std::log(u1));
        spare_ = radius * std::sin(2.0 * M_PI * u2);
        hasSpare_ = true;
        return radius * std::cos(2.0 * M_PI * u2);
    }

    /// Poisson variate: multiplication method below 10, Hörmann's PTRS above (as numpy does).
    double poisson(double lambda) {
        if (lambda <= 0) return 0;
        if (lambda < 10) {
            const double limit = std::exp(-lambda);
            double product = uniform();
            int k = 0;
            while (product > limit) {
                ++k;
                product *= uniform();
            }
            return k;
        }
        const double slam = std::sqrt(lambda);
        const double loglam = std::log(lambda);
        const double b = 0.931 + 2.53 * slam;
        const double a = -0.059 + 0.02483 * b;
        const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
        const double vr = 0.9277 - 3.6224 / (b - 2);
        for (;;) {
            const double U = uniform() - 0.5;
            const double V = uniform();
            const double us = 0.5 - std::fabs(U);
            const double k = std::floor((2 * a / us + b) * U + lambda + 0.43);
            if (us >= 0.07 && V <= vr) return k;
            if (k < 0 || (us < 0.013 && V > us)) continue;
            if (std::log(V) + std::log(invalpha) - std::log(a / (us * us) + b) <=
                -lambda + k * loglam - std::lgamma(k + 1)) {
                return k;
            }
        }
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static uint64_t splitmix(uint64_t &x) {
        uint64_t z = (x += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

    std::array<uint64_t, 4> state_{};
    bool hasSpare_ = false;
    double spare_ = 0;
};


/// One ImageNet-C corruption (Hendrycks & Dietterich 2019) with the parameters of the
/// `imagecorruptions` package (PyPI 1.1.2). `apply` receives an 8-bit grey or BGR image of at
/// least 32x32 pixels and returns an image of the same size and type.
struct Corruption {
    const char *name;     // the reference's function name, e.g. "gaussian_noise"
    const char *group;    // noise, blur, weather, digital
    const char *summary;  // one line for listings
    /// The parameters at severity 1...5, e.g. "sigma 0.08 (on [0, 1])".
    std::string (*parameters)(int severity);
    cv::Mat (*apply)(const cv::Mat &image, int severity, Random &random);
};

std::vector<Corruption> noise_corruptions();
std::vector<Corruption> blur_corruptions();
std::vector<Corruption> weather_corruptions();
std::vector<Corruption> digital_corruptions();
/// elastic_transform lives with the weather corruptions (it shares their random fields) but is
/// listed among the digital ones, as in ImageNet-C.
Corruption elastic_transform_corruption();

/// Pixels as floats in [0, 1] (`depth` CV_32F or CV_64F), channels unchanged: numpy's
/// `x / 255.` (a double division; for float32 rounded once), which OpenCV's scaled conversion
/// (a multiplication by a rounded 1/255) misses by an ulp on some values.
inline cv::Mat to_unit(const cv::Mat &bytes, int depth = CV_32F) {
    CV_Assert(bytes.depth() == CV_8U && (depth == CV_32F || depth == CV_64F));
    double table[256];
    for (int v = 0; v < 256; ++v) table[v] = v / 255.0;
    cv::Mat out(bytes.size(), CV_MAKETYPE(depth, bytes.channels()));
    const int width = bytes.cols * bytes.channels();
    for (int y = 0; y < bytes.rows; ++y) {
        const uint8_t *in = bytes.ptr<uint8_t>(y);
        if (depth == CV_64F) {
            double *dst = out.ptr<double>(y);
            for (int i = 0; i < width; ++i) dst[i] = table[in[i]];
        } else {
            float *dst = out.ptr<float>(y);
            for (int i = 0; i < width; ++i) dst[i] = float(table[in[i]]);
        }
    }
    return out;
}

/// The reference's `np.uint8(np.clip(x, 0, 1) * 255)`: clip, scale, then truncate (not round),
/// because that is what numpy's cast does and what ImageNet-C images were made with.
inline cv::Mat unit_to_bytes(const cv::Mat &unit) {
    cv::Mat out(unit.size(), CV_8UC(unit.channels()));
    const int n = unit.rows * unit.cols * unit.channels();
    uint8_t *dst = out.ptr<uint8_t>();
    if (unit.depth() == CV_64F) {
        const double *src = unit.ptr<double>();
        for (int i = 0; i < n; ++i) dst[i] = uint8_t(std::clamp(src[i], 0.0, 1.0) * 255.0);
    } else {
        // numpy multiplies a float32 array by 255 in float32: the product is rounded to float
        // before the cast truncates it.
        CV_Assert(unit.depth() == CV_32F);
        const float *src = unit.ptr<float>();
        for (int i = 0; i < n; ++i) dst[i] = uint8_t(std::clamp(src[i], 0.0f, 1.0f) * 255.0f);
    }
    return out;
}

/// A parameter description for listings, printf-style; every value is passed as a double, so
/// patterns use %f conversions only.
template <typename... Values>
std::string format_parameters(const char *pattern, Values... values) {
    char text[160];
    std::snprintf(text, sizeof(text), pattern, double(values)...);
    return text;
}

/// The reference's `np.uint8(np.clip(x, 0, 255))` for values already on the 0-255 scale.
inline cv::Mat byte_scale_to_bytes(const cv::Mat &values) {
    cv::Mat unit;
    values.convertTo(unit, values.depth(), 1.0 / 255.0);
    return unit_to_bytes(unit);
}

/// scipy.ndimage.gaussian_filter (mode 'nearest' = replicated border, truncate 4.0), as
/// skimage.filters.gaussian uses it: each channel separately, sigma in pixels on both axes.
/// The kernel has radius int(4 * sigma + 0.5) and is normalised to sum 1. Float input.
inline cv::Mat gaussian_filter(const cv::Mat &image, double sigma) {
    const int radius = int(4.0 * sigma + 0.5);
    cv::Mat kernel(2 * radius + 1, 1, CV_64F);
    double total = 0;
    for (int i = -radius; i <= radius; ++i) {
        const double w = std::exp(-0.5 * double(i) * double(i) / (sigma * sigma));
        kernel.at<double>(i + radius) = w;
        total += w;
    }
    kernel /= total;
    cv::Mat out;
    cv::sepFilter2D(image, out, image.depth(), kernel, kernel, cv::Point(-1, -1), 0, cv::BORDER_REPLICATE);
    return out;
}

/// The reference's `_motion_blur`: the image shifted along a line at `angle` degrees,
/// `2 * radius + 1` times, weighted by a one-sided Gaussian of `sigma`; shifts repeat the
/// edge row or column. Accumulates in float32 like the reference. Input of any depth.
cv::Mat shifted_motion_blur(const cv::Mat &image, int radius, double sigma, double angle);

/// scipy.ndimage.zoom(order=1) of the centre crop that the reference's `clipped_zoom` takes:
/// the crop of ceil(side / zoom) pixels, resampled to round(crop * zoom) pixels with corners
/// aligned. The result can be a little larger or smaller than the input; callers use its top
/// left part like the reference does. Float input, any channel count.
cv::Mat clipped_zoom(const cv::Mat &image, double zoom);

/// Pillow's Image.resize of an 8-bit image (1 or 3 channels) to width x height with the filter
/// of `interpolation` (CVB_INTERP_AREA: BOX, LINEAR: BILINEAR, CUBIC: BICUBIC, LANCZOS: LANCZOS),
/// antialiased when shrinking; byte-identical to Pillow (see resample.cpp).
cv::Mat pillow_resize(const cv::Mat &src, int width, int height, int interpolation);

}  // namespace cvbridge
