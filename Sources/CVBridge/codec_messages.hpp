#pragma once

#include <string>

namespace cvbridge {

/// Forgets what libjpeg and libpng said on this thread (call before decoding).
void reset_decoder_messages();
/// The first libjpeg warning on this thread since the reset ("Premature end of JPEG file"), or "".
std::string decoder_warning();
/// The first libpng error on this thread since the reset, or "".
std::string decoder_error();

}  // namespace cvbridge
