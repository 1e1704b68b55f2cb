#include "guarded.hpp"
#include "codec_messages.hpp"
#include "image_check.hpp"

#include <cerrno>
#include <climits>  // also defines __GLIBC__ where it applies
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

using namespace cvbridge;

namespace {
// OpenCV logs warnings and importer errors to stderr as well as reporting them to the caller;
// Vigil reports every failure once, as one line, so OpenCV's own log is silenced at load time.
const bool openCVLogSilenced = [] {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    return true;
}();
}  // namespace

namespace {

/// Scales `source` into `target`'s size. Enlarging: nearest neighbour keeps pixels crisp.
/// Shrinking: area averaging, so noise and fine texture look as they are instead of aliasing.
void resize_for_display(const cv::Mat &source, cv::Mat &target) {
    const bool shrinking = target.cols < source.cols || target.rows < source.rows;
    cv::resize(source, target, target.size(), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_NEAREST);
}

}  // namespace

extern "C" {

const char *cvb_opencv_version(void) { return CV_VERSION; }

void cvb_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

void cvb_set_num_threads(int threads) {
    try {
        // Not while any OpenCV call is running (see thread_pool_lock), and not at all when
        // nothing changes: every call re-creates the thread pool.
        std::unique_lock<std::shared_mutex> pool(cvbridge::thread_pool_lock());
        if (cv::getNumThreads() != threads) cv::setNumThreads(threads);
    } catch (...) {
    }
}

int cvb_get_num_threads(void) {
    try {
        return cv::getNumThreads();
    } catch (...) {
        return -1;
    }
}

cvb_image *cvb_image_read(const char *path, cvb_error *error) {
    return guarded<cvb_image *>(error, nullptr, [&]() -> cvb_image * {
        // The bytes are read here and decoded from memory (what imread does inside), so that
        // their structure can be checked first: see image_check.cpp.
        std::vector<uint8_t> bytes;
        {
            std::unique_ptr<FILE, int (*)(FILE *)> file(std::fopen(path, "rb"), std::fclose);
            if (!file) throw BridgeError(std::string("cannot be read (") + std::strerror(errno) + ")");
            uint8_t chunk[1 << 16];
            size_t count;
            while ((count = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) bytes.insert(bytes.end(), chunk, chunk + count);
            if (std::ferror(file.get())) throw BridgeError(std::string("cannot be read (") + std::strerror(errno) + ")");
        }
        if (bytes.empty()) throw BridgeError("the file is empty");
        check_image_bytes(bytes.data(), bytes.size());
        reset_decoder_messages();
        cv::Mat mat = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
        // A libjpeg warning means corrupt data: the pixels OpenCV returns are partly made up.
        if (const std::string warning = decoder_warning(); !warning.empty()) {
            throw BridgeError("the image data is damaged (libjpeg: " + warning + ")");
        }
        if (mat.empty()) {
            const std::string reason = decoder_error();
            throw BridgeError(reason.empty() ? "cannot decode the image (damaged, or not an image format OpenCV reads)"
                                             : "the image data is damaged (libpng: " + reason + ")");
        }
        if (mat.depth() != CV_8U) {
            throw BridgeError("the image is not 8-bit per channel (convert it to 8-bit PNG or JPEG)");
        }
        if (mat.channels() != 1 && mat.channels() != 3) {
            throw BridgeError("the image has " + std::to_string(mat.channels()) +
                              " channels; Vigil reads 8-bit grey or colour (drop the alpha channel)");
        }
        return wrap(mat);
    });
}

int cvb_image_check_bytes(const uint8_t *bytes, size_t size, cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        check_image_bytes(bytes, size);
        return 0;
    });
}

cvb_image *cvb_image_create(int width, int height, int channels, const uint8_t *pixels,
                            size_t stride, cvb_error *error) {
    return guarded<cvb_image *>(error, nullptr, [&]() -> cvb_image * {
        if (width <= 0 || height <= 0) throw BridgeError("image size must be positive");
        if (channels != 1 && channels != 3) throw BridgeError("channels must be 1 or 3");
        if (pixels == nullptr) throw BridgeError("no pixels");
        cv::Mat view(height, width, CV_8UC(channels), const_cast<uint8_t *>(pixels), stride);
        return wrap(view.clone());
    });
}

void cvb_image_free(cvb_image *image) { delete image; }

int cvb_image_width(const cvb_image *image) { return image ? image->mat.cols : 0; }
int cvb_image_height(const cvb_image *image) { return image ? image->mat.rows : 0; }
int cvb_image_channels(const cvb_image *image) { return image ? image->mat.channels() : 0; }

int cvb_image_copy_pixels(const cvb_image *image, uint8_t *out, size_t capacity, cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        const cv::Mat &mat = require(image);
        size_t bytes = mat.total() * mat.elemSize();
        if (capacity < bytes) throw BridgeError("output buffer too small");
        std::memcpy(out, mat.data, bytes);
        return 0;
    });
}

int cvb_image_write(const cvb_image *image, const char *path, cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        const cv::Mat &mat = require(image);
        if (!cv::imwrite(path, mat)) {
            throw BridgeError(std::string("cannot write ") + path +
                              " (unknown extension or the folder does not exist)");
        }
        return 0;
    });
}

int cvb_image_to_bgra(const cvb_image *image, int width, int height, uint8_t *out, size_t stride,
                      cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        const cv::Mat &mat = require(image);
        if (width <= 0 || height <= 0) throw BridgeError("target size must be positive");
        if (stride < size_t(width) * 4) throw BridgeError("stride too small for BGRA rows");
        cv::Mat bgra;
        cv::cvtColor(mat, bgra, mat.channels() == 1 ? cv::COLOR_GRAY2BGRA : cv::COLOR_BGR2BGRA);
        cv::Mat target(height, width, CV_8UC4, out, stride);
        resize_for_display(bgra, target);
        return 0;
    });
}

cvb_image *cvb_image_resized(const cvb_image *image, int width, int height, cvb_error *error) {
    return guarded<cvb_image *>(error, nullptr, [&]() -> cvb_image * {
        const cv::Mat &mat = require(image);
        if (width <= 0 || height <= 0) throw BridgeError("target size must be positive");
        cv::Mat target(height, width, mat.type());
        resize_for_display(mat, target);
        return wrap(target);
    });
}

}  // extern "C"
