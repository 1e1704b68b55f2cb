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

/// The total weight of the reference's `disk` kernel: the aliased disk of radius `r`
/// (x² + y² <= r²) on a grid of at least -8...8, normalised to sum 1, smoothed by the separable
/// Gaussian `g` with a reflect-101 border inside that grid. Where the disk reaches the grid's
/// edge (radius 8 and 10) the border reflects weight back in and the total exceeds 1 (1.013 and
/// 1.011), which makes the reference's blur brighter by as much.
double reference_disk_total(int r, const std::vector<double> &g) {
    const int half = std::max(8, r), side = 2 * half + 1, reach = int(g.size()) / 2;
    const auto reflect = [side](int i) { return i < 0 ? -i : i >= side ? 2 * side - 2 - i : i; };
    std::vector<double> disk(size_t(side * side)), across(size_t(side * side));
    double count = 0;
    for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x) {
            const int dy = y - half, dx = x - half;
            disk[size_t(y * side + x)] = dx * dx + dy * dy <= r * r ? 1.0 : 0.0;
            count += disk[size_t(y * side + x)];
        }
    for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x) {
            double v = 0;
            for (int k = -reach; k <= reach; ++k) v += g[size_t(k + reach)] * disk[size_t(y * side + reflect(x + k))];
            across[size_t(y * side + x)] = v / count;
        }
    double total = 0;
    for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x)
            for (int k = -reach; k <= reach; ++k) total += g[size_t(k + reach)] * across[size_t(reflect(y + k) * side + x)];
    return total;
}

/// The reference filters with its `disk` kernel (above): a Gaussian-smoothed aliased disk. That
/// is the same as summing the image over the disk, then smoothing those sums with the small
/// Gaussian: the disk sums are exact integers from per-row prefix sums (2r + 1 spans per pixel
/// instead of 289 or 441 kernel taps), the Gaussian a separable pass in double in a fixed order,
/// both over the image padded once like filter2D's border (reflect-101), and the weights scaled
/// to the reference kernel's total. What remains different is the reference's float32 rounding
/// and, for radius 8 and 10, where inside its kernel the reflected weight lies (here: spread
/// evenly): on a 1080p photograph byte-identical at severities 1-3, 0.03 grey levels on average
/// (at most 2) at 4-5.
cv::Mat defocus_blur(const cv::Mat &image, int severity, Random &) {
    const auto p = kDefocus[severity - 1];
    const int r = p.radius, ksize = r <= 8 ? 3 : 5, g = ksize / 2;
    const int channels = image.channels(), rows = image.rows, cols = image.cols;
    cv::Mat padded;
    cv::copyMakeBorder(image, padded, r + g, r + g, r + g, r + g, cv::BORDER_REFLECT_101);
    const int paddedCols = padded.cols, paddedRows = padded.rows;
    // prefix[y][(x + 1) * channels + c] = sum of padded row y, columns 0...x, channel c.
    const size_t stride = size_t(paddedCols + 1) * channels;
    std::vector<int32_t> prefix(size_t(paddedRows) * stride, 0);
    for (int y = 0; y < paddedRows; ++y) {
        const uint8_t *in = padded.ptr<uint8_t>(y);
        int32_t *row = prefix.data() + size_t(y) * stride;
        for (int i = 0; i < paddedCols * channels; ++i) row[i + channels] = row[i] + in[i];
    }
    std::vector<int> halfWidth(size_t(2 * r + 1));
    int total = 0;
    for (int dy = -r; dy <= r; ++dy) {
        int w = 0;
        while ((w + 1) * (w + 1) + dy * dy <= r * r) ++w;
        halfWidth[size_t(dy + r)] = w;
        total += 2 * w + 1;
    }
    // Disk sums over the image grown by g on every side (what the Gaussian reads).
    const int sumRows = rows + 2 * g, sumCols = cols + 2 * g, sumWidth = sumCols * channels;
    std::vector<int32_t> sums(size_t(sumRows) * sumWidth, 0);
    for (int y = 0; y < sumRows; ++y) {
        int32_t *out = sums.data() + size_t(y) * sumWidth;
        for (int dy = -r; dy <= r; ++dy) {
            const int w = halfWidth[size_t(dy + r)];
            // Sum-grid column x is padded column x + r; its span is x + r - w ... x + r + w.
            const int32_t *row = prefix.data() + size_t(y + r + dy) * stride;
            const int32_t *hi = row + size_t(r + w + 1) * channels, *lo = row + size_t(r - w) * channels;
            for (int i = 0; i < sumWidth; ++i) out[i] += hi[i] - lo[i];
        }
    }
    const cv::Mat gaussian = cv::getGaussianKernel(ksize, p.aliasBlur, CV_64F);
    std::vector<double> across(gaussian.begin<double>(), gaussian.end<double>());
    const double scale = reference_disk_total(r, across) / total;
    std::vector<double> weight(across);
    for (auto &w : weight) w *= scale;
    // Vertical pass into doubles, then horizontal, each in tap order; 0-255 scale, truncated.
    std::vector<double> column(static_cast<size_t>(sumWidth));
    cv::Mat out(rows, cols, image.type());
    for (int y = 0; y < rows; ++y) {
        std::fill(column.begin(), column.end(), 0.0);
        for (int k = 0; k < ksize; ++k) {
            const int32_t *in = sums.data() + size_t(y + k) * sumWidth;
            const double w = weight[size_t(k)];
            for (int i = 0; i < sumWidth; ++i) column[size_t(i)] += w * double(in[i]);
        }
        uint8_t *dst = out.ptr<uint8_t>(y);
        for (int i = 0; i < cols * channels; ++i) {
            double v = 0;
            for (int k = 0; k < ksize; ++k) v += across[size_t(k)] * column[size_t(i + k * channels)];
            dst[i] = uint8_t(std::clamp(v, 0.0, 255.0));
        }
    }
    return out;
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
