// Internal: the exception firewall every extern "C" entry point goes through.
#pragma once

#include "CVBridge.h"

#include <opencv2/core.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <shared_mutex>
#include <string>

struct cvb_image {
    cv::Mat mat;  // CV_8UC1 or CV_8UC3 (BGR), always continuous
};

namespace cvbridge {

/// Writes `text` as one line into `error` (newlines folded into spaces; truncated to fit).
inline void set_error(cvb_error *error, const std::string &text) {
    if (error == nullptr) return;
    std::string line;
    line.reserve(text.size());
    bool lastSpace = false;
    for (char ch : text) {
        bool space = ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ';
        if (space) {
            if (!lastSpace && !line.empty()) line.push_back(' ');
        } else {
            line.push_back(ch);
        }
        lastSpace = space;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::snprintf(error->message, sizeof(error->message), "%s", line.c_str());
}

/// OpenCV's own description without its file/line prefix, which means nothing to users.
inline std::string describe(const cv::Exception &e) {
    std::string text = e.err.empty() ? std::string(e.what()) : e.err;
    if (!e.func.empty()) text += " (OpenCV " + e.func + ")";
    return text;
}

/// Held shared by every call into OpenCV (`guarded`) and exclusively by `cvb_set_num_threads`:
/// with the TBB backend, cv::setNumThreads terminates and re-creates TBB's task arena, and a
/// parallel loop running in it on another thread at that moment crashes inside libtbb (seen in
/// the test process, where suites run side by side and each run sets its thread count).
inline std::shared_mutex &thread_pool_lock() {
    static std::shared_mutex lock;
    return lock;
}

/// Runs `body`, converting every exception into `failure` plus a message.
template <typename Result, typename Body>
Result guarded(cvb_error *error, Result failure, Body &&body) {
    std::shared_lock<std::shared_mutex> pool(thread_pool_lock());
    try {
        return body();
    } catch (const cv::Exception &e) {
        set_error(error, describe(e));
    } catch (const std::bad_alloc &) {
        set_error(error, "out of memory");
    } catch (const std::exception &e) {
        set_error(error, e.what());
    } catch (...) {
        set_error(error, "unknown C++ exception");
    }
    return failure;
}

/// Raised inside guarded bodies for input problems detected by the bridge itself.
struct BridgeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

inline cvb_image *wrap(cv::Mat mat) {
    auto *image = new cvb_image;
    image->mat = mat.isContinuous() ? mat : mat.clone();
    return image;
}

inline const cv::Mat &require(const cvb_image *image) {
    if (image == nullptr || image->mat.empty()) throw BridgeError("no image");
    return image->mat;
}

}  // namespace cvbridge
