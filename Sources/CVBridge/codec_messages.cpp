// What libjpeg and libpng say while OpenCV decodes, kept from stderr and handed to Vigil.
//
// OpenCV 4.6 creates libjpeg's error manager with jpeg_std_error and libpng's read struct with
// png_create_read_struct(…, NULL, NULL, NULL): both libraries then print their warnings and
// errors on stderr ("Premature end of JPEG file", "Corrupt JPEG data: 57 extraneous bytes
// before marker 0xd9", "libpng error: IDAT: incorrect data check"), naming no file, and a JPEG
// with corrupt data still decodes, grey where data is missing.
//
// Defining those functions in Vigil does not reach OpenCV: the gold and lld linkers that Swift
// uses do not export an executable's symbols to the shared libraries it loads. So at load time
// the two entries of OpenCV imgcodecs' own import table (its GOT) are pointed at the functions
// below, which call the libraries' functions and replace the message handlers with ones that
// record the decoding thread's first message instead of printing it. cvb_image_read turns a
// recorded libjpeg warning into an error naming the file; libpng warnings (an odd colour profile)
// leave the pixels intact and are only kept quiet. When the table cannot be found or changed,
// nothing is patched: decoding behaves as before, and image_check.cpp's checks still apply.
#include "codec_messages.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <jpeglib.h>
#include <png.h>

