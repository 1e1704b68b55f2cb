// Internal: the random generator and the shared pieces of Vigil's image transforms.
//
// Determinism: every random draw comes from a generator seeded by the caller (xoshiro256**
// seeded through SplitMix64) and draws happen in a fixed order, so the same input, parameters
// and seed give byte-identical output on a given build and CPU.
#pragma once

// Fixed-order float arithmetic in every transform: no fused multiply-adds (which CPUs with FMA
// would round differently from those without). Applies to the rest of each file including this.
#pragma STDC FP_CONTRACT OFF

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

    /// Standard normal, by Marsaglia and Tsang's ziggurat (256 layers, as numpy's generator
    /// draws them): one 64-bit draw and a table lookup for about 99% of the values, `exp` or
    /// `log` only in the wedges and the tail. Box-Muller (log, sqrt, sin, cos per pair) made the
    /// noise scenarios slower than the reference on camera-size images.
    double normal() {
        const Ziggurat &z = Ziggurat::shared();
        for (;;) {
            const uint64_t bits = next();
            const int layer = int(bits & 0xff);
            const bool negative = (bits >> 8) & 1;
            const uint64_t magnitude = bits >> 12;  // 52 bits
            const double x = double(magnitude) * z.w[layer];
            if (magnitude < z.k[layer]) return negative ? -x : x;
            if (layer == 0) {
                // The tail beyond r, by Marsaglia's method.
                for (;;) {
                    const double xx = -std::log1p(-uniform()) / Ziggurat::r;
                    const double yy = -std::log1p(-uniform());
                    if (yy + yy > xx * xx) return negative ? -(Ziggurat::r + xx) : Ziggurat::r + xx;
                }
            }
            if ((z.f[layer - 1] - z.f[layer]) * uniform() + z.f[layer] < std::exp(-0.5 * x * x)) {
                return negative ? -x : x;
            }
        }
    }

    /// What a Poisson draw of mean `lambda` needs that does not depend on the draw; images have
    /// at most 256 distinct means per channel, so callers compute these once per value.
    struct PoissonParameters {
        double lambda = 0, limit = 0, slam = 0, loglam = 0, a = 0, b = 0, invalpha = 0, vr = 0;

        explicit PoissonParameters(double mean) : lambda(mean) {
            if (lambda <= 0) return;
            if (lambda < 10) {
                limit = std::exp(-lambda);
                return;
            }
            slam = std::sqrt(lambda);
            loglam = std::log(lambda);
            b = 0.931 + 2.53 * slam;
            a = -0.059 + 0.02483 * b;
            invalpha = 1.1239 + 1.1328 / (b - 3.4);
            vr = 0.9277 - 3.6224 / (b - 2);
        }
    };

    /// Poisson variate: multiplication method below 10, Hörmann's PTRS above (as numpy does).
    double poisson(const PoissonParameters &p) {
        if (p.lambda <= 0) return 0;
        if (p.lambda < 10) {
            double product = uniform();
            int k = 0;
            while (product > p.limit) {
                ++k;
                product *= uniform();
            }
            return k;
        }
        for (;;) {
            const double U = uniform() - 0.5;
            const double V = uniform();
            const double us = 0.5 - std::fabs(U);
            const double k = std::floor((2 * p.a / us + p.b) * U + p.lambda + 0.43);
            if (us >= 0.07 && V <= p.vr) return k;
            if (k < 0 || (us < 0.013 && V > us)) continue;
            if (std::log(V) + std::log(p.invalpha) - std::log(p.a / (us * us) + p.b) <=
                -p.lambda + k * p.loglam - std::lgamma(k + 1)) {
                return k;
            }
        }
    }

private:
    /// The ziggurat's layers for 52-bit magnitudes: k (acceptance bounds), w (scales) and f
    /// (density at each layer's edge), computed once by the recurrence of Marsaglia and Tsang.
    struct Ziggurat {
        static constexpr double r = 3.6541528853610088;   // the base layer's edge
        static constexpr double v = 0.00492867323399;     // each layer's area
        uint64_t k[256];
        double w[256];
        double f[256];

        Ziggurat() {
            const double m = 4503599627370496.0;  // 2^52
            double dn = r, tn = r;
            const double q = v / std::exp(-0.5 * dn * dn);
            k[0] = uint64_t((dn / q) * m);
            k[1] = 0;
            w[0] = q / m;
            w[255] = dn / m;
            f[0] = 1.0;
            f[255] = std::exp(-0.5 * dn * dn);
            for (int i = 254; i >= 1; --i) {
                dn = std::sqrt(-2.0 * std::log(v / dn + std::exp(-0.5 * dn * dn)));
                k[i + 1] = uint64_t((dn / tn) * m);
                tn = dn;
                f[i] = std::exp(-0.5 * dn * dn);
                w[i] = dn / m;
            }
        }

        static const Ziggurat &shared() {
            static const Ziggurat tables;
            return tables;
        }
    };

    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static uint64_t splitmix(uint64_t &x) {
        uint64_t z = (x += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

    std::array<uint64_t, 4> state_{};
};

/// A Poisson distribution of one mean, drawn by inversion: its cumulative distribution over
/// mean ± (10 sd + 10), which holds all but about 1e-23 of the mass, built outward from the
/// mode (weight 1) by the recurrences p(k+1) = p(k)·λ/(k+1) and p(k-1) = p(k)·k/λ and
/// normalised to end at exactly 1 — basic arithmetic and sqrt only (IEEE-exact, no libm whose
/// last bit could differ between machines) — plus a guide table that starts the search at the
/// right entry. A draw is one uniform and one or two comparisons, where
/// rejection sampling (PTRS) needs two uniforms and sometimes logs and lgamma; for images, with
/// at most 256 means per channel, the tables pay for themselves many times over.
class PoissonTable {
public:
    explicit PoissonTable(double lambda) {
        if (!(lambda > 0)) {
            cdf_ = {1.0};
            guide_ = {0};
            return;
        }
        const double spread = 10 * std::sqrt(lambda) + 10;
        first_ = int(std::max(0.0, std::floor(lambda - spread)));
        const int last = int(std::ceil(lambda + spread)), mode = int(std::floor(lambda));
        std::vector<double> p(static_cast<size_t>(last - first_ + 1));
        const auto at = [&](int k) -> double & { return p[size_t(k - first_)]; };
        at(mode) = 1;
        for (int k = mode; k < last; ++k) at(k + 1) = at(k) * lambda / (k + 1);
        for (int k = mode; k > first_; --k) at(k - 1) = at(k) * k / lambda;
        cdf_.resize(p.size());
        double total = 0;
        for (size_t i = 0; i < p.size(); ++i) cdf_[i] = total += p[i];
        for (auto &c : cdf_) c /= total;
        guide_.resize(cdf_.size());
        size_t i = 0;
        for (size_t j = 0; j < guide_.size(); ++j) {
            while (cdf_[i] <= double(j) / double(guide_.size())) ++i;
            guide_[j] = uint32_t(i);
        }
    }

    int sample(Random &random) const {
        const double u = random.uniform();
        size_t i = guide_[size_t(u * double(guide_.size()))];
        while (cdf_[i] <= u) ++i;
        return first_ + int(i);
    }

private:
    int first_ = 0;
    std::vector<double> cdf_;
    std::vector<uint32_t> guide_;
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
