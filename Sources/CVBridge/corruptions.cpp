// The ImageNet-C corruptions (Hendrycks & Dietterich, ICLR 2019) with the parameters of the
// `imagecorruptions` package 1.1.2: the registry behind the C API, and the noise and digital
// corruptions. Blur corruptions are in corruptions_blur.cpp, weather ones (and
// elastic_transform) in corruptions_weather.cpp.
//
// Like the reference, results are truncated to 8 bits (numpy's uint8 cast), not rounded. Grey
// images stay grey (the reference returns three equal channels); every corruption here is
// defined per channel or follows the reference's own grey branch.
#include "transforms.hpp"

#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <cstring>

using namespace cvbridge;

namespace {

/// Applies `f` to every value (on [0, 1]) in row-major, channel-interleaved order, which is the
/// order random draws are made in, and truncates the clipped result to 8 bits.
template <typename F>
cv::Mat map_values(const cv::Mat &image, F f) {
    cv::Mat out(image.size(), image.type());
    const size_t count = image.total() * image.channels();
    const uint8_t *in = image.ptr<uint8_t>();
    uint8_t *dst = out.ptr<uint8_t>();
    for (size_t i = 0; i < count; ++i) {
        const double x = in[i] / 255.0;
        dst[i] = uint8_t(std::clamp(f(x), 0.0, 1.0) * 255.0);
    }
    return out;
}

// MARK: noise

constexpr double kGaussianNoise[5] = {.08, .12, .18, .26, .38};
constexpr double kShotNoise[5] = {60, 25, 12, 5, 3};
constexpr double kImpulseNoise[5] = {.03, .06, .09, .17, .27};
constexpr double kSpeckleNoise[5] = {.15, .2, .35, .45, .6};

cv::Mat gaussian_noise(const cv::Mat &image, int severity, Random &random) {
    const double sigma = kGaussianNoise[severity - 1];
    return map_values(image, [sigma, &random](double x) { return x + sigma * random.normal(); });
}

cv::Mat shot_noise(const cv::Mat &image, int severity, Random &random) {
    const double photons = kShotNoise[severity - 1];
    // x is one of 256 values v / 255: the draw's parameters are computed once per value.
    std::vector<Random::PoissonParameters> means;
    means.reserve(256);
    for (int v = 0; v < 256; ++v) means.emplace_back(v / 255.0 * photons);
    return map_values(image, [photons, &random, &means](double x) {
        return random.poisson(means[size_t(std::lround(x * 255.0))]) / photons;
    });
}

/// scikit-image's random_noise(mode='s&p'): each value independently is replaced with
/// probability `amount`, by 1 or 0 with equal chance.
cv::Mat impulse_noise(const cv::Mat &image, int severity, Random &random) {
    const double amount = kImpulseNoise[severity - 1];
    return map_values(image, [amount, &random](double x) {
        const bool flipped = random.uniform() < amount;
        const bool salt = random.uniform() < 0.5;
        return flipped ? (salt ? 1.0 : 0.0) : x;
    });
}

cv::Mat speckle_noise(const cv::Mat &image, int severity, Random &random) {
    const double sigma = kSpeckleNoise[severity - 1];
    return map_values(image, [sigma, &random](double x) { return x + x * sigma * random.normal(); });
}

// MARK: digital

constexpr double kContrast[5] = {.4, .3, .2, .1, .05};
constexpr double kBrightness[5] = {.1, .2, .3, .4, .5};
constexpr double kSaturateScale[5] = {.3, .1, 2, 5, 20};
constexpr double kSaturateShift[5] = {0, 0, 0, .1, .2};
constexpr int kJPEGQuality[5] = {25, 18, 15, 10, 7};
constexpr double kPixelate[5] = {.6, .5, .4, .3, .25};

cv::Mat contrast(const cv::Mat &image, int severity, Random &) {
    const double factor = kContrast[severity - 1];
    const cv::Scalar means = cv::mean(image);
    const int channels = image.channels();
    cv::Mat out(image.size(), image.type());
    const size_t count = image.total() * channels;
    const uint8_t *in = image.ptr<uint8_t>();
    uint8_t *dst = out.ptr<uint8_t>();
    for (size_t i = 0; i < count; ++i) {
        const double mean = means[int(i % channels)] / 255.0;
        dst[i] = uint8_t(std::clamp((in[i] / 255.0 - mean) * factor + mean, 0.0, 1.0) * 255.0);
    }
    return out;
}

/// HSV edits with scikit-image's conversions, written without the round trip: with hue and
/// value fixed, a channel c of value V and saturation S becomes V - (V - c) * S' / S, and a new
/// value V' scales every channel by V' / V. `edit` maps (V, S) to (V', S').
template <typename Edit>
cv::Mat edit_hsv(const cv::Mat &image, Edit edit) {
    cv::Mat out(image.size(), image.type());
    const size_t pixels = image.total();
    const uint8_t *in = image.ptr<uint8_t>();
    uint8_t *dst = out.ptr<uint8_t>();
    for (size_t p = 0; p < pixels; ++p) {
        const uint8_t *c = in + 3 * p;
        uint8_t *o = dst + 3 * p;
        const double b = c[0] / 255.0, g = c[1] / 255.0, r = c[2] / 255.0;
        const double value = std::max({r, g, b}), minimum = std::min({r, g, b});
        const double saturation = value == 0 ? 0 : (value - minimum) / value;
        const auto [newValue, newSaturation] = edit(value, saturation);
        double channels[3];
        if (saturation == 0) {
            // Hue 0 (scikit-image's choice for grey pixels): red keeps the value, green and
            // blue take V' * (1 - S').
            channels[2] = newValue;
            channels[0] = channels[1] = newValue * (1 - newSaturation);
        } else {
            const double in3[3] = {b, g, r};
            for (int k = 0; k < 3; ++k) {
                const double chroma = (value - in3[k]) * newSaturation / saturation;
                channels[k] = (value - chroma) * (newValue / value);
            }
        }
        for (int k = 0; k < 3; ++k) o[k] = uint8_t(std::clamp(channels[k], 0.0, 1.0) * 255.0);
    }
    return out;
}

cv::Mat brightness(const cv::Mat &image, int severity, Random &) {
    const double shift = kBrightness[severity - 1];
    if (image.channels() == 1) return map_values(image, [shift](double x) { return x + shift; });
    return edit_hsv(image, [shift](double v, double s) { return std::pair{std::min(v + shift, 1.0), s}; });
}

cv::Mat saturate(const cv::Mat &image, int severity, Random &) {
    // A grey image has no saturation; the reference returns it unchanged too (its grey pixels
    // get hue 0, so the red channel it keeps equals the value).
    if (image.channels() == 1) return image.clone();
    const double scale = kSaturateScale[severity - 1], shift = kSaturateShift[severity - 1];
    return edit_hsv(image, [scale, shift](double v, double s) {
        return std::pair{v, std::clamp(s * scale + shift, 0.0, 1.0)};
    });
}

cv::Mat jpeg_compression(const cv::Mat &image, int severity, Random &) {
    std::vector<uint8_t> encoded;
    if (!cv::imencode(".jpg", image, encoded, {cv::IMWRITE_JPEG_QUALITY, kJPEGQuality[severity - 1]})) {
        throw BridgeError("JPEG encoding failed");
    }
    return cv::imdecode(encoded, image.channels() == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
}

/// Pillow's NEAREST resize positions: the source index of each output pixel, from a position
/// that starts at half a step and is accumulated step by step, as Pillow does.
std::vector<int> pillow_nearest(int inSize, int outSize) {
    const double step = double(inSize) / outSize;
    std::vector<int> index;
    double position = step * 0.5;
    for (int i = 0; i < outSize; ++i, position += step) index.push_back(std::min(int(position), inSize - 1));
    return index;
}

/// Pillow's BOX downscale to int(side * factor) (horizontal pass, then vertical, each rounded
/// to 8 bits), then NEAREST back up to the original size.
cv::Mat pixelate(const cv::Mat &image, int severity, Random &) {
    const double factor = kPixelate[severity - 1];
    const int channels = image.channels();
    const int smallCols = std::max(1, int(image.cols * factor)), smallRows = std::max(1, int(image.rows * factor));
    const cv::Mat reduced = pillow_resize(image, smallCols, smallRows, CVB_INTERP_AREA);
    const auto columns = pillow_nearest(smallCols, image.cols), rows = pillow_nearest(smallRows, image.rows);
    cv::Mat out(image.size(), image.type());
    const size_t width = size_t(image.cols) * channels;
    for (int y = 0; y < image.rows; ++y) {
        uint8_t *dst = out.ptr<uint8_t>(y);
        // Consecutive output rows from the same source row are the same row.
        if (y > 0 && rows[size_t(y)] == rows[size_t(y - 1)]) {
            std::memcpy(dst, out.ptr<uint8_t>(y - 1), width);
            continue;
        }
        const uint8_t *in = reduced.ptr<uint8_t>(rows[size_t(y)]);
        for (int x = 0; x < image.cols; ++x) {
            const uint8_t *p = in + size_t(columns[size_t(x)]) * channels;
            for (int c = 0; c < channels; ++c) dst[size_t(x) * channels + c] = p[c];
        }
    }
    return out;
}

std::vector<Corruption> noise_and_digital() {
    std::vector<Corruption> list = {
        {"gaussian_noise", "noise", "additive Gaussian noise",
         [](int s) { return format_parameters("sigma %.2f (on [0, 1])", kGaussianNoise[s - 1]); }, gaussian_noise},
        {"shot_noise", "noise", "photon shot noise: Poisson counts",
         [](int s) { return format_parameters("%.0f photons at full scale", kShotNoise[s - 1]); }, shot_noise},
        {"impulse_noise", "noise", "salt-and-pepper noise",
         [](int s) { return format_parameters("%.0f%% of values set to 0 or 255", kImpulseNoise[s - 1] * 100); }, impulse_noise},
        {"speckle_noise", "noise", "multiplicative Gaussian noise",
         [](int s) { return format_parameters("sigma %.2f (x + x * noise)", kSpeckleNoise[s - 1]); }, speckle_noise},
        {"brightness", "weather", "brighter: HSV value raised",
         [](int s) { return format_parameters("value + %.1f", kBrightness[s - 1]); }, brightness},
        {"contrast", "digital", "contrast towards the per-channel mean",
         [](int s) { return format_parameters("contrast x %.2f", kContrast[s - 1]); }, contrast},
        {"pixelate", "digital", "box downscale then nearest-neighbour upscale",
         [](int s) { return format_parameters("downscale to %.0f%%", kPixelate[s - 1] * 100); }, pixelate},
        {"jpeg_compression", "digital", "JPEG compression artefacts",
         [](int s) { return format_parameters("quality %.0f", kJPEGQuality[s - 1]); }, jpeg_compression},
        {"saturate", "digital", "HSV saturation scaled and shifted",
         [](int s) { return format_parameters("saturation x %.1f + %.1f", kSaturateScale[s - 1], kSaturateShift[s - 1]); }, saturate},
    };
    return list;
}

/// In the reference's order: the 15 ImageNet-C corruptions, then its 4 extra ones.
const std::vector<Corruption> &registry() {
    static const std::vector<Corruption> ordered = [] {
        std::vector<Corruption> all = noise_and_digital();
        for (auto group : {blur_corruptions(), weather_corruptions()}) all.insert(all.end(), group.begin(), group.end());
        all.push_back(elastic_transform_corruption());
        const char *order[] = {"gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur",
                               "motion_blur", "zoom_blur", "snow", "frost", "fog", "brightness", "contrast",
                               "elastic_transform", "pixelate", "jpeg_compression", "speckle_noise",
                               "gaussian_blur", "spatter", "saturate"};
        std::vector<Corruption> result;
        for (const char *name : order) {
            for (const auto &c : all) {
                if (std::strcmp(c.name, name) == 0) result.push_back(c);
            }
        }
        return result;
    }();
    return ordered;
}

const Corruption *corruption_at(int index) {
    const auto &all = registry();
    return index >= 0 && size_t(index) < all.size() ? &all[size_t(index)] : nullptr;
}

}  // namespace

extern "C" {

int cvb_corruption_count(void) { return int(registry().size()); }

const char *cvb_corruption_name(int index) {
    const auto *c = corruption_at(index);
    return c ? c->name : nullptr;
}

const char *cvb_corruption_group(int index) {
    const auto *c = corruption_at(index);
    return c ? c->group : nullptr;
}

const char *cvb_corruption_summary(int index) {
    const auto *c = corruption_at(index);
    return c ? c->summary : nullptr;
}

int cvb_corruption_parameters(int index, int severity, char *out, size_t capacity) {
    const auto *c = corruption_at(index);
    if (c == nullptr || severity < 1 || severity > 5 || capacity == 0) return -1;
    std::snprintf(out, capacity, "%s", c->parameters(severity).c_str());
    return 0;
}

cvb_image *cvb_corrupt(const cvb_image *image, int index, int severity, uint64_t seed, cvb_error *error) {
    return guarded<cvb_image *>(error, nullptr, [&]() -> cvb_image * {
        const cv::Mat &src = require(image);
        const auto *corruption = corruption_at(index);
        if (corruption == nullptr) throw BridgeError("unknown corruption index " + std::to_string(index));
        if (severity < 1 || severity > 5) throw BridgeError("severity must be 1...5");
        if (src.rows < 32 || src.cols < 32) {
            throw BridgeError(std::string(corruption->name) + " needs an image of at least 32x32 pixels, this one is " +
                              std::to_string(src.cols) + "x" + std::to_string(src.rows));
        }
        Random random(seed);
        cv::Mat out = corruption->apply(src, severity, random);
        if (out.size() != src.size() || out.type() != src.type()) {
            throw BridgeError(std::string(corruption->name) + " changed the image's size or type (a bug in Vigil)");
        }
        return wrap(out);
    });
}

}  // extern "C"