namespace {

thread_local std::string decoderWarning;
thread_local std::string decoderError;

void record(std::string &slot, const char *text) {
    if (slot.empty() && text != nullptr) slot = text;
}

using JpegStdError = struct jpeg_error_mgr *(*)(struct jpeg_error_mgr *);
using PngCreateRead = png_structp (*)(png_const_charp, png_voidp, png_error_ptr, png_error_ptr);
using PngLongjmp = void (*)(png_const_structrp, int);

JpegStdError realJpegStdError = nullptr;
PngCreateRead realPngCreateRead = nullptr;
PngLongjmp realPngLongjmp = nullptr;

// libjpeg: messages of level -1 are warnings (corrupt data); higher levels are traces.
void jpeg_emit(j_common_ptr info, int level) {
    if (level >= 0) return;
    char text[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, text);
    record(decoderWarning, text);
    info->err->num_warnings++;
}

// OpenCV replaces error_exit (which alone calls this), so nothing is lost by printing nothing.
void jpeg_output(j_common_ptr) {}

struct jpeg_error_mgr *quiet_jpeg_std_error(struct jpeg_error_mgr *err) {
    struct jpeg_error_mgr *manager = realJpegStdError(err);
    manager->emit_message = jpeg_emit;
    manager->output_message = jpeg_output;
    return manager;
}

void png_warned(png_structp, png_const_charp) {}

[[noreturn]] void png_failed(png_structp png, png_const_charp text) {
    record(decoderError, text);
    realPngLongjmp(png, 1);
    std::abort();  // png_longjmp does not return
}

png_structp quiet_png_create_read_struct(png_const_charp version, png_voidp error_pointer, png_error_ptr error_function,
                                         png_error_ptr warning_function) {
    return realPngCreateRead(version, error_pointer, error_function != nullptr ? error_function : png_failed,
                             warning_function != nullptr ? warning_function : png_warned);
}

struct Hook {
    const char *symbol;
    void *replacement;
    void **original;
};

/// Points `object`'s GOT entries for the hooks' symbols at their replacements.
void patch(const dl_phdr_info *object, Hook *hooks, size_t count) {
    const ElfW(Addr) base = object->dlpi_addr;
    const ElfW(Dyn) *dynamic = nullptr;
    for (int i = 0; i < object->dlpi_phnum; ++i) {
        if (object->dlpi_phdr[i].p_type == PT_DYNAMIC) dynamic = reinterpret_cast<const ElfW(Dyn) *>(base + object->dlpi_phdr[i].p_vaddr);
    }
    if (dynamic == nullptr) return;
    // ld.so has usually relocated these addresses in place already; add the base when not.
    const auto address = [base](ElfW(Addr) value) { return value < base ? value + base : value; };
    const ElfW(Sym) *symbols = nullptr;
    const char *names = nullptr;
    const ElfW(Rela) *tables[2] = {nullptr, nullptr};
    size_t sizes[2] = {0, 0};
    for (const ElfW(Dyn) *entry = dynamic; entry->d_tag != DT_NULL; ++entry) {
        switch (entry->d_tag) {
        case DT_SYMTAB: symbols = reinterpret_cast<const ElfW(Sym) *>(address(entry->d_un.d_ptr)); break;
        case DT_STRTAB: names = reinterpret_cast<const char *>(address(entry->d_un.d_ptr)); break;
        case DT_JMPREL: tables[0] = reinterpret_cast<const ElfW(Rela) *>(address(entry->d_un.d_ptr)); break;
        case DT_PLTRELSZ: sizes[0] = entry->d_un.d_val; break;
        case DT_RELA: tables[1] = reinterpret_cast<const ElfW(Rela) *>(address(entry->d_un.d_ptr)); break;
        case DT_RELASZ: sizes[1] = entry->d_un.d_val; break;
        default: break;
        }
    }
    if (symbols == nullptr || names == nullptr) return;
    const long page = sysconf(_SC_PAGESIZE);
    for (int t = 0; t < 2; ++t) {
        if (tables[t] == nullptr) continue;
        for (size_t r = 0; r < sizes[t] / sizeof(ElfW(Rela)); ++r) {
            const ElfW(Rela) &relocation = tables[t][r];
            const auto type = ELF64_R_TYPE(relocation.r_info);
#if defined(__x86_64__)
            if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
#elif defined(__aarch64__)
            if (type != R_AARCH64_JUMP_SLOT && type != R_AARCH64_GLOB_DAT) continue;
#else
            return;
#endif
            const char *name = names + symbols[ELF64_R_SYM(relocation.r_info)].st_name;
            for (size_t h = 0; h < count; ++h) {
                if (std::strcmp(name, hooks[h].symbol) != 0) continue;
                void **slot = reinterpret_cast<void **>(base + relocation.r_offset);
                auto *start = reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(slot) & ~uintptr_t(page - 1));
                // The GOT is read-only after relocation (RELRO): open its page, write, close it.
                if (mprotect(start, size_t(page), PROT_READ | PROT_WRITE) != 0) continue;
                if (*hooks[h].original == nullptr) *hooks[h].original = *slot;
                *slot = hooks[h].replacement;
                mprotect(start, size_t(page), PROT_READ);
            }
        }
    }
}

const bool hooksInstalled = [] {
    Hook hooks[] = {
        {"jpeg_std_error", reinterpret_cast<void *>(quiet_jpeg_std_error), reinterpret_cast<void **>(&realJpegStdError)},
        {"png_create_read_struct", reinterpret_cast<void *>(quiet_png_create_read_struct), reinterpret_cast<void **>(&realPngCreateRead)},
    };
    // Looked up rather than linked: libpng is there, loaded by imgcodecs, when there is anything to patch.
    realPngLongjmp = reinterpret_cast<PngLongjmp>(dlsym(RTLD_DEFAULT, "png_longjmp"));
    if (realPngLongjmp == nullptr) return false;
    dl_iterate_phdr(
        [](dl_phdr_info *object, size_t, void *data) -> int {
            if (object->dlpi_name != nullptr && std::strstr(object->dlpi_name, "libopencv_imgcodecs") != nullptr) {
                patch(object, static_cast<Hook *>(data), 2);
            }
            return 0;
        },
        hooks);
    return realJpegStdError != nullptr;
}();

}  // namespace

namespace cvbridge {

void reset_decoder_messages() {
    decoderWarning.clear();
    decoderError.clear();
}

std::string decoder_warning() { return decoderWarning; }
std::string decoder_error() { return decoderError; }

}  // namespace cvbridge
