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

/// Places `src` scaled by `scale` at the centre of a width x height canvas of `pad` value.
cv::Mat fit_on_canvas(const cv::Mat &src, double scale, int width, int height, double pad,
                      int interpolation) {
    const int w = std::max(1, std::min(width, int(std::lround(src.cols * scale))));
    const int h = std::max(1, std::min(height, int(std::lround(src.rows * scale))));
    cv::Mat canvas(height, width, src.type(), cv::Scalar::all(pad));
    resized(src, w, h, interpolation).copyTo(canvas(cv::Rect((width - w) / 2, (height - h) / 2, w, h)));
    return canvas;
}

cv::Mat apply_geometry(const cv::Mat &src, const cvb_preprocess &spec) {
    const int W = spec.width, H = spec.height;
    const int interpolation = interpolation_flag(spec.interpolation);
    const double fit = std::min(double(W) / src.cols, double(H) / src.rows);
    switch (spec.resize_mode) {
        case CVB_RESIZE_STRETCH:
            return resized(src, W, H, interpolation);
        case CVB_RESIZE_LETTERBOX:
            return fit_on_canvas(src, fit, W, H, spec.pad_value, interpolation);
        case CVB_RESIZE_PAD:
            return fit_on_canvas(src, std::min(1.0, fit), W, H, spec.pad_value, interpolation);
        case CVB_RESIZE_CENTER_CROP: {
            const double cover = std::max(double(W) / src.cols, double(H) / src.rows);
            const int w = std::max(W, int(std::lround(src.cols * cover)));
            const int h = std::max(H, int(std::lround(src.rows * cover)));
            cv::Mat scaled = resized(src, w, h, interpolation);
            return scaled(cv::Rect((w - W) / 2, (h - H) / 2, W, H)).clone();
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

}  // extern "C"
