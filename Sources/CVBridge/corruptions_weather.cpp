// ImageNet-C weather corruptions with the parameters of `imagecorruptions` 1.1.2: snow, frost,
// fog and spatter, plus elastic_transform (a digital corruption that shares their random fields
// and resampling code).
//
// Each follows the reference's arithmetic step by step (float32 where the reference computes in
// float32, float64 where it does) and truncates to 8 bits at the end like numpy's uint8 cast.
// Random draws come from the caller's generator in the reference's order (whole fields row by
// row), so results have the reference's distribution but not its pixels. Deliberate differences:
// - frost: the reference blends in a random crop of one of its bundled frost photographs. We
//   ship none and generate, at the image's size, a texture of clouded ice with branching
//   crystals, tinted bluish white, whose mean colour and contrast match those of the photographs'
//   crops. The blend weights per severity are the reference's.
// - fog: the reference's diamond-square plasma fractal, on the same power-of-two map, drawn from
//   our generator.
// - spatter: where no liquid survives the threshold (possible on tiny images), the reference
//   divides zero by zero and returns a black image; we return the image unchanged.
// - grey input: the reference's corrupt() makes three equal channels and returns three; we
//   return one. Snow, fog and elastic_transform treat channels alike or use the grey value itself
//   (the luma of equal channels), so they run on the one channel with the same result. Frost and
//   spatter follow the reference's own grey branch: the image plus the luma (weights 0.2989,
//   0.5870, 0.1140) of the colour layer the colour branch would add.
#include "transforms.hpp"

#include <cstdio>

