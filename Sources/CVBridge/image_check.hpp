#pragma once

#include "guarded.hpp"

#include <cstddef>
#include <cstdint>

namespace cvbridge {

/// Throws BridgeError with the reason when a PNG or JPEG file is truncated or damaged in its
/// structure, declares more pixels than OpenCV decodes, or has an alpha channel. Other formats
/// are left to OpenCV.
void check_image_bytes(const uint8_t *bytes, size_t size);

}  // namespace cvbridge
