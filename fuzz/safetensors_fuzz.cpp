// libFuzzer target: the safetensors reader on arbitrary bytes. Any input must
// either parse into tensors that tile the data section inside the input, or
// throw shog::Error; a crash, hang or sanitizer report is a bug.
//
//   scripts/fuzz.sh 60 safetensors_fuzz
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "core/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    shog::SafetensorsFile f(data, size, "fuzz.safetensors");
    for (const auto& e : f.entries()) {
      if (e.data < data || e.data + e.nbytes() > data + size) std::abort();
      if (e.numel() <= (1 << 16)) {
        std::vector<float> out(size_t(e.numel()));
        try {
          f.copy_f32(e.name, out.data(), e.numel());
        } catch (const shog::Error&) {  // dtypes we do not convert
        }
      }
    }
  } catch (const shog::Error&) {
  }
  return 0;
}
