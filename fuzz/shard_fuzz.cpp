// libFuzzer target: the token-shard parser on arbitrary bytes. Any input must
// either parse into a shard whose every token can be read, or throw
// shog::Error; a crash, hang or sanitizer report is a bug.
//
//   cmake -S . -B build-fuzz -G Ninja -DSHOG_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang
//   cmake --build build-fuzz --target shard_fuzz && build-fuzz/shard_fuzz -max_total_time=60
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "data/token_shard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto s = shog::TokenShard::from_bytes({data, size}, "fuzz");
    std::vector<int32_t> out(s.size());
    s.copy(0, s.size(), out.data());
    for (uint64_t i = 0; i < s.size(); ++i)
      if (out[i] < 0 || uint32_t(out[i]) >= s.vocab_size() || out[i] != s[i]) std::abort();
  } catch (const shog::Error&) {
  }
  return 0;
}
