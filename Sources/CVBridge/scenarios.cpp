// Vigil's camera scenarios: low light, motion blur, occlusion, downscale, rotation.
//
// Determinism: every random draw comes from a generator seeded by the caller, draws happen in a
// fixed order (row-major, channel-interleaved), and low light, motion blur and occlusion use
// plain C++ with integer or fixed-order float arithmetic (no OpenCV SIMD kernels whose rounding
// can depend on the CPU, no fused multiply-adds, no libm in low light), so the same input,
// parameters and seed give byte-identical output; see SCENARIOS.md for what remains.
#include "transforms.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

using namespace cvbridge;

namespace {

/// x^2.4 for x in (0, 1] as x² · (x²)^(1/5), the fifth root by Newton's iteration from 1 (which
/// approaches the root from above), a fixed number of steps: only IEEE-exact operations, so
/// every machine gets the same bits, where libm's pow may differ in the last one between CPUs
/// (glibc picks its FMA or plain variant at run time). Within an ulp or two of pow.
double power_2_4(double x) {
    const double square = x * x;
    double root = 1;
    for (int step = 0; step < 64; ++step) {
        const double fourth = (root * root) * (root * root);
        root = (4 * root + square / fourth) / 5;
    }
    return square * root;
}

double srgb_to_linear(double v) {
    return v <= 0.04045 ? v / 12.92 : power_2_4((v + 0.055) / 1.055);
}

uint8_t to_byte(double v) {
    return uint8_t(std::lround(std::clamp(v, 0.0, 255.0)));
}

/// Reflect-101 border (OpenCV's default): -1 -> 1, n -> n - 2.
int reflect101(int i, int n) {
    if (n == 1) return 0;
    while (i < 0 || i >= n) {
        if (i < 0) i = -i;
        if (i >= n) i = 2 * n - 2 - i;
    }
    return i;
}

/// Everything low light computes that depends on its setting, not on the image: the
/// photo-electron count's distribution per channel and 8-bit value, and the re-encoding's
/// quantisation. Re-encoding quantises sRGB(signal) to `levels` steps: step q is taken when the
/// signal reaches the linear light of (q - 1/2) / levels, so a search among those thresholds
/// (in electrons) replaces a pow per value, and each step's byte is precomputed.
struct LowLightSensor {
    int levels = 0;
    std::vector<PoissonTable> counts;    // [channel * 256 + value]
    std::vector<double> thresholds;      // levels of them, increasing
    std::vector<uint8_t> bytes;          // levels + 1
    // Whole electrons to the number of thresholds at or below them: the search for a signal
    // starts there and moves at most a few steps (thresholds are about 0.3 electrons apart at
    // their densest).
    std::vector<uint16_t> stepsBelow;

    LowLightSensor(int channels, const std::array<double, 3> &light, double full_well, int bits) : levels((1 << bits) - 1) {
        std::array<double, 256> linear{};
        for (int v = 0; v < 256; ++v) linear[size_t(v)] = srgb_to_linear(v / 255.0);
        thresholds.resize(size_t(levels));
        bytes.resize(size_t(levels) + 1);
        for (int q = 1; q <= levels; ++q) thresholds[size_t(q - 1)] = srgb_to_linear((q - 0.5) / levels) * full_well;
        for (int q = 0; q <= levels; ++q) bytes[size_t(q)] = to_byte(double(q) / levels * 255.0);
        stepsBelow.resize(size_t(std::ceil(thresholds.back())) + 1);
        for (size_t e = 0; e < stepsBelow.size(); ++e) {
            stepsBelow[e] = uint16_t(std::upper_bound(thresholds.begin(), thresholds.end(), double(e)) - thresholds.begin());
        }
        counts.reserve(size_t(channels) * 256);
        for (int c = 0; c < channels; ++c) {
            for (int v = 0; v < 256; ++v) counts.emplace_back(linear[size_t(v)] * light[size_t(c)] * full_well);
        }
    }

    /// The re-encoded byte of a signal of `electrons`.
    uint8_t encode(double electrons) const {
        if (electrons < 0) return bytes[0];
        if (electrons >= double(stepsBelow.size())) return bytes[size_t(levels)];
        size_t step = stepsBelow[size_t(electrons)];
        while (step < size_t(levels) && thresholds[step] <= electrons) ++step;
        return bytes[step];
    }

