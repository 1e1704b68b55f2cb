// CVBridge: the only code in Vigil that touches OpenCV.
//
// OpenCV reports errors by throwing C++ exceptions. Swift cannot catch those (an exception
// crossing into Swift aborts the process), so every function here catches everything and
// reports failure through a return value plus a human-readable message in `cvb_error`.
// Functions returning a pointer return NULL on failure; functions returning int return 0 on
// success and -1 on failure.
#ifndef VIGIL_CVBRIDGE_H
#define VIGIL_CVBRIDGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One line describing what went wrong, always NUL-terminated.
typedef struct cvb_error {
    char message[1024];
} cvb_error;

// MARK: - Version and threads

/// OpenCV's version string, e.g. "4.6.0".
const char *cvb_opencv_version(void);
/// Sets OpenCV's internal thread pool size (cv::setNumThreads). Process-wide.
void cvb_set_num_threads(int threads);
int cvb_get_num_threads(void);
/// glibc only (elsewhere nothing): blocks up to 32 MB come from the heap instead of their own
/// mappings, and freed memory is kept for reuse instead of being returned to the system.
void cvb_keep_freed_memory(void);

// MARK: - Images

/// An owned 8-bit image with 1 (grey) or 3 (BGR) channels.
typedef struct cvb_image cvb_image;

/// Decodes an image file. Rejects anything that is not 8-bit grey or 8-bit BGR.
cvb_image *cvb_image_read(const char *path, cvb_error *error);
/// Checks the structure of an image file's bytes (truncated or damaged JPEG or PNG, alpha
/// channel, declared size) without decoding it; 0 when nothing is wrong.
int cvb_image_check_bytes(const uint8_t *bytes, size_t size, cvb_error *error);
/// Wraps a copy of raw 8-bit pixels (rows of `width * channels` bytes, `stride` apart).
cvb_image *cvb_image_create(int width, int height, int channels, const uint8_t *pixels,
                            size_t stride, cvb_error *error);
void cvb_image_free(cvb_image *image);
int cvb_image_width(const cvb_image *image);
int cvb_image_height(const cvb_image *image);
int cvb_image_channels(const cvb_image *image);
/// Copies the pixels into `out` (rows of `width * channels` bytes, tightly packed).
int cvb_image_copy_pixels(const cvb_image *image, uint8_t *out, size_t capacity, cvb_error *error);
/// Encodes to a file; the format follows the extension (.png recommended: lossless).
int cvb_image_write(const cvb_image *image, const char *path, cvb_error *error);
/// Writes a PNG quickly (a few ms per megapixel; see png.cpp): for report pictures.
int cvb_image_write_png(const cvb_image *image, const char *path, cvb_error *error);
/// The same for opaque BGRA pixels (a Cairo ARGB32 surface), rows `stride` bytes apart.
int cvb_write_png_bgra(const uint8_t *pixels, int width, int height, size_t stride, const char *path,
                       cvb_error *error);
/// Writes the image as premultiplied BGRA (Cairo's ARGB32 on little-endian machines), scaled
/// to `width` x `height`: nearest-neighbour when enlarging (pixels stay visible), area
/// averaging when shrinking.
int cvb_image_to_bgra(const cvb_image *image, int width, int height, uint8_t *out,
                      size_t stride, cvb_error *error);
/// A copy scaled to `width` x `height` the same way (for thumbnails).
cvb_image *cvb_image_resized(const cvb_image *image, int width, int height, cvb_error *error);

// MARK: - Scenarios (deterministic: same input, parameters and seed give identical bytes)

/// Camera low light: linearise (sRGB), scale by `exposure` (times `channel_gains[c]` per BGR
/// channel for a colour cast; NULL for none; grey images get the gains' luminance), draw
/// photo-electrons from a Poisson distribution with `full_well` electrons at full scale, add
/// Gaussian read noise of `read_noise` electrons, re-encode with the sRGB curve and quantise to
/// `bits` bits.
cvb_image *cvb_low_light(const cvb_image *image, double exposure, const double *channel_gains,
                         double full_well, double read_noise, int bits, uint64_t seed, cvb_error *error);
/// Linear motion blur: a line kernel of `length` pixels at `angle_degrees`.
cvb_image *cvb_motion_blur(const cvb_image *image, double length, double angle_degrees,
                           cvb_error *error);
/// Occluding rectangles of random solid colour until at least `area_share` of the image is
/// covered. `max_patches` bounds how many rectangles are drawn.
cvb_image *cvb_occlusion(const cvb_image *image, double area_share, int max_patches,
                         uint64_t seed, cvb_error *error);
