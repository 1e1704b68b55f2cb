// Model input preparation, shared by every model that runs through the OpenCV DNN backend.
//
// Order: colour conversion, then geometry (scale, then place on the input: pad, letterbox,
// crop), then per-channel (x * scale - mean) / std. OpenCV's resampling works on float pixels,
// so that no 8-bit rounding happens between decoding and the network; Pillow's (antialias)
// works on the 8-bit pixels, as Pillow itself does, and converts to float after scaling.
#include "transforms.hpp"

#include <opencv2/imgproc.hpp>

#include <cmath>

using namespace cvbridge;

namespace {

int interpolation_flag(int interpolation) {
    switch (interpolation) {
        case CVB_INTERP_LINEAR: return cv::INTER_LINEAR;
        case CVB_INTERP_NEAREST: return cv::INTER_NEAREST;
        case CVB_INTERP_AREA: return cv::INTER_AREA;
        case CVB_INTERP_CUBIC: return cv::INTER_CUBIC;
        case CVB_INTERP_LANCZOS: return cv::INTER_LANCZOS4;
        default: throw BridgeError("unknown interpolation");
    }
}

cv::Mat convert_colour(const cv::Mat &src, int order) {
    cv::Mat dst;
    const bool grey = src.channels() == 1;
    switch (order) {
        case CVB_COLOR_GRAY:
            if (grey) return src;
            cv::cvtColor(src, dst, cv::COLOR_BGR2GRAY);
            return dst;
        case CVB_COLOR_RGB:
            cv::cvtColor(src, dst, grey ? cv::COLOR_GRAY2RGB : cv::COLOR_BGR2RGB);
            return dst;
        case CVB_COLOR_BGR:
            if (!grey) return src;
            cv::cvtColor(src, dst, cv::COLOR_GRAY2BGR);
            return dst;
        default: throw BridgeError("unknown colour order");
    }
}

/// Where the geometry puts an image on the input: scaled to width x height, its top-left
/// corner at (left, top) of the input; negative offsets crop, the rest of the input is padding.
struct Layout {
    int width, height, left, top;
};

/// The fit-on-canvas modes' scaled size and position, centred or at the top-left corner.
Layout place(int cols, int rows, double scale, int width, int height, int anchor) {
    const int w = std::max(1, std::min(width, int(std::lround(cols * scale))));
    const int h = std::max(1, std::min(height, int(std::lround(rows * scale))));
    if (anchor == CVB_ANCHOR_TOP_LEFT) return {w, h, 0, 0};
    return {w, h, (width - w) / 2, (height - h) / 2};
}

/// The scale of the fit-on-canvas modes: the largest that fits (letterbox), at most 1 (pad).
double fit_scale(int cols, int rows, const cvb_preprocess &spec) {
    const double fit = std::min(double(spec.width) / cols, double(spec.height) / rows);
    return spec.resize_mode == CVB_RESIZE_PAD ? std::min(1.0, fit) : fit;
}

/// round(d / 2) with ties to even, as Python's round() (torchvision's CenterCrop offsets).
int half_to_even(int d) {
    if (d % 2 == 0) return d / 2;
    const int lower = (d - 1) / 2;
    return lower % 2 == 0 ? lower : lower + 1;
}

/// Python's round(x) for x >= 0: to the nearest integer, ties to even.
int round_half_even(double x) {
    const double lower = std::floor(x);
    const double rest = x - lower;
    if (rest > 0.5) return int(lower) + 1;
    if (rest < 0.5) return int(lower);
    return int(lower) % 2 == 0 ? int(lower) : int(lower) + 1;
}

/// center-crop: scale, keeping aspect ratio, so the image covers (width / F) x (height / F),
/// then cut the centre width x height. The covering side becomes floor(side / F); the other
/// side and the crop's offsets follow one of two conventions:
/// - torchvision (Resize(int) + CenterCrop, timm's crop_pct): the other side is
///   floor(covering * other / covering's original), offsets round((scaled - crop) / 2) with ties
///   to even, so F = 0.875 on a 224 input is Resize(256) + CenterCrop(224);
/// - paddle (PaddleClas' ResizeImage(resize_short) + CropImage): both sides are
///   round(side * covering / covering's original) with ties to even, offsets
///   floor((scaled - crop) / 2).
Layout centre_crop(int cols, int rows, const cvb_preprocess &spec) {
    const int W = spec.width, H = spec.height;
    const double fraction = spec.crop_fraction > 0 ? spec.crop_fraction : 1.0;
    const bool widthCovers = int64_t(W) * rows >= int64_t(H) * cols;
    const int covering = int(std::floor((widthCovers ? W : H) / fraction));
    int w, h;
    if (spec.crop_rounding == CVB_CROP_ROUNDING_PADDLE) {
        const double percent = double(covering) / (widthCovers ? cols : rows);
        w = std::max(W, round_half_even(cols * percent));
        h = std::max(H, round_half_even(rows * percent));
        return {w, h, -((w - W) / 2), -((h - H) / 2)};
    }
    if (widthCovers) {
        w = std::max(W, covering);
        h = std::max(H, int(int64_t(w) * rows / cols));
    } else {
        h = std::max(H, covering);
        w = std::max(W, int(int64_t(h) * cols / rows));
    }
    return {w, h, -half_to_even(w - W), -half_to_even(h - H)};
}

/// fit-height (PaddleOCR's text-line resize): the input's height, width ceil(height * aspect)
/// but at most the input's width (wider lines are squeezed), at the left edge.
Layout fit_height(int cols, int rows, const cvb_preprocess &spec) {
    const double aspect = double(cols) / rows;
    const int w = int(std::min(double(spec.width), std::ceil(spec.height * aspect)));
    return {std::max(1, w), spec.height, 0, 0};
}

Layout layout_for(int cols, int rows, const cvb_preprocess &spec) {
    switch (spec.resize_mode) {
        case CVB_RESIZE_STRETCH: return {spec.width, spec.height, 0, 0};
        case CVB_RESIZE_LETTERBOX:
        case CVB_RESIZE_PAD:
            return place(cols, rows, fit_scale(cols, rows, spec), spec.width, spec.height, spec.anchor);
        case CVB_RESIZE_CENTER_CROP: return centre_crop(cols, rows, spec);
        case CVB_RESIZE_FIT_HEIGHT: return fit_height(cols, rows, spec);
        default: throw BridgeError("unknown resize mode");
    }
}

/// The 8-bit image scaled to width x height, as float pixels.
cv::Mat scaled_floats(const cv::Mat &image, int width, int height, const cvb_preprocess &spec) {
    cv::Mat floats;
    if (spec.antialias) {
        const cv::Mat scaled =
            image.cols == width && image.rows == height ? image : pillow_resize(image, width, height, spec.interpolation);
        scaled.convertTo(floats, CV_32F);
        return floats;
    }
    image.convertTo(floats, CV_32F);
    if (image.cols == width && image.rows == height) return floats;
    cv::Mat dst;
    cv::resize(floats, dst, cv::Size(width, height), 0, 0, interpolation_flag(spec.interpolation));
    // Cubic and Lanczos kernels overshoot at edges; an 8-bit pipeline (cv2.resize on the decoded
    // image) clamps that to 0-255, so the network sees clamped values there too.
    if (spec.interpolation == CVB_INTERP_CUBIC || spec.interpolation == CVB_INTERP_LANCZOS) {
        cv::min(cv::max(dst, 0.0), 255.0, dst);
    }
    return dst;
}

cv::Mat apply_geometry(const cv::Mat &image, const cvb_preprocess &spec) {
    const Layout l = layout_for(image.cols, image.rows, spec);
    cv::Mat scaled = scaled_floats(image, l.width, l.height, spec);
    if (l.left == 0 && l.top == 0 && l.width == spec.width && l.height == spec.height) return scaled;
    cv::Mat canvas(spec.height, spec.width, scaled.type(), cv::Scalar::all(spec.pad_value));
    // The part of the scaled image that lands on the input.
    const int x0 = std::max(0, l.left), y0 = std::max(0, l.top);
    const int x1 = std::min(spec.width, l.left + l.width), y1 = std::min(spec.height, l.top + l.height);
    if (x1 > x0 && y1 > y0) {
        scaled(cv::Rect(x0 - l.left, y0 - l.top, x1 - x0, y1 - y0)).copyTo(canvas(cv::Rect(x0, y0, x1 - x0, y1 - y0)));
    }
    return canvas;
}

}  // namespace

