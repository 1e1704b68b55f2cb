#include "guarded.hpp"

#include <opencv2/dnn.hpp>

#include <fstream>

using namespace cvbridge;

struct cvb_net {
    cv::dnn::Net net;
};

extern "C" {

cvb_net *cvb_net_load_onnx(const char *path, cvb_error *error) {
    return guarded<cvb_net *>(error, nullptr, [&]() -> cvb_net * {
        if (!std::ifstream(path).good()) throw BridgeError("the file does not exist or cannot be read");
        auto *handle = new cvb_net;
        try {
            handle->net = cv::dnn::readNetFromONNX(path);
            if (handle->net.empty()) throw BridgeError("OpenCV loaded an empty network");
            handle->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
            handle->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        } catch (...) {
            delete handle;
            throw;
        }
        return handle;
    });
}

void cvb_net_free(cvb_net *net) { delete net; }

int cvb_net_forward(cvb_net *net, const float *input, const int *shape, float *output,
                    size_t capacity, size_t *per_sample, cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        if (net == nullptr) throw BridgeError("no network");
        if (shape[0] <= 0) throw BridgeError("empty batch");
        cv::Mat blob(4, shape, CV_32F, const_cast<float *>(input));
        net->net.setInput(blob);
        cv::Mat result = net->net.forward();
        if (result.depth() != CV_32F) throw BridgeError("the network's output is not float32");
        if (!result.isContinuous()) result = result.clone();
        const size_t total = result.total();
        if (result.dims < 1 || result.size[0] != shape[0] || total % size_t(shape[0]) != 0) {
            throw BridgeError("the network's output does not have one row per input image");
        }
        *per_sample = total / size_t(shape[0]);  // reported even when it does not fit
        if (total > capacity) {
            throw BridgeError("the network produces " + std::to_string(*per_sample) +
                              " values per image, more than expected");
        }
        std::memcpy(output, result.ptr<float>(), total * sizeof(float));
        return 0;
    });
}

int cvb_net_memory(cvb_net *net, const int *shape, size_t *weights, size_t *blobs, cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        if (net == nullptr) throw BridgeError("no network");
        const cv::dnn::MatShape input(shape, shape + 4);
        size_t w = 0, b = 0;
        net->net.getMemoryConsumption(input, w, b);
        *weights = w;
        *blobs = b;
        return 0;
    });
}

int cvb_net_forward_outputs(cvb_net *net, const float *input, const int *shape, float *output,
                            size_t capacity, int *shapes, int max_outputs, int *output_count,
                            size_t *total, cvb_error *error) {
    return guarded<int>(error, -1, [&]() -> int {
        if (net == nullptr) throw BridgeError("no network");
        if (shape[0] <= 0) throw BridgeError("empty batch");
        cv::Mat blob(4, shape, CV_32F, const_cast<float *>(input));
        net->net.setInput(blob);
        std::vector<cv::Mat> results;
        net->net.forward(results, net->net.getUnconnectedOutLayersNames());
        *output_count = int(results.size());
        size_t sum = 0;
        for (const auto &result : results) sum += result.total();
        *total = sum;
        if (int(results.size()) > max_outputs) {
            throw BridgeError("the network has " + std::to_string(results.size()) + " outputs, more than " +
                              std::to_string(max_outputs));
        }
        if (sum > capacity) throw BridgeError("the network's outputs do not fit the buffer");
        size_t offset = 0;
        for (size_t k = 0; k < results.size(); ++k) {
            cv::Mat result = results[k];
            if (result.depth() != CV_32F) throw BridgeError("output " + std::to_string(k) + " is not float32");
            if (!result.isContinuous()) result = result.clone();
            if (result.dims > 7) throw BridgeError("output " + std::to_string(k) + " has more than 7 dimensions");
            shapes[k * 8] = result.dims;
            for (int d = 0; d < result.dims; ++d) shapes[k * 8 + 1 + d] = result.size[d];
            std::memcpy(output + offset, result.ptr<float>(), result.total() * sizeof(float));
            offset += result.total();
        }
        return 0;
    });
}

}  // extern "C"
