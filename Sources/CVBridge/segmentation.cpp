// Semantic segmentation outputs back on the image's pixels, as mmsegmentation's post-processing
// does: each class's score map resized (bilinear, half-pixel centres) to the network input, the
// part of the input the image was placed on cut out (padding dropped), that resized to the
// image's size, then the argmax over classes per pixel (one-channel maps: score > threshold).
#include "guarded.hpp"

#include <opencv2/imgproc.hpp>

using namespace cvbridge;

extern "C" {

int cvb_segmentation_decode(const float *scores, int classes, int map_width, int map_height, int input_width,
                            int input_height, int left, int top, int placed_width, int placed_height, int image_width,
                            int image_height, double threshold, uint8_t *out, cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        if (scores == nullptr || out == nullptr || classes < 1 || classes > 256) throw BridgeError("1 to 256 classes");
        if (map_width < 1 || map_height < 1 || input_width < 1 || input_height < 1 || image_width < 1 || image_height < 1) {
            throw BridgeError("sizes must be positive");
        }
        if (left < 0 || top < 0 || placed_width < 1 || placed_height < 1 || left + placed_width > input_width ||
            top + placed_height > input_height) {
            throw BridgeError("the image's place is not inside the network input");
        }
        const cv::Rect placed(left, top, placed_width, placed_height);
        const size_t pixels = size_t(image_width) * size_t(image_height);
        // The image's pixels' scores for one class.
        auto plane = [&](int c) {
            cv::Mat map(map_height, map_width, CV_32F, const_cast<float *>(scores) + size_t(c) * map_width * map_height);
            cv::Mat input = map;
            if (map_width != input_width || map_height != input_height) {
                cv::resize(map, input, cv::Size(input_width, input_height), 0, 0, cv::INTER_LINEAR);
            }
            cv::Mat cut = input(placed);
            cv::Mat image;
            if (placed_width == image_width && placed_height == image_height) {
                image = cut.clone();
            } else {
                cv::resize(cut, image, cv::Size(image_width, image_height), 0, 0, cv::INTER_LINEAR);
            }
            return image;
        };
        if (classes == 1) {
            const cv::Mat p = plane(0);
            for (int y = 0; y < image_height; ++y) {
                const float *row = p.ptr<float>(y);
                for (int x = 0; x < image_width; ++x) out[size_t(y) * image_width + x] = row[x] > threshold ? 1 : 0;
            }
            return 0;
        }
        cv::Mat best = plane(0);
        std::fill(out, out + pixels, uint8_t(0));
        for (int c = 1; c < classes; ++c) {
            const cv::Mat p = plane(c);
            for (int y = 0; y < image_height; ++y) {
                const float *row = p.ptr<float>(y);
                float *top_row = best.ptr<float>(y);
                uint8_t *labels = out + size_t(y) * image_width;
                // Strictly greater: ties go to the lower class, as numpy's and torch's argmax.
                for (int x = 0; x < image_width; ++x) {
                    if (row[x] > top_row[x]) {
                        top_row[x] = row[x];
                        labels[x] = uint8_t(c);
                    }
                }
            }
        }
        return 0;
    });
}

}  // extern "C"