namespace cvbridge {
namespace {

// MARK: shared pieces

/// The reference's rgb2gray weights, for the grey branches.
constexpr double kLumaRed = 0.2989, kLumaGreen = 0.5870, kLumaBlue = 0.1140;

/// `np.random.normal(mean, sd, (rows, cols))`, drawn row by row.
cv::Mat normal_field(int rows, int cols, double mean, double sd, Random &random) {
    cv::Mat field(rows, cols, CV_64F);
    for (int y = 0; y < rows; ++y) {
        double *row = field.ptr<double>(y);
        for (int x = 0; x < cols; ++x) row[x] = mean + sd * random.normal();
    }
    return field;
}

/// `np.random.uniform(lo, hi, (rows, cols))`, drawn row by row.
cv::Mat uniform_field(int rows, int cols, double lo, double hi, Random &random) {
    cv::Mat field(rows, cols, CV_64F);
    for (int y = 0; y < rows; ++y) {
        double *row = field.ptr<double>(y);
        for (int x = 0; x < cols; ++x) row[x] = random.uniform(lo, hi);
    }
    return field;
}

/// scipy's Gaussian kernel: radius int(truncate * sigma + 0.5), normalised to sum 1.
cv::Mat gaussian_kernel(double sigma, double truncate) {
    const int radius = int(truncate * sigma + 0.5);
    cv::Mat kernel(2 * radius + 1, 1, CV_64F);
    for (int i = -radius; i <= radius; ++i) kernel.at<double>(i + radius) = std::exp(-0.5 * i * i / (sigma * sigma));
    return kernel / cv::sum(kernel)[0];
}

/// `skimage.filters.gaussian(field, (sigmaRows, sigmaCols), mode='reflect', truncate=3)`: scipy's
/// 'reflect' is half-sample symmetric (dcba|abcd|dcba), which is OpenCV's BORDER_REFLECT.
cv::Mat gaussian_reflect(const cv::Mat &field, double sigmaRows, double sigmaCols) {
    cv::Mat out;
    cv::sepFilter2D(field, out, CV_64F, gaussian_kernel(sigmaCols, 3), gaussian_kernel(sigmaRows, 3), cv::Point(-1, -1),
                    0, cv::BORDER_REFLECT);
    return out;
}

// MARK: snow

struct SnowParameters {
    double mean, sd;       // of the flake noise
    double zoom;           // enlargement of the noise into clumps
    double threshold;      // noise below it is no flake
    int blurRadius;        // of the streaking motion blur
    double blurSigma;
    double imageWeight;    // of the image against its whitened version
};
constexpr SnowParameters kSnow[5] = {{0.1, 0.3, 3, 0.5, 10, 4, 0.8},
                                     {0.2, 0.3, 2, 0.5, 12, 4, 0.7},
                                     {0.55, 0.3, 4, 0.9, 12, 8, 0.7},
                                     {0.55, 0.3, 4.5, 0.85, 12, 8, 0.65},
                                     {0.55, 0.3, 2.5, 0.85, 12, 12, 0.55}};

cv::Mat snow(const cv::Mat &image, int severity, Random &random) {
    const auto p = kSnow[severity - 1];
    const int rows = image.rows, cols = image.cols, channels = image.channels();
    const cv::Mat x = to_unit(image, CV_32F);

    // Flakes: noise enlarged into clumps (the zoom keeps at least the image's size), thresholded,
    // clipped and streaked downwards by a motion blur at a random angle.
    cv::Mat flakes = clipped_zoom(normal_field(rows, cols, p.mean, p.sd, random), p.zoom);
    flakes.forEach<double>([&p](double &v, const int *) { v = v < p.threshold ? 0.0 : std::min(v, 1.0); });
    const double angle = random.uniform(-135, -45);
    const cv::Mat streaks = shifted_motion_blur(flakes, p.blurRadius, p.blurSigma, angle);
    // The reference rounds the layer to 8 bits (half to even) and crops it to the image.
    cv::Mat layer(rows, cols, CV_64F);
    for (int y = 0; y < rows; ++y) {
        const double *in = streaks.ptr<double>(y);
        double *out = layer.ptr<double>(y);
        for (int i = 0; i < cols; ++i) out[i] = std::nearbyint(in[i] * 255) / 255.0;
    }

    // The image is blended (float32, like the reference) with max(x, 1.5 * grey + 0.5), then the
    // layer is added twice, once turned by 180 degrees.
    cv::Mat grey = x;
    if (channels == 3) cv::cvtColor(x, grey, cv::COLOR_BGR2GRAY);
    const float imageWeight = float(p.imageWeight), whiteWeight = float(1 - p.imageWeight);
    cv::Mat out(rows, cols, image.type());
    for (int y = 0; y < rows; ++y) {
        const float *in = x.ptr<float>(y), *g = grey.ptr<float>(y);
        const double *flake = layer.ptr<double>(y), *turned = layer.ptr<double>(rows - 1 - y);
        uint8_t *dst = out.ptr<uint8_t>(y);
        for (int i = 0; i < cols; ++i) {
            const float whitened = g[i] * 1.5f + 0.5f;
            for (int c = 0; c < channels; ++c) {
                const float v = in[i * channels + c];
                const float blended = imageWeight * v + whiteWeight * std::max(v, whitened);
                const double value = double(blended) + flake[i] + turned[cols - 1 - i];
                dst[i * channels + c] = uint8_t(std::clamp(value, 0.0, 1.0) * 255.0);
            }
        }
    }
    return out;
}

// MARK: frost

struct FrostParameters {
    double imageWeight, frostWeight;
};
constexpr FrostParameters kFrost[5] = {{1, 0.4}, {0.8, 0.6}, {0.7, 0.7}, {0.65, 0.7}, {0.6, 0.75}};

/// Mean colour (BGR) and standard deviation of the reference's frost photographs over
/// image-sized crops, as the reference scales and crops them.
constexpr double kFrostMean[3] = {176, 164, 141};
constexpr double kFrostContrast = 24;

/// Zero mean and unit standard deviation (an all-equal field is only centred).
void standardise(cv::Mat &field) {
    cv::Scalar mean, sd;
    cv::meanStdDev(field, mean, sd);
    field -= mean[0];
    if (sd[0] > 0) field /= sd[0];
}

/// Clouded ice: value noise over several octaves (random grids enlarged bicubically, each octave
/// half the cell size and half the weight of the previous one), standardised. CV_32F.
cv::Mat ice_clouds(int rows, int cols, double coarsestCell, int octaves, Random &random) {
    cv::Mat sum = cv::Mat::zeros(rows, cols, CV_32F);
    double cell = coarsestCell, weight = 1;
    for (int octave = 0; octave < octaves; ++octave, cell /= 2, weight /= 2) {
        // Two spare cells each side keep the bicubic border effects out of the crop.
        const int gridRows = int(rows / cell) + 4, gridCols = int(cols / cell) + 4;
        cv::Mat grid(gridRows, gridCols, CV_32F);
        for (int y = 0; y < gridRows; ++y) {
            for (int x = 0; x < gridCols; ++x) grid.at<float>(y, x) = float(random.uniform(-1, 1));
        }
        cv::Mat enlarged;
        cv::resize(grid, enlarged, cv::Size(int(gridCols * cell), int(gridRows * cell)), 0, 0, cv::INTER_CUBIC);
        sum += weight * enlarged(cv::Rect(int(2 * cell), int(2 * cell), cols, rows));
    }
    standardise(sum);
    return sum;
}

/// One frost feather: a straight stem from `from` at `angle` (radians) with needles on both sides
/// every few pixels, at 30 to 50 degrees to the stem and shorter towards its tip. Drawn
/// anti-aliased in `shade` over whatever is there; coordinates carry 4 fractional bits.
void draw_feather(cv::Mat &layer, cv::Point2d from, double angle, double length, double shade, double scale,
                  Random &random) {
    const auto fixed = [](cv::Point2d p) { return cv::Point(int(std::lround(p.x * 16)), int(std::lround(p.y * 16))); };
    const auto towards = [](double a) { return cv::Point2d(std::cos(a), std::sin(a)); };
    const cv::Scalar colour(shade);
    cv::line(layer, fixed(from), fixed(from + length * towards(angle)), colour, 1, cv::LINE_AA, 4);
    const double spacing = 5 * scale;
    for (double along = spacing; along < length; along += spacing * random.uniform(0.7, 1.3)) {
        const cv::Point2d fork = from + along * towards(angle);
        for (double side : {-1.0, 1.0}) {
            const double needle = 0.35 * (length - along) * random.uniform(0.5, 1);
            const cv::Point2d tip = fork + needle * towards(angle + side * random.uniform(0.5, 0.9));
            cv::line(layer, fixed(fork), fixed(tip), colour, 1, cv::LINE_AA, 4);
        }
    }
}

/// Ice crystals: feathers grown from random seeds (some outside the image, so that crystals
/// enter from its edges) in random directions, most brighter and some darker than the ice they
/// lie on; later ones cover earlier ones. CV_32F in [-1, 1], 0 where there is no crystal.
cv::Mat ice_crystals(int rows, int cols, double scale, Random &random) {
    constexpr int kBackground = 128;
    cv::Mat layer(rows, cols, CV_8U, cv::Scalar(kBackground));
    const int count = std::max(4, int(rows * cols / (700 * scale * scale)));
    for (int n = 0; n < count; ++n) {
        const cv::Point2d seed(random.uniform(-0.1, 1.1) * cols, random.uniform(-0.1, 1.1) * rows);
        const double angle = random.uniform(0, 2 * M_PI);
        const double length = scale * random.uniform(20, 70);
        const bool bright = random.uniform() < 0.7;
        const double shade = bright ? random.uniform(170, 255) : random.uniform(60, 110);
        draw_feather(layer, seed, angle, length, shade, scale, random);
    }
    cv::Mat crystals;
    layer.convertTo(crystals, CV_32F, 1.0 / 127, -double(kBackground) / 127);
    return crystals;
}

/// A frost texture of the image's size: clouds plus sharp crystals with a soft glow, zero mean
/// and unit standard deviation (CV_32F, one channel). The glow is a wide blur (sigma 2 × scale),
/// computed at a quarter of the resolution and enlarged: it has no detail to lose, and at full
/// size its 45-tap kernel was a third of frost's time on camera-size images.
cv::Mat frost_texture(int rows, int cols, Random &random) {
    // The reference enlarges its photographs (about 500-900 pixels wide) only for larger images.
    const double scale = std::max(1.0, std::max(rows, cols) / 700.0);
    cv::Mat texture = 0.5 * ice_clouds(rows, cols, 96 * scale, 4, random);
    const cv::Mat crystals = ice_crystals(rows, cols, scale, random);
    cv::Mat sharp, glow;
    cv::GaussianBlur(crystals, sharp, cv::Size(), 0.5 * scale, 0, cv::BORDER_REFLECT);
    const int reduction = std::max(1, std::min({4, rows / 8, cols / 8}));
    if (reduction > 1) {
        cv::Mat small, blurred;
        cv::resize(crystals, small, cv::Size(cols / reduction, rows / reduction), 0, 0, cv::INTER_AREA);
        cv::GaussianBlur(small, blurred, cv::Size(), 2 * scale / reduction, 0, cv::BORDER_REFLECT);
        cv::resize(blurred, glow, crystals.size(), 0, 0, cv::INTER_LINEAR);
    } else {
        cv::GaussianBlur(crystals, glow, cv::Size(), 2 * scale, 0, cv::BORDER_REFLECT);
    }
    cv::Mat ice = sharp + 0.4 * glow;
    standardise(ice);
    texture += ice;
    standardise(texture);
    return texture;
}

cv::Mat frost(const cv::Mat &image, int severity, Random &random) {
    const auto p = kFrost[severity - 1];
    const int rows = image.rows, cols = image.cols, channels = image.channels();
    const cv::Mat texture = frost_texture(rows, cols, random);
    // The frost layer is the reference photographs' mean colour, a random overall brightness
    // (like the reference's choice among differently lit photographs) and their contrast times
    // the texture; it is blended as `np.clip(c0 * x + c1 * frost, 0, 255)` on the 0-255 scale,
    // then truncated like numpy's cast. In float, in this order, so it vectorises and every
    // machine rounds alike.
    const double brightness = random.uniform(-15, 15);
    float offset[3];
    for (int c = 0; c < 3; ++c) offset[c] = float(p.frostWeight * (kFrostMean[c] + brightness));
    const float grey = float(p.frostWeight * (kLumaRed * kFrostMean[2] + kLumaGreen * kFrostMean[1] + kLumaBlue * kFrostMean[0] + brightness));
    const float imageWeight = float(p.imageWeight), textureWeight = float(p.frostWeight * kFrostContrast);
    cv::Mat out(rows, cols, image.type());
    for (int y = 0; y < rows; ++y) {
        const uint8_t *in = image.ptr<uint8_t>(y);
        const float *t = texture.ptr<float>(y);
        uint8_t *dst = out.ptr<uint8_t>(y);
        if (channels == 3) {
            for (int x = 0; x < cols; ++x) {
                const float ice = textureWeight * t[x];
                for (int c = 0; c < 3; ++c) {
                    const float v = imageWeight * float(in[3 * x + c]) + (offset[c] + ice);
                    dst[3 * x + c] = uint8_t(std::min(255.0f, std::max(0.0f, v)));
                }
            }
        } else {
            for (int x = 0; x < cols; ++x) {
                const float v = imageWeight * float(in[x]) + (grey + textureWeight * t[x]);
                dst[x] = uint8_t(std::min(255.0f, std::max(0.0f, v)));
            }
        }
    }
    return out;
}

// MARK: fog

struct FogParameters {
    double amount;       // weight of the fog layer
    double wibbleDecay;  // roughness of the fractal: the larger, the smoother
};
constexpr FogParameters kFog[5] = {{1.5, 2}, {2, 2}, {2.5, 1.7}, {2.5, 1.5}, {3, 1.4}};

/// The reference's `plasma_fractal`: a diamond-square height map on a torus of side `size` (a
/// power of two), normalised to [0, 1]. Each pass fills the square centres, then the edge
/// midpoints (first those on the corner rows, then those on the corner columns) with the mean of
/// their four neighbours plus noise of `wibble * uniform(-wibble, wibble)`, drawn row by row;
/// `wibble` starts at 100 and is divided by `wibbleDecay` after each pass.
cv::Mat plasma_fractal(int size, double wibbleDecay, Random &random) {
    cv::Mat map = cv::Mat::zeros(size, size, CV_64F);
    double *m = map.ptr<double>();
    const auto at = [m, size](int row, int col) -> double & { return m[size_t(row) * size + col]; };
    double wibble = 100;
    for (int step = size; step >= 2; step /= 2, wibble /= wibbleDecay) {
        const int half = step / 2, n = size / step;
        const auto wibbled_mean = [&](double sum) { return sum / 4 + wibble * random.uniform(-wibble, wibble); };
        // Indices into the coarse grids of corners (i * step) and centres (i * step + half).
        const auto next = [n](int i) { return (i + 1) % n; };
        const auto previous = [n](int i) { return (i + n - 1) % n; };
        for (int i = 0; i < n; ++i) {
            for (int j = 0; j < n; ++j) {
                const double left = at(i * step, j * step) + at(next(i) * step, j * step);
                const double right = at(i * step, next(j) * step) + at(next(i) * step, next(j) * step);
                at(i * step + half, j * step + half) = wibbled_mean(left + right);
            }
        }
        const auto centre = [&](int i, int j) { return at(i * step + half, j * step + half); };
        const auto corner = [&](int i, int j) { return at(i * step, j * step); };
        for (int i = 0; i < n; ++i) {
            for (int j = 0; j < n; ++j) {
                const double sum = (centre(i, j) + centre(previous(i), j)) + (corner(i, j) + corner(i, next(j)));
                at(i * step, j * step + half) = wibbled_mean(sum);
            }
        }
        for (int i = 0; i < n; ++i) {
            for (int j = 0; j < n; ++j) {
                const double sum = (centre(i, j) + centre(i, previous(j))) + (corner(i, j) + corner(next(i), j));
                at(i * step + half, j * step) = wibbled_mean(sum);
            }
        }
    }
    double lowest = 0, highest = 0;
    cv::minMaxLoc(map, &lowest, &highest);
    const double range = highest - lowest;
    for (size_t i = 0; i < map.total(); ++i) m[i] = (m[i] - lowest) / range;
    return map;
}

int next_power_of_2(int x) {
    int power = 1;
    while (power < x) power *= 2;
    return power;
}

cv::Mat fog(const cv::Mat &image, int severity, Random &random) {
    const auto p = kFog[severity - 1];
    const int rows = image.rows, cols = image.cols, channels = image.channels();
    const cv::Mat plasma = plasma_fractal(next_power_of_2(std::max(rows, cols)), p.wibbleDecay, random);
    double brightestByte = 0;
    cv::minMaxLoc(image.reshape(1), nullptr, &brightestByte);
    const double brightest = brightestByte / 255.0;
    // `(x + c0 * plasma) * max / (max + c0)` in float64: fog added, then scaled back to the
    // image's maximum.
    cv::Mat out(rows, cols, image.type());
    for (int y = 0; y < rows; ++y) {
        const uint8_t *in = image.ptr<uint8_t>(y);
        const double *haze = plasma.ptr<double>(y);
        uint8_t *dst = out.ptr<uint8_t>(y);
        for (int i = 0; i < cols; ++i) {
            for (int c = 0; c < channels; ++c) {
                const double value = (in[i * channels + c] / 255.0 + p.amount * haze[i]) * brightest / (brightest + p.amount);
                dst[i * channels + c] = uint8_t(std::clamp(value, 0.0, 1.0) * 255.0);
            }
        }
    }
    return out;
}

// MARK: spatter

struct SpatterParameters {
    double mean, sd;   // of the liquid noise
    double sigma;      // of its Gaussian smoothing
    double threshold;  // smoothed noise below it is dry
    double strength;   // water: the drops' peak opacity; mud: the blur sigma of the mud mask
    bool mud;
};
constexpr SpatterParameters kSpatter[5] = {{0.65, 0.3, 4, 0.69, 0.6, false},
                                           {0.65, 0.3, 3, 0.68, 0.6, false},
                                           {0.65, 0.3, 2, 0.68, 0.5, false},
                                           {0.65, 0.3, 1, 0.65, 1.5, true},
                                           {0.67, 0.4, 1, 0.65, 1.5, true}};

/// The reference's colours, given there in RGB, here in BGR.
constexpr double kWater[3] = {238 / 255.0, 238 / 255.0, 175 / 255.0};  // pale turquoise
constexpr double kMud[3] = {20 / 255.0, 42 / 255.0, 63 / 255.0};       // brown

/// The drops' opacity for water (float32, peak `strength`), empty where no liquid is left: the
/// liquid mask's outline is turned into a shaded, embossed rim with the reference's OpenCV calls.
cv::Mat water_opacity(const cv::Mat &liquid, double strength) {
    cv::Mat drops(liquid.size(), CV_8U);
    // `(liquid * 255).astype(np.uint8)`; the smoothed noise stays far below 1, so no wrap-around.
    for (int y = 0; y < liquid.rows; ++y) {
        const double *in = liquid.ptr<double>(y);
        uint8_t *dst = drops.ptr<uint8_t>(y);
        for (int x = 0; x < liquid.cols; ++x) dst[x] = uint8_t(std::clamp(in[x] * 255, 0.0, 255.0));
    }
    cv::Mat edges, distance;
    cv::Canny(drops, edges, 50, 150);
    cv::distanceTransform(255 - edges, distance, cv::DIST_L2, 5);
    cv::threshold(distance, distance, 20, 20, cv::THRESH_TRUNC);
    cv::blur(distance, distance, cv::Size(3, 3));
    cv::Mat shading(distance.size(), CV_8U);
    for (int y = 0; y < distance.rows; ++y) {
        const float *in = distance.ptr<float>(y);
        uint8_t *dst = shading.ptr<uint8_t>(y);
        for (int x = 0; x < distance.cols; ++x) dst[x] = uint8_t(in[x]);  // astype(np.uint8)
    }
    cv::equalizeHist(shading, shading);
    const cv::Mat emboss = (cv::Mat_<float>(3, 3) << -2, -1, 0, -1, 1, 1, 0, 1, 2);
    cv::filter2D(shading, shading, CV_8U, emboss);
    cv::blur(shading, shading, cv::Size(3, 3));

    cv::Mat opacity(liquid.size(), CV_32F);
    for (int y = 0; y < liquid.rows; ++y) {
        const uint8_t *d = drops.ptr<uint8_t>(y), *s = shading.ptr<uint8_t>(y);
        float *dst = opacity.ptr<float>(y);
        for (int x = 0; x < liquid.cols; ++x) dst[x] = float(d[x]) * float(s[x]);
    }
    double peak = 0;
    cv::minMaxLoc(opacity, nullptr, &peak);
    if (peak <= 0) return cv::Mat();
    const float scale = float(peak), gain = float(strength);
    opacity.forEach<float>([scale, gain](float &v, const int *) { v = v / scale * gain; });
    return opacity;
}

cv::Mat spatter(const cv::Mat &image, int severity, Random &random) {
    const auto p = kSpatter[severity - 1];
    const int rows = image.rows, cols = image.cols, channels = image.channels();
    cv::Mat x = to_unit(image, CV_32F);
    cv::Mat liquid = gaussian_filter(normal_field(rows, cols, p.mean, p.sd, random), p.sigma);
    liquid.forEach<double>([&p](double &v, const int *) {
        if (v < p.threshold) v = 0;
    });

    if (!p.mud) {
        const cv::Mat opacity = water_opacity(liquid, p.strength);
        if (opacity.empty()) return image.clone();
        if (channels == 3) {
            // float32 throughout: `np.clip(x + m * color, 0, 1) * 255`.
            const float water[3] = {float(kWater[0]), float(kWater[1]), float(kWater[2])};
            for (int y = 0; y < rows; ++y) {
                float *v = x.ptr<float>(y);
                const float *m = opacity.ptr<float>(y);
                for (int i = 0; i < cols; ++i) {
                    for (int c = 0; c < 3; ++c) v[3 * i + c] += m[i] * water[c];
                }
            }
            return unit_to_bytes(x);
        }
        // Grey: the image plus the luma of the clipped colour layer, in float64.
        cv::Mat out(rows, cols, CV_64F);
        for (int y = 0; y < rows; ++y) {
            const float *v = x.ptr<float>(y), *m = opacity.ptr<float>(y);
            double *dst = out.ptr<double>(y);
            for (int i = 0; i < cols; ++i) {
                const auto layer = [&](int c) { return double(std::min(m[i] * float(kWater[c]), 1.0f)); };
                dst[i] = double(v[i]) + (kLumaRed * layer(2) + kLumaGreen * layer(1) + kLumaBlue * layer(0));
            }
        }
        return unit_to_bytes(out);
    }

    // Mud: the liquid mask, blurred, kept where it is dense (>= 0.8); the image is covered there.
    cv::Mat mask(rows, cols, CV_64F);
    for (int y = 0; y < rows; ++y) {
        const double *in = liquid.ptr<double>(y);
        double *dst = mask.ptr<double>(y);
        for (int i = 0; i < cols; ++i) dst[i] = in[i] > p.threshold ? 1.0 : 0.0;
    }
    cv::Mat cover;
    gaussian_filter(mask, p.strength).convertTo(cover, CV_32F);  // skimage keeps float32 input float32
    cover.forEach<float>([](float &v, const int *) {
        if (v < 0.8f) v = 0;
    });
    const double mudGrey = kLumaRed * kMud[2] + kLumaGreen * kMud[1] + kLumaBlue * kMud[0];
    cv::Mat out(rows, cols, CV_64FC(channels));
    for (int y = 0; y < rows; ++y) {
        const float *v = x.ptr<float>(y), *m = cover.ptr<float>(y);
        double *dst = out.ptr<double>(y);
        for (int i = 0; i < cols; ++i) {
            const float uncovered = 1 - m[i];
            if (channels == 3) {
                for (int c = 0; c < 3; ++c) dst[3 * i + c] = double(v[3 * i + c] * uncovered) + kMud[c] * m[i];
            } else {
                dst[i] = double(v[i] * uncovered) + mudGrey * m[i];
            }
        }
    }
    return unit_to_bytes(out);
}

// MARK: elastic_transform

constexpr double kElasticAlpha[5] = {250 * 0.05, 250 * 0.065, 250 * 0.085, 250 * 0.1, 250 * 0.12};

/// scipy's 'reflect' index for any integer: half-sample symmetric with period 2n.
int reflect_index(int i, int n) {
    const int period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - 1 - i;
}

cv::Mat elastic_transform(const cv::Mat &image, int severity, Random &random) {
    const double alpha = kElasticAlpha[severity - 1];
    const int rows = image.rows, cols = image.cols, channels = image.channels();
    const cv::Mat x = to_unit(image, CV_32F);
    // Smooth random displacement fields; the reference bounds both by the image's height and
    // smooths with sigma 1% of the size along each axis.
    const double maxShift = rows * 0.005, sigmaRows = rows * 0.01, sigmaCols = cols * 0.01;
    cv::Mat dx, dy;
    gaussian_reflect(uniform_field(rows, cols, -maxShift, maxShift, random), sigmaRows, sigmaCols)
        .convertTo(dx, CV_32F, alpha);
    gaussian_reflect(uniform_field(rows, cols, -maxShift, maxShift, random), sigmaRows, sigmaCols)
        .convertTo(dy, CV_32F, alpha);

    // map_coordinates(order=1, mode='reflect'): bilinear in float64 on the half-sample symmetric
    // extension, stored as float32. (cv::remap would quantise positions to 1/32 pixel.)
    cv::Mat warped(rows, cols, x.type());
    for (int y = 0; y < rows; ++y) {
        const float *shiftX = dx.ptr<float>(y), *shiftY = dy.ptr<float>(y);
        float *dst = warped.ptr<float>(y);
        for (int i = 0; i < cols; ++i) {
            const double sy = y + double(shiftY[i]), sx = i + double(shiftX[i]);
            const double fy = std::floor(sy), fx = std::floor(sx);
            const double ty = sy - fy, tx = sx - fx;
            const float *top = x.ptr<float>(reflect_index(int(fy), rows));
            const float *bottom = x.ptr<float>(reflect_index(int(fy) + 1, rows));
            const int left = reflect_index(int(fx), cols) * channels, right = reflect_index(int(fx) + 1, cols) * channels;
            for (int c = 0; c < channels; ++c) {
                const double upper = (1 - tx) * top[left + c] + tx * top[right + c];
                const double lower = (1 - tx) * bottom[left + c] + tx * bottom[right + c];
                dst[i * channels + c] = float((1 - ty) * upper + ty * lower);
            }
        }
    }
    return unit_to_bytes(warped);
}

}  // namespace

std::vector<Corruption> weather_corruptions() {
    return {
        {"snow", "weather", "falling snow: streaked flakes over a whitened image",
         [](int s) {
             const auto &p = kSnow[s - 1];
             return format_parameters("flake noise mean %.2f, zoom %.1f, streak radius %.0f px", p.mean, p.zoom, p.blurRadius);
         },
         snow},
        {"frost", "weather", "frosted lens: a procedural ice texture blended over the image",
         [](int s) { return format_parameters("image x %.2f + frost x %.2f", kFrost[s - 1].imageWeight, kFrost[s - 1].frostWeight); },
         frost},
        {"fog", "weather", "fog: a diamond-square plasma fractal added, contrast reduced",
         [](int s) { return format_parameters("fog x %.1f, wibble decay %.1f", kFog[s - 1].amount, kFog[s - 1].wibbleDecay); },
         fog},
        {"spatter", "weather", "water drops (severity 1-3) or mud splashes (4-5) on the lens",
         [](int s) {
             const auto &p = kSpatter[s - 1];
             return p.mud ? format_parameters("mud, noise blur sigma %.0f, threshold %.2f, mask blur sigma %.1f", p.sigma,
                                   p.threshold, p.strength)
                          : format_parameters("water, noise blur sigma %.0f, threshold %.2f, opacity %.1f", p.sigma, p.threshold,
                                   p.strength);
         },
         spatter},
    };
}

Corruption elastic_transform_corruption() {
    return {"elastic_transform", "digital", "elastic warp: smooth random displacement fields",
            [](int s) { return format_parameters("displacement x %.2f, smoothing 1%% of the size", kElasticAlpha[s - 1]); },
            elastic_transform};
}

}  // namespace cvbridge
