// Vigil's camera scenarios: low light, motion blur, occlusion, downscale, rotation.
//
// Determinism: every random draw comes from a generator seeded by the caller, draws happen in a
// fixed order (row-major, channel-interleaved), and low light, motion blur and occlusion use
// plain scalar C++ (no OpenCV SIMD kernels whose rounding can depend on the CPU), so the same
// input, parameters and seed give byte-identical output.
#include "transforms.hpp"

using namespace cvbridge;

namespace {

double srgb_to_linear(double v) {
    return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
}

double linear_to_srgb(double l) {
    return l <= 0.0031308 ? 12.92 * l : 1.055 * std::pow(l, 1.0 / 2.4) - 0.055;
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
        std::array<double, 256> linear{};
        for (int v = 0; v < 256; ++v) linear[v] = srgb_to_linear(v / 255.0);
        const double levels = double((1 << bits) - 1);
        Random random(seed);
        cv::Mat dst(src.size(), src.type());
        const size_t count = src.total() * src.channels();
        const uint8_t *in = src.ptr<uint8_t>();
        uint8_t *out = dst.ptr<uint8_t>();
        for (size_t i = 0; i < count; ++i) {
            const double electrons =
                random.poisson(linear[in[i]] * light[i % channels] * full_well) + read_noise * random.normal();
            const double signal = std::clamp(electrons / full_well, 0.0, 1.0);
            const double encoded = std::round(linear_to_srgb(signal) * levels) / levels;
            out[i] = to_byte(encoded * 255.0);
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
        cv::Mat dst(src.size(), src.type());
        std::vector<double> sum(static_cast<size_t>(channels), 0.0);
        for (int y = 0; y < rows; ++y) {
            uint8_t *out = dst.ptr<uint8_t>(y);
            for (int x = 0; x < cols; ++x) {
                std::fill(sum.begin(), sum.end(), 0.0);
                for (const auto &tap : taps) {
                    const uint8_t *p = src.ptr<uint8_t>(reflect101(y + tap.dy, rows)) +
                                       size_t(reflect101(x + tap.dx, cols)) * channels;
                    for (int c = 0; c < channels; ++c) sum[c] += tap.weight * p[c];
                }
                for (int c = 0; c < channels; ++c) out[size_t(x) * channels + c] = to_byte(sum[c]);
            }
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
