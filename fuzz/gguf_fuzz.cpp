// libFuzzer target: the GGUF reader on arbitrary bytes. Any input must either
// parse into a file whose every tensor lies inside the input and whose
// metadata getters behave, or throw shog::Error; a crash, hang, huge
// allocation or sanitizer report is a bug.
//
//   scripts/fuzz.sh 60 gguf_fuzz
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "core/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    shog::GgufFile f(data, size, "fuzz.gguf");
    for (const auto& t : f.tensors()) {
      if (t.data < data || t.data + t.nbytes > data + size) std::abort();
      if (t.numel() <= (1 << 16)) {
        std::vector<float> out(size_t(t.numel()));
        try {
          f.copy_f32(t.name, out.data(), t.numel());
        } catch (const shog::Error&) {  // quantized types are refused, not read
        }
      }
    }
    for (const auto& [k, v] : f.metadata()) {
      try {
        f.get_uint(k);
      } catch (const shog::Error&) {
      }
      try {
        f.get_strs(k);
      } catch (const shog::Error&) {
      }
    }
  } catch (const shog::Error&) {
  }
  return 0;
}
