// ImageNet-C blur corruptions with the parameters of `imagecorruptions` 1.1.2: defocus, glass,
// motion, zoom and Gaussian blur, plus two helpers the weather corruptions share
// (`shifted_motion_blur`, `clipped_zoom`).
#include "transforms.hpp"

#include <cstdio>

namespace cvbridge {

cv::Mat shifted_motion_blur(const cv::Mat &image, int radius, double sigma, double angle) {
    const int width = 2 * radius + 1;
    std::vector<double> kernel(size_t(width), 0.0);
    double total = 0;
    for (int i = 0; i < width; ++i) {
        kernel[size_t(i)] = std::exp(-double(i) * i / (2 * sigma * sigma)) / (std::sqrt(2 * M_PI) * sigma);
        total += kernel[size_t(i)];
    }
    for (auto &w : kernel) w /= total;

    cv::Mat source;
    image.convertTo(source, CV_64F);
    const int rows = source.rows, cols = source.cols;
    // Shifts repeat the edge row or column into the uncovered strip: every shifted copy is a
    // window into the image padded once with replicated borders.
    const int pad = width;
    cv::Mat padded;
    cv::copyMakeBorder(source, padded, pad, pad, pad, pad, cv::BORDER_REPLICATE);
    cv::Mat blurred = cv::Mat::zeros(source.size(), source.type());
    const double theta = angle * M_PI / 180.0;
    const double pointY = width * std::sin(theta), pointX = width * std::cos(theta);
    const double hypot = std::hypot(pointY, pointX);
    for (int i = 0; i < width; ++i) {
        const int dy = -int(std::ceil(i * pointY / hypot - 0.5));
        const int dx = -int(std::ceil(i * pointX / hypot - 0.5));
        if (std::abs(dy) >= rows || std::abs(dx) >= cols) break;  // the motion left the image
        cv::scaleAdd(padded(cv::Rect(pad - dx, pad - dy, cols, rows)), kernel[size_t(i)], blurred, blurred);
    }
    return blurred;
}

namespace {

/// Python's round(): half to even, as scipy uses for zoom's output shape.
int round_half_even(double v) { return int(std::nearbyint(v)); }

/// One axis of scipy's order-1 zoom with aligned corners: for each output index, the two input
/// indices and the weight of the second.
struct LinearAxis {
    std::vector<int> lo, hi;
    std::vector<double> t;