/// Occludes each box (`box_count` boxes of x, y, width, height in `boxes`) by one rectangle of
/// seeded random solid colour covering `box_share` of the box's area (rounded up to whole
/// pixels), with a seeded aspect and position inside the box.
cvb_image *cvb_object_occlusion(const cvb_image *image, const double *boxes, int box_count, double box_share,
                                uint64_t seed, cvb_error *error);
/// Resolution loss: area-downscale to `factor` of each side, then bilinear upscale back.
cvb_image *cvb_downscale(const cvb_image *image, double factor, cvb_error *error);
/// Rotation about the image centre by `angle_degrees` (counter-clockwise), bilinear, edges
/// replicated; the size stays the same.
cvb_image *cvb_rotate(const cvb_image *image, double angle_degrees, cvb_error *error);

/// The ImageNet-C corruptions (Hendrycks & Dietterich 2019) with the parameters of PyPI's
/// `imagecorruptions` 1.1.2, in its order: the 15 benchmark corruptions, then 4 extra ones.
int cvb_corruption_count(void);
/// The reference's name (e.g. "gaussian_noise"), group and a one-line summary; NULL when
/// `index` is out of range. The strings are static.
const char *cvb_corruption_name(int index);
const char *cvb_corruption_group(int index);
const char *cvb_corruption_summary(int index);
/// Writes the parameters at `severity` (1...5) as one line; 0 on success.
int cvb_corruption_parameters(int index, int severity, char *out, size_t capacity);
/// Applies corruption `index` at `severity` (1...5). The image must be at least 32x32 pixels;
/// the output has the same size and channels.
cvb_image *cvb_corrupt(const cvb_image *image, int index, int severity, uint64_t seed, cvb_error *error);

/// Uniform doubles in [0, 1) from the bridge's generator, for tests of determinism and range.
void cvb_random_uniform(uint64_t seed, double *out, size_t count);
/// Standard normal doubles from the bridge's generator (its ziggurat), for tests of the
/// distribution.
void cvb_random_normal(uint64_t seed, double *out, size_t count);
/// Poisson counts of `mean` as low-light draws them (inversion of a table), for tests.
void cvb_random_poisson(uint64_t seed, double mean, int *out, size_t count);

// MARK: - Preprocessing (model input tensors)

enum {
    CVB_RESIZE_STRETCH = 0,
    CVB_RESIZE_PAD = 1,
    CVB_RESIZE_LETTERBOX = 2,
    CVB_RESIZE_CENTER_CROP = 3,
    CVB_RESIZE_FIT_HEIGHT = 4,
};
enum {
    CVB_COLOR_GRAY = 0,
    CVB_COLOR_RGB = 1,
    CVB_COLOR_BGR = 2,
};
enum {
    CVB_INTERP_LINEAR = 0,
    CVB_INTERP_NEAREST = 1,
    CVB_INTERP_AREA = 2,
    CVB_INTERP_CUBIC = 3,
    CVB_INTERP_LANCZOS = 4,
};
enum {
    CVB_CROP_ROUNDING_TORCHVISION = 0, // other side floor(), offsets round half to even
    CVB_CROP_ROUNDING_PADDLE = 1,      // other side round half to even, offsets floor()
};
enum {
    CVB_LAYOUT_NCHW = 0,
    CVB_LAYOUT_NHWC = 1,
};

enum {
    CVB_ANCHOR_CENTER = 0,
    CVB_ANCHOR_TOP_LEFT = 1,
};

typedef struct cvb_preprocess {
    int width;
    int height;
    int color_order;   // CVB_COLOR_*; grey means 1 channel, the others 3
    int resize_mode;   // CVB_RESIZE_*
    int interpolation; // CVB_INTERP_*
    int layout;        // CVB_LAYOUT_*
    int anchor;        // CVB_ANCHOR_*: where pad and letterbox place the image on the canvas
    double pad_value;  // in input pixel units (0-255), for pad, letterbox and fit-height
    double crop_fraction; // center-crop: the crop's share of the scaled image's side, (0, 1]
    int crop_rounding; // center-crop: CVB_CROP_ROUNDING_*
    int antialias;     // 1: resample 8-bit pixels as Pillow does (widened filter when shrinking)
    double scale;      // applied first: x * scale
    double mean[3];    // then (x * scale - mean[c]) / std[c], in the model's channel order
    double std[3];
} cvb_preprocess;

/// Converts one image into one input tensor of `width * height * channels` floats.
int cvb_preprocess_image(const cvb_image *image, const cvb_preprocess *spec, float *out,
                         size_t capacity, cvb_error *error);