    /// Built once per setting and shared by every image and worker: a run transforms thousands
    /// of images at one severity, and building the tables per image cost several times the
    /// transform itself on 20×20 digits. At most 64 settings are kept.
    static std::shared_ptr<const LowLightSensor> shared(int channels, const std::array<double, 3> &light, double full_well,
                                                        int bits) {
        using Key = std::tuple<int, double, double, double, double, int>;
        static std::mutex mutex;
        static std::map<Key, std::shared_ptr<const LowLightSensor>> cache;
        const Key key{channels, light[0], light[1], light[2], full_well, bits};
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (auto found = cache.find(key); found != cache.end()) return found->second;
        }
        auto sensor = std::make_shared<const LowLightSensor>(channels, light, full_well, bits);
        std::lock_guard<std::mutex> lock(mutex);
        if (cache.size() >= 64) cache.clear();
        cache.emplace(key, sensor);
        return sensor;
    }
};

/// sum[i] += weight * in[i] over a row: a loop the compiler vectorises; each element's
/// additions happen in the caller's tap order, so vectorising does not change the result.
void accumulate_row(float *__restrict sum, const uint8_t *__restrict in, float weight, size_t count) {
    for (size_t i = 0; i < count; ++i) sum[i] += weight * float(in[i]);
}

struct Tap {
    int dx;
    int dy;
    double weight;
};

/// The taps of an anti-aliased line of `length` pixels through the origin at `angle` degrees
/// (counter-clockwise, image y pointing down). Weights sum to 1.
std::vector<Tap> line_kernel(double length, double angleDegrees) {
    const double theta = angleDegrees * M_PI / 180.0;
    const double cx = std::cos(theta), cy = -std::sin(theta);
    const int samples = int(std::ceil(length * 16)) + 1;
    const int half = int(std::ceil(length / 2)) + 1;
    const int side = 2 * half + 1;
    std::vector<double> grid(size_t(side) * side, 0.0);
    for (int s = 0; s < samples; ++s) {
        const double t = samples == 1 ? 0 : -length / 2 + length * s / (samples - 1);
        const double x = half + t * cx, y = half + t * cy;
        const int x0 = int(std::floor(x)), y0 = int(std::floor(y));
        const double fx = x - x0, fy = y - y0;
        const double w = 1.0 / samples;
        grid[size_t(y0) * side + x0] += w * (1 - fx) * (1 - fy);
        grid[size_t(y0) * side + x0 + 1] += w * fx * (1 - fy);
        grid[size_t(y0 + 1) * side + x0] += w * (1 - fx) * fy;
        grid[size_t(y0 + 1) * side + x0 + 1] += w * fx * fy;
    }
    std::vector<Tap> taps;
    double total = 0;
    for (int y = 0; y < side; ++y) {
        for (int x = 0; x < side; ++x) {
            const double w = grid[size_t(y) * side + x];
            if (w > 1e-9) {
                taps.push_back({x - half, y - half, w});
                total += w;
            }
        }
    }
    for (auto &tap : taps) tap.weight /= total;
    return taps;
}

}  // namespace

