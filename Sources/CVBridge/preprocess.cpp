// Model input preparation, shared by every model that runs through the OpenCV DNN backend.
//
// Order: colour conversion, then conversion to float, then geometry (resize/pad/crop), then
// per-channel (x * scale - mean) / std. Geometry works on float pixels so that no 8-bit rounding
// happens between decoding and the network.
#include "guarded.hpp"

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

cv::Mat resized(const cv::Mat &src, int width, int height, int interpolation) {
    if (src.cols == width && src.rows == height) return src;
    cv::Mat dst;
    cv::resize(src, dst, cv::Size(width, height), 0, 0, interpolation);
    return dst;
}

/// Where a fit-on-canvas mode puts the image: its scaled size and its top-left corner.
struct Placement {
    int width, height, left, top;
};

Placement place(int cols, int rows, double scale, int width, int height, int anchor) {
    const int w = std::max(1, std::min(width, int(std::lround(cols * scale))));
    const int h = std::max(1, std::min(height, int(std::lround(rows * scale))));
    if (anchor == CVB_ANCHOR_TOP_LEFT) return {w, h, 0, 0};
    return {w, h, (width - w) / 2, (height - h) / 2};
}

/// Places `src` scaled by `scale` on a width x height canvas of `pad` value, centred or at
/// the top-left corner.
cv::Mat fit_on_canvas(const cv::Mat &src, double scale, int width, int height, double pad,
                      int interpolation, int anchor) {
    const Placement p = place(src.cols, src.rows, scale, width, height, anchor);
    cv::Mat canvas(height, width, src.type(), cv::Scalar::all(pad));
    resized(src, p.width, p.height, interpolation).copyTo(canvas(cv::Rect(p.left, p.top, p.width, p.height)));
    return canvas;
}

/// The scale of the fit-on-canvas modes: the largest that fits (letterbox), at most 1 (pad).
double fit_scale(int cols, int rows, const cvb_preprocess &spec) {
    const double fit = std::min(double(spec.width) / cols, double(spec.height) / rows);
    return spec.resize_mode == CVB_RESIZE_PAD ? std::min(1.0, fit) : fit;
}

/// The centre-crop mode's scaled size: the image scaled to cover width x height, keeping
/// aspect ratio; the crop is its centre.
cv::Size cover_size(int cols, int rows, int width, int height) {
    const double cover = std::max(double(width) / cols, double(height) / rows);
    return {std::max(width, int(std::lround(cols * cover))), std::max(height, int(std::lround(rows * cover)))};
}

cv::Mat apply_geometry(const cv::Mat &src, const cvb_preprocess &spec) {
    const int W = spec.width, H = spec.height;
    const int interpolation = interpolation_flag(spec.interpolation);
    switch (spec.resize_mode) {
        case CVB_RESIZE_STRETCH:
            return resized(src, W, H, interpolation);
        case CVB_RESIZE_LETTERBOX:
        case CVB_RESIZE_PAD:
            return fit_on_canvas(src, fit_scale(src.cols, src.rows, spec), W, H, spec.pad_value, interpolation,
                                 spec.anchor);
        case CVB_RESIZE_CENTER_CROP: {
            const cv::Size size = cover_size(src.cols, src.rows, W, H);
            cv::Mat scaled = resized(src, size.width, size.height, interpolation);
            return scaled(cv::Rect((size.width - W) / 2, (size.height - H) / 2, W, H)).clone();
        }
        default: throw BridgeError("unknown resize mode");
    }
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

        cv::Mat colour = convert_colour(src, spec->color_order);
        cv::Mat floats;
        colour.convertTo(floats, CV_32F);
        cv::Mat geometry = apply_geometry(floats, *spec);
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

int cvb_preprocess_mapping(int image_width, int image_height, const cvb_preprocess *spec, double *scale_x,
                           double *scale_y, double *offset_x, double *offset_y) {
    if (spec == nullptr || image_width <= 0 || image_height <= 0 || spec->width <= 0 || spec->height <= 0) return -1;
    const int W = spec->width, H = spec->height;
    switch (spec->resize_mode) {
        case CVB_RESIZE_STRETCH:
            *scale_x = double(W) / image_width;
            *scale_y = double(H) / image_height;
            *offset_x = *offset_y = 0;
            return 0;
        case CVB_RESIZE_LETTERBOX:
        case CVB_RESIZE_PAD: {
            const Placement p = place(image_width, image_height, fit_scale(image_width, image_height, *spec), W, H,
                                      spec->anchor);
            // The scaled image's actual size (rounded to whole pixels) defines the scale.
            *scale_x = double(p.width) / image_width;
            *scale_y = double(p.height) / image_height;
            *offset_x = p.left;
            *offset_y = p.top;
            return 0;
        }
        case CVB_RESIZE_CENTER_CROP: {
            const cv::Size size = cover_size(image_width, image_height, W, H);
            *scale_x = double(size.width) / image_width;
            *scale_y = double(size.height) / image_height;
            *offset_x = -double((size.width - W) / 2);
            *offset_y = -double((size.height - H) / 2);
            return 0;
        }
        default: return -1;
    }
}

}  // extern "C"