/// The image as preprocessing hands it to the network before `scale`, `mean` and `std`: colour
/// conversion and geometry only, rounded to 8 bits, in BGR (or grey) for display. Reports show
/// it as "what the model saw".
cvb_image *cvb_preprocess_view(const cvb_image *image, const cvb_preprocess *spec, cvb_error *error);
/// How preprocessing maps an image of `image_width` x `image_height` onto the input: a point
/// (x, y) of the image lands at (x * scale_x + offset_x, y * scale_y + offset_y). Detectors use
/// it to map boxes back. Returns 0, or -1 for an invalid spec.
int cvb_preprocess_mapping(int image_width, int image_height, const cvb_preprocess *spec, double *scale_x,
                           double *scale_y, double *offset_x, double *offset_y);

// A semantic segmentation output (classes score maps of map_width x map_height, planar) as one
// class index per image pixel: each map resized (bilinear) to the network input, the rectangle
// (left, top, placed_width, placed_height) where preprocessing put the image cut out and resized
// to image_width x image_height, then the argmax per pixel; with one class, score > threshold.
// out holds image_width * image_height bytes. 0 on success.
int cvb_segmentation_decode(const float *scores, int classes, int map_width, int map_height, int input_width,
                            int input_height, int left, int top, int placed_width, int placed_height, int image_width,
                            int image_height, double threshold, uint8_t *out, cvb_error *error);

// MARK: - DNN

typedef struct cvb_net cvb_net;

/// Loads an ONNX model with OpenCV DNN (CPU, OpenCV backend). One net per thread: a net
/// is not safe to use from two threads at once.
cvb_net *cvb_net_load_onnx(const char *path, cvb_error *error);
void cvb_net_free(cvb_net *net);
/// Runs a forward pass on a batch. `input` holds `n * c * h * w` floats in the order given by
/// `shape` (4 dimensions, e.g. {n, c, h, w} or {n, h, w, c}). On success the output is copied to
/// `output` and its element count per sample is written to `per_sample`.
int cvb_net_forward(cvb_net *net, const float *input, const int *shape, float *output,
                    size_t capacity, size_t *per_sample, cvb_error *error);

/// OpenCV's own accounting of what the network holds for an input of `shape` (4 dimensions, as
/// for cvb_net_forward): its weights and its intermediate blobs, in bytes
/// (Net::getMemoryConsumption).
int cvb_net_memory(cvb_net *net, const int *shape, size_t *weights, size_t *blobs, cvb_error *error);

// MARK: - Detection

/// One detected object: a box in the input image's pixels (x, y of the top-left corner), a
/// score (higher is more confident) and a class index.
typedef struct cvb_detection {
    double x;
    double y;
    double width;
    double height;
    double score;
    int class_index;
} cvb_detection;

// MARK: - Cascade classifiers

typedef struct cvb_cascade cvb_cascade;

typedef struct cvb_cascade_settings {
    double scale_factor;     // > 1: how much the image shrinks between scales
    int min_neighbors;       // windows an object needs to be reported
    int min_size;            // smallest object side in pixels (0: the cascade's window)
    int max_size;            // largest object side in pixels (0: no limit)
    int equalize_histogram;  // 1: cv::equalizeHist on the grey image first
} cvb_cascade_settings;

/// Loads a Haar or LBP cascade XML file. One cascade per thread.
cvb_cascade *cvb_cascade_load(const char *path, cvb_error *error);
void cvb_cascade_free(cvb_cascade *cascade);
/// Detects objects in a grey or BGR image (converted to grey). Each detection's score is the
/// number of raw windows OpenCV grouped into it (detectMultiScale's `numDetections`). Writes
/// up to `capacity` detections and their total number to `count`: when `count` exceeds
/// `capacity`, nothing was written and the caller retries with more room.
int cvb_cascade_detect(cvb_cascade *cascade, const cvb_image *image, const cvb_cascade_settings *settings,
                       cvb_detection *out, size_t capacity, size_t *count, cvb_error *error);

/// Runs a forward pass and returns every output of the graph, in the order of
/// getUnconnectedOutLayersNames(), one after the other in `output`. For output k,
/// `shapes[k * 8]` receives its number of dimensions (at most 7) and the following entries its
/// dimensions. `output_count` receives the number of outputs and `total` the number of floats
/// (also when they do not fit in `capacity`; then nothing is copied and the call fails).
int cvb_net_forward_outputs(cvb_net *net, const float *input, const int *shape, float *output,
                            size_t capacity, int *shapes, int max_outputs, int *output_count,
                            size_t *total, cvb_error *error);

#ifdef __cplusplus
}
#endif

#endif