extern "C" {

int cvb_preprocess_image(const cvb_image *image, const cvb_preprocess *spec, float *out,
                         size_t capacity, cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        const cv::Mat &src = require(image);
        if (spec == nullptr) throw BridgeError("no preprocessing spec");
        if (spec->width <= 0 || spec->height <= 0) throw BridgeError("input size must be positive");
        const int channels = spec->color_order == CVB_COLOR_GRAY ? 1 : 3;
        const size_t count = size_t(spec->width) * spec->height * channels;
        if (capacity < count) throw BridgeError("output buffer too small");
        for (int c = 0; c < channels; ++c) {
            if (spec->std[c] == 0) throw BridgeError("std must not be zero");
        }

        cv::Mat geometry = apply_geometry(convert_colour(src, spec->color_order), *spec);
        if (!geometry.isContinuous()) geometry = geometry.clone();

        const size_t plane = size_t(spec->width) * spec->height;
        const float *pixels = geometry.ptr<float>();
        for (size_t i = 0; i < plane; ++i) {
            for (int c = 0; c < channels; ++c) {
                const double value =
                    (double(pixels[i * channels + c]) * spec->scale - spec->mean[c]) / spec->std[c];
                const size_t index =
                    spec->layout == CVB_LAYOUT_NHWC ? i * channels + c : size_t(c) * plane + i;
                out[index] = float(value);
            }
        }
        return 0;
    });
}

cvb_image *cvb_preprocess_view(const cvb_image *image, const cvb_preprocess *spec, cvb_error *error) {
    return guarded<cvb_image *>(error, nullptr, [&]() -> cvb_image * {
        const cv::Mat &src = require(image);
        if (spec == nullptr) throw BridgeError("no preprocessing spec");
        if (spec->width <= 0 || spec->height <= 0) throw BridgeError("input size must be positive");
        const cv::Mat geometry = apply_geometry(convert_colour(src, spec->color_order), *spec);
        cv::Mat bytes;
        geometry.convertTo(bytes, CV_8U);  // rounds and saturates
        if (spec->color_order == CVB_COLOR_RGB) cv::cvtColor(bytes, bytes, cv::COLOR_RGB2BGR);
        return wrap(bytes);
    });
}

int cvb_preprocess_mapping(int image_width, int image_height, const cvb_preprocess *spec, double *scale_x,
                           double *scale_y, double *offset_x, double *offset_y) {
    if (spec == nullptr || image_width <= 0 || image_height <= 0 || spec->width <= 0 || spec->height <= 0) return -1;
    try {
        // The scaled image's actual size (rounded to whole pixels) defines the scale.
        const Layout l = layout_for(image_width, image_height, *spec);
        *scale_x = double(l.width) / image_width;
        *scale_y = double(l.height) / image_height;
        *offset_x = l.left;
        *offset_y = l.top;
        return 0;
    } catch (...) {
        return -1;
    }
}

}  // extern "C"
