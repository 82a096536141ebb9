// Which channels [begin, end) a thread owns when a backward pass sums over
// rows into a per-channel (or per-embedding-row) gradient.
#pragma once
#include <algorithm>
#include <cstdint>

namespace shog::ops {

// Why split channels, not rows: rows may write the same gradient (a repeated
// token id, or every row into a norm's weight), so splitting rows would race
// or need scratch partials. With channels split, each thread walks every row
// in order, so each sum is taken in the same order whatever the thread count.
// Slices are whole 64-byte lines (16 floats) so two threads never write one
// line. A thread past the end gets an empty slice.
struct ChannelSlice {
  int64_t begin, end;
};

inline ChannelSlice channel_slice(int64_t C, int64_t thread, int64_t threads) {
  const int64_t lines = (C + 15) / 16;
  const int64_t per = (lines + threads - 1) / threads;
  return {std::min(C, thread * per * 16), std::min(C, (thread + 1) * per * 16)};
}

}  // namespace shog::ops