    LinearAxis(int offset, int inSize, int outSize) {
        const double ratio = outSize > 1 ? double(inSize - 1) / double(outSize - 1) : 0.0;
        for (int i = 0; i < outSize; ++i) {
            const double position = i * ratio;
            int base = int(std::floor(position));
            base = std::clamp(base, 0, inSize - 1);
            const double frac = position - base;
            lo.push_back(offset + base);
            hi.push_back(offset + std::min(base + 1, inSize - 1));
            t.push_back(frac);
        }
    }
};

}  // namespace

cv::Mat clipped_zoom(const cv::Mat &image, double zoom) {
    const int rows = image.rows, cols = image.cols, channels = image.channels();
    const int cropRows = int(std::ceil(rows / zoom)), cropCols = int(std::ceil(cols / zoom));
    const int top = (rows - cropRows) / 2, left = (cols - cropCols) / 2;
    const int outRows = round_half_even(cropRows * zoom), outCols = round_half_even(cropCols * zoom);
    const LinearAxis ys(top, cropRows, outRows), xs(left, cropCols, outCols);
    cv::Mat source;
    image.convertTo(source, CV_64F);
    // Columns first into a buffer of the crop's rows, then rows.
    cv::Mat horizontal(rows, outCols, CV_64FC(channels));
    for (int y = top; y < top + cropRows; ++y) {
        const double *in = source.ptr<double>(y);
        double *out = horizontal.ptr<double>(y);
        for (int x = 0; x < outCols; ++x) {
            const double *a = in + xs.lo[size_t(x)] * channels, *b = in + xs.hi[size_t(x)] * channels;
            const double t = xs.t[size_t(x)];
            for (int c = 0; c < channels; ++c) out[x * channels + c] = a[c] * (1 - t) + b[c] * t;
        }
    }
    cv::Mat zoomed(outRows, outCols, CV_MAKETYPE(image.depth(), channels));
    for (int y = 0; y < outRows; ++y) {
        const double *a = horizontal.ptr<double>(ys.lo[size_t(y)]), *b = horizontal.ptr<double>(ys.hi[size_t(y)]);
        const double t = ys.t[size_t(y)];
        if (image.depth() == CV_32F) {
            float *out = zoomed.ptr<float>(y);
            for (int i = 0; i < outCols * channels; ++i) out[i] = float(a[i] * (1 - t) + b[i] * t);
        } else {
            double *out = zoomed.ptr<double>(y);
            for (int i = 0; i < outCols * channels; ++i) out[i] = a[i] * (1 - t) + b[i] * t;
        }
    }
    return zoomed;
}

namespace {

// MARK: gaussian_blur

constexpr double kGaussianSigma[5] = {1, 2, 3, 4, 6};

cv::Mat gaussian_blur(const cv::Mat &image, int severity, Random &) {
    return unit_to_bytes(gaussian_filter(to_unit(image, CV_64F), kGaussianSigma[severity - 1]));
}

// MARK: glass_blur

struct GlassParameters {
    double sigma;
    int maxDelta;
    int iterations;
};
constexpr GlassParameters kGlass[5] = {{0.7, 1, 2}, {0.9, 2, 1}, {1, 2, 3}, {1.1, 3, 2}, {1.5, 4, 2}};

cv::Mat glass_blur(const cv::Mat &image, int severity, Random &random) {
    const auto p = kGlass[severity - 1];
    cv::Mat pixels = unit_to_bytes(gaussian_filter(to_unit(image, CV_64F), p.sigma));
    const int rows = pixels.rows, cols = pixels.cols, channels = pixels.channels();
    const int d = p.maxDelta;
    // The reference's loop, in its order: every interior pixel, bottom-right to top-left, takes
    // a neighbour offset by numpy's randint(-d, d), i.e. -d ... d - 1 (dx drawn first). The
    // reference writes this as a swap, `x[h, w], x[h', w'] = x[h', w'], x[h, w]`, but on numpy
    // views of a pixel's channels the second assignment copies back the value just written, so
    // what it does (and what ImageNet-C images show) is a copy: x[h, w] = x[h', w']. Vigil
    // does the same.
    for (int iteration = 0; iteration < p.iterations; ++iteration) {
        for (int h = rows - d; h > d; --h) {
            for (int w = cols - d; w > d; --w) {
                const int dx = -d + random.below(2 * d);
                const int dy = -d + random.below(2 * d);
                uint8_t *target = pixels.ptr<uint8_t>(h) + size_t(w) * channels;
                const uint8_t *source = pixels.ptr<uint8_t>(h + dy) + size_t(w + dx) * channels;
                std::copy_n(source, channels, target);
            }
        }
    }
    return unit_to_bytes(gaussian_filter(to_unit(pixels, CV_64F), p.sigma));
}

// MARK: defocus_blur

struct DefocusParameters {
    int radius;
    double aliasBlur;
};
constexpr DefocusParameters kDefocus[5] = {{3, 0.1}, {4, 0.5}, {6, 0.5}, {8, 0.5}, {10, 0.5}};

/// The reference's `disk`: an aliased disk of `radius` (on a grid of at least -8...8), normalised,
/// then smoothed by a 3x3 (radius <= 8) or 5x5 Gaussian of `aliasBlur`, in float32.
cv::Mat disk_kernel(int radius, double aliasBlur) {
    const int half = radius <= 8 ? 8 : radius;
    const int side = 2 * half + 1;
    cv::Mat disk(side, side, CV_32F);
    float total = 0;
    for (int y = -half; y <= half; ++y) {
        for (int x = -half; x <= half; ++x) {
            const float inside = x * x + y * y <= radius * radius ? 1.0f : 0.0f;
            disk.at<float>(y + half, x + half) = inside;
            total += inside;
        }
    }
    disk /= total;
    const int ksize = radius <= 8 ? 3 : 5;
    cv::Mat smoothed;
    cv::GaussianBlur(disk, smoothed, cv::Size(ksize, ksize), aliasBlur);
    return smoothed;
}

cv::Mat defocus_blur(const cv::Mat &image, int severity, Random &) {
    const auto p = kDefocus[severity - 1];
    cv::Mat kernel;
    disk_kernel(p.radius, p.aliasBlur).convertTo(kernel, CV_64F);
    cv::Mat filtered;
    cv::filter2D(to_unit(image, CV_64F), filtered, CV_64F, kernel);
    return unit_to_bytes(filtered);
}

// MARK: motion_blur

struct MotionParameters {
    int radius;
    double sigma;
};
constexpr MotionParameters kMotion[5] = {{10, 3}, {15, 5}, {15, 8}, {15, 12}, {20, 15}};

cv::Mat motion_blur(const cv::Mat &image, int severity, Random &random) {
    const auto p = kMotion[severity - 1];
    const double angle = random.uniform(-45, 45);
    return byte_scale_to_bytes(shifted_motion_blur(image, p.radius, p.sigma, angle));
}

// MARK: zoom_blur

struct ZoomParameters {
    double start, stop, step;
};
constexpr ZoomParameters kZoom[5] = {{1, 1.11, 0.01}, {1, 1.16, 0.01}, {1, 1.21, 0.02}, {1, 1.26, 0.02}, {1, 1.31, 0.03}};

/// numpy.arange(start, stop, step): ceil((stop - start) / step) values start + i * delta, where
/// numpy's delta is (start + step) - start, not step (1.27 there is 1.2700000000000002, which
/// changes a zoomed layer's rounded size).
std::vector<double> zoom_factors(int severity) {
    const auto p = kZoom[severity - 1];
    const int count = int(std::ceil((p.stop - p.start) / p.step));
    const double delta = (p.start + p.step) - p.start;
    std::vector<double> factors;
    for (int i = 0; i < count; ++i) factors.push_back(p.start + i * delta);
    return factors;
}

cv::Mat zoom_blur(const cv::Mat &image, int severity, Random &) {
    const cv::Mat x = to_unit(image, CV_32F);
    cv::Mat sum = x.clone();
    const auto factors = zoom_factors(severity);
    for (double factor : factors) {
        const cv::Mat layer = clipped_zoom(x, factor);
        // The reference adds the zoomed layer's top-left part (all of it when rounding made it
        // smaller than the image).
        const cv::Rect common(0, 0, std::min(layer.cols, x.cols), std::min(layer.rows, x.rows));
        cv::Mat target = sum(common);
        target += layer(common);
    }
    sum /= float(factors.size() + 1);
    return unit_to_bytes(sum);
}

}  // namespace

std::vector<Corruption> blur_corruptions() {
    return {
        {"defocus_blur", "blur", "out of focus: an anti-aliased disk kernel",
         [](int s) { return format_parameters("disk radius %.0f px, alias blur %.1f", kDefocus[s - 1].radius, kDefocus[s - 1].aliasBlur); },
         defocus_blur},
        {"glass_blur", "blur", "frosted glass: blur, pixels replaced by random neighbours, blur again",
         [](int s) {
             return format_parameters("sigma %.1f, max shift %.0f px, %.0f passes", kGlass[s - 1].sigma, kGlass[s - 1].maxDelta,
                           kGlass[s - 1].iterations);
         },
         glass_blur},
        {"motion_blur", "blur", "camera shake: a one-sided Gaussian streak at a random angle in [-45, 45] degrees",
         [](int s) { return format_parameters("radius %.0f px, sigma %.0f", kMotion[s - 1].radius, kMotion[s - 1].sigma); },
         motion_blur},
        {"zoom_blur", "blur", "zooming during exposure: the mean of centre zooms",
         [](int s) {
             const auto f = zoom_factors(s);
             return format_parameters("%.0f zooms from 1.00 to %.2f, step %.2f", double(f.size()), f.back(), kZoom[s - 1].step);
         },
         zoom_blur},
        {"gaussian_blur", "blur", "Gaussian blur",
         [](int s) { return format_parameters("sigma %.0f px", kGaussianSigma[s - 1]); }, gaussian_blur},
    };
}

}  // namespace cvbridge