extern "C" {

void cvb_random_uniform(uint64_t seed, double *out, size_t count) {
    Random random(seed);
    for (size_t i = 0; i < count; ++i) out[i] = random.uniform();
}

void cvb_random_normal(uint64_t seed, double *out, size_t count) {
    Random random(seed);
    for (size_t i = 0; i < count; ++i) out[i] = random.normal();
}

void cvb_random_poisson(uint64_t seed, double mean, int *out, size_t count) {
    Random random(seed);
    const PoissonTable table(mean);
    for (size_t i = 0; i < count; ++i) out[i] = table.sample(random);
}

cvb_image *cvb_low_light(const cvb_image *image, double exposure, const double *channel_gains,
                         double full_well, double read_noise, int bits, uint64_t seed, cvb_error *error) {
    return guarded<cvb_image *>(error, nullptr, [&]() -> cvb_image * {
        const cv::Mat &src = require(image);
        if (!(exposure > 0 && exposure <= 1)) throw BridgeError("exposure must be in (0, 1]");
        if (!(full_well >= 1)) throw BridgeError("full well must be at least 1 electron");
        if (!(read_noise >= 0)) throw BridgeError("read noise must be non-negative");
        if (bits < 1 || bits > 8) throw BridgeError("bits must be in 1...8");
        const int channels = src.channels();
        // Light per channel: a cast tints colour images; a grey sensor sees the cast's luminance.
        std::array<double, 3> light{exposure, exposure, exposure};
        if (channel_gains != nullptr) {
            for (int c = 0; c < 3; ++c) {
                if (!(channel_gains[c] > 0 && channel_gains[c] <= 1)) throw BridgeError("channel gains must be in (0, 1]");
            }
            if (channels == 1) {
                light[0] = exposure * (0.114 * channel_gains[0] + 0.587 * channel_gains[1] + 0.299 * channel_gains[2]);
            } else {
                for (int c = 0; c < 3; ++c) light[c] = exposure * channel_gains[c];
            }
        }
        const auto sensor = LowLightSensor::shared(channels, light, full_well, bits);
        Random random(seed);
        cv::Mat dst(src.size(), src.type());
        const size_t pixels = src.total();
        const uint8_t *in = src.ptr<uint8_t>();
        uint8_t *out = dst.ptr<uint8_t>();
        for (size_t pixel = 0; pixel < pixels; ++pixel) {
            for (int c = 0; c < channels; ++c, ++in, ++out) {
                const double electrons = sensor->counts[size_t(c) * 256 + *in].sample(random) + read_noise * random.normal();
                *out = sensor->encode(electrons);
            }
        }
        return wrap(dst);
    });
}

cvb_image *cvb_motion_blur(const cvb_image *image, double length, double angle_degrees,
                           cvb_error *error) {
    return guarded<cvb_image *>(error, nullptr, [&]() -> cvb_image * {
        const cv::Mat &src = require(image);
        if (!(length >= 0)) throw BridgeError("blur length must be non-negative");
        if (length < 1) return wrap(src.clone());
        const auto taps = line_kernel(length, angle_degrees);
        const int rows = src.rows, cols = src.cols, channels = src.channels();
        int reach = 0;
        for (const auto &tap : taps) reach = std::max({reach, std::abs(tap.dx), std::abs(tap.dy)});
        // The image with a reflected border wide enough for every tap, so the inner loop reads
        // plain rows: one pass per tap over a whole row, in tap order, in float. The order of
        // the additions is fixed and no fused multiply-add is allowed (FP_CONTRACT off), so the
        // output is the same on every machine.
        cv::Mat padded(rows + 2 * reach, cols + 2 * reach, src.type());
        for (int y = 0; y < padded.rows; ++y) {
            const uint8_t *from = src.ptr<uint8_t>(reflect101(y - reach, rows));
            uint8_t *to = padded.ptr<uint8_t>(y);
            for (int x = 0; x < padded.cols; ++x) {
                const uint8_t *p = from + size_t(reflect101(x - reach, cols)) * channels;
                for (int c = 0; c < channels; ++c) to[size_t(x) * channels + c] = p[c];
            }
        }
        cv::Mat dst(src.size(), src.type());
        const size_t width = size_t(cols) * channels;
        std::vector<float> sum(width);
        std::vector<float> weights(taps.size());
        for (size_t t = 0; t < taps.size(); ++t) weights[t] = float(taps[t].weight);
        for (int y = 0; y < rows; ++y) {
            std::fill(sum.begin(), sum.end(), 0.0f);
            for (size_t t = 0; t < taps.size(); ++t) {
                const uint8_t *in = padded.ptr<uint8_t>(y + reach + taps[t].dy) + size_t(reach + taps[t].dx) * channels;
                accumulate_row(sum.data(), in, weights[t], width);
            }
            uint8_t *out = dst.ptr<uint8_t>(y);
            for (size_t i = 0; i < width; ++i) out[i] = uint8_t(std::min(255.0f, std::max(0.0f, std::nearbyint(sum[i]))));
        }
        return wrap(dst);
    });
}

cvb_image *cvb_occlusion(const cvb_image *image, double area_share, int max_patches, uint64_t seed,
                         cvb_error *error) {
    return guarded<cvb_image *>(error, nullptr, [&]() -> cvb_image * {
        const cv::Mat &src = require(image);
        if (!(area_share >= 0 && area_share <= 1)) throw BridgeError("area share must be in [0, 1]");
        if (max_patches < 1) throw BridgeError("at least one patch is needed");
        cv::Mat dst = src.clone();
        const int rows = src.rows, cols = src.cols, channels = src.channels();
        const long target = long(std::ceil(area_share * rows * cols));
        std::vector<uint8_t> covered(size_t(rows) * cols, 0);
        long coveredCount = 0;
        Random random(seed);
        // Planned patches split the target area; if overlaps leave the share short, extra
        // patches sized to the remainder follow (bounded, so a full cover always terminates).
        for (int patch = 0; coveredCount < target && patch < max_patches + 64; ++patch) {
            const long remaining = target - coveredCount;
            const bool last = patch >= max_patches - 1;
            const double area = last ? double(remaining) : remaining * random.uniform(0.4, 0.9);
            const double aspect = std::exp(random.uniform(std::log(0.5), std::log(2.0)));
            int w = std::clamp(int(std::lround(std::sqrt(area * aspect))), 1, cols);
            int h = std::clamp(int(std::lround(area / w)), 1, rows);
            if (long(w) * h < long(std::ceil(area)) && h < rows) ++h;  // never undershoot by rounding
            const int x0 = random.below(cols - w + 1);
            const int y0 = random.below(rows - h + 1);
            std::array<uint8_t, 3> colour{};
            for (int c = 0; c < channels; ++c) colour[c] = uint8_t(random.below(256));
            for (int y = y0; y < y0 + h; ++y) {
                uint8_t *row = dst.ptr<uint8_t>(y);
                for (int x = x0; x < x0 + w; ++x) {
                    for (int c = 0; c < channels; ++c) row[size_t(x) * channels + c] = colour[c];
                    uint8_t &mark = covered[size_t(y) * cols + x];
                    if (!mark) {
                        mark = 1;
                        ++coveredCount;
                    }
                }
            }
        }
        return wrap(dst);
    });
}

cvb_image *cvb_object_occlusion(const cvb_image *image, const double *boxes, int box_count, double box_share,
                                uint64_t seed, cvb_error *error) {
    return guarded<cvb_image *>(error, nullptr, [&]() -> cvb_image * {
        const cv::Mat &src = require(image);
        if (!(box_share > 0 && box_share <= 1)) throw BridgeError("box share must be in (0, 1]");
        if (box_count < 0 || (box_count > 0 && boxes == nullptr)) throw BridgeError("no boxes");
        cv::Mat dst = src.clone();
        const int rows = src.rows, cols = src.cols, channels = src.channels();
        Random random(seed);
        for (int b = 0; b < box_count; ++b) {
            // The box in whole pixels: the pixels its area touches, clipped to the image.
            const double *box = boxes + 4 * b;
            const int left = std::clamp(int(std::floor(box[0])), 0, cols), top = std::clamp(int(std::floor(box[1])), 0, rows);
            const int right = std::clamp(int(std::ceil(box[0] + box[2])), 0, cols);
            const int bottom = std::clamp(int(std::ceil(box[1] + box[3])), 0, rows);
            const int bw = right - left, bh = bottom - top;
            // Draws are made for every box, also empty ones, so one box never shifts another's.
            const double widthShare = random.uniform(box_share, 1.0);
            const double u = random.uniform(), v = random.uniform();
            std::array<uint8_t, 3> colour{};
            for (int c = 0; c < 3; ++c) colour[c] = uint8_t(random.below(256));
            if (bw <= 0 || bh <= 0) continue;
            // A rectangle of widthShare x (share / widthShare) of the box, so it covers `share`
            // of the box's area (rounded up to whole pixels), at a seeded place inside the box.
            const int w = std::clamp(int(std::ceil(widthShare * bw)), 1, bw);
            const int h = std::clamp(int(std::ceil(box_share * bw * bh / w)), 1, bh);
            const int x0 = left + std::min(bw - w, int(u * (bw - w + 1)));
            const int y0 = top + std::min(bh - h, int(v * (bh - h + 1)));
            for (int y = y0; y < y0 + h; ++y) {
                uint8_t *row = dst.ptr<uint8_t>(y);
                for (int x = x0; x < x0 + w; ++x) {
                    for (int c = 0; c < channels; ++c) row[size_t(x) * channels + c] = colour[c];
                }
            }
        }
        return wrap(dst);
    });
}

cvb_image *cvb_downscale(const cvb_image *image, double factor, cvb_error *error) {
    return guarded<cvb_image *>(error, nullptr, [&]() -> cvb_image * {
        const cv::Mat &src = require(image);
        if (!(factor > 0 && factor <= 1)) throw BridgeError("downscale factor must be in (0, 1]");
        const cv::Size small(std::max(1, int(std::lround(src.cols * factor))), std::max(1, int(std::lround(src.rows * factor))));
        cv::Mat reduced, restored;
        cv::resize(src, reduced, small, 0, 0, cv::INTER_AREA);
        cv::resize(reduced, restored, src.size(), 0, 0, cv::INTER_LINEAR);
        return wrap(restored);
    });
}

cvb_image *cvb_rotate(const cvb_image *image, double angle_degrees, cvb_error *error) {
    return guarded<cvb_image *>(error, nullptr, [&]() -> cvb_image * {
        const cv::Mat &src = require(image);
        if (!std::isfinite(angle_degrees)) throw BridgeError("rotation angle must be finite");
        const cv::Point2f centre((src.cols - 1) / 2.0f, (src.rows - 1) / 2.0f);
        const cv::Mat rotation = cv::getRotationMatrix2D(centre, angle_degrees, 1.0);
        cv::Mat rotated;
        cv::warpAffine(src, rotated, rotation, src.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
        return wrap(rotated);
    });
}

}  // extern "C"
