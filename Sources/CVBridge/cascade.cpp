// OpenCV cascade classifiers (Haar, LBP) as detectors.
#include "guarded.hpp"

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <fstream>

using namespace cvbridge;

struct cvb_cascade {
    cv::CascadeClassifier classifier;
};

extern "C" {

cvb_cascade *cvb_cascade_load(const char *path, cvb_error *error) {
    return guarded<cvb_cascade *>(error, nullptr, [&]() -> cvb_cascade * {
        if (!std::ifstream(path).good()) throw BridgeError("the file does not exist or cannot be read");
        const std::string refusal = "not a cascade classifier OpenCV can read (expected a Haar or LBP cascade XML file)";
        auto *handle = new cvb_cascade;
        bool loaded = false;
        try {
            loaded = handle->classifier.load(path);
        } catch (const cv::Exception &e) {
            delete handle;
            throw BridgeError(refusal + ": " + describe(e));
        } catch (...) {
            delete handle;
            throw;
        }
        if (!loaded || handle->classifier.empty()) {
            delete handle;
            throw BridgeError(refusal);
        }
        return handle;
    });
}

void cvb_cascade_free(cvb_cascade *cascade) { delete cascade; }

int cvb_cascade_detect(cvb_cascade *cascade, const cvb_image *image, const cvb_cascade_settings *settings,
                       cvb_detection *out, size_t capacity, size_t *count, cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        if (cascade == nullptr) throw BridgeError("no cascade");
        const cv::Mat &pixels = require(image);
        cv::Mat grey;
        if (pixels.channels() == 3) {
            cv::cvtColor(pixels, grey, cv::COLOR_BGR2GRAY);
        } else {
            grey = pixels;
        }
        if (settings->equalize_histogram) {
            cv::Mat equalized;
            cv::equalizeHist(grey, equalized);
            grey = equalized;
        }
        std::vector<cv::Rect> objects;
        std::vector<int> neighbours;
        cv::Size minSize(settings->min_size, settings->min_size);
        cv::Size maxSize(settings->max_size, settings->max_size);
        // This overload (detectMultiScale2 in OpenCV's Python binding) groups the raw windows and
        // reports, per object, how many were merged into it: the score Vigil uses.
        cascade->classifier.detectMultiScale(grey, objects, neighbours, settings->scale_factor,
                                             settings->min_neighbors, 0, minSize, maxSize);
        *count = objects.size();
        if (objects.size() > capacity) return 0;  // the caller retries with room for *count
        for (size_t i = 0; i < objects.size(); ++i) {
            out[i].x = objects[i].x;
            out[i].y = objects[i].y;
            out[i].width = objects[i].width;
            out[i].height = objects[i].height;
            out[i].score = neighbours[i];
            out[i].class_index = 0;
        }
        return 0;
    });
}

}  // extern "C"
