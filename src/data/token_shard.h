// Token shards: the on-disk form of a tokenized corpus (docs/formats.md,
// "Token shards"). A fixed 64-byte little-endian header, then the tokens as
// uint16 (vocabularies up to 65536) or uint32. Shards are written atomically
// and read through mmap, so a training run touches only the pages it samples
// and many processes can share one copy in the page cache.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "core/file_io.h"

namespace shog {

inline constexpr char kShardMagic[8] = {'S', 'H', 'O', 'G', 'T', 'O', 'K', 'S'};
inline constexpr uint32_t kShardVersion = 1;
inline constexpr size_t kShardHeaderBytes = 64;

// Bytes per token for a vocabulary: 2 while every id fits in uint16.
inline uint32_t shard_token_width(uint32_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }

// 64-bit FNV-1a; the shard checksum (tokens, and header bytes 0..55).
uint64_t fnv1a64(const void* data, size_t n, uint64_t h = 0xcbf29ce484222325ull);

// Writes `tokens` as a shard at `path` (atomically: the file appears complete
// or not at all). Every token must be in [0, vocab_size).
// Returns the token checksum stored in the header.
uint64_t write_token_shard(const std::string& path, std::span<const int32_t> tokens, uint32_t vocab_size);

// A validated, read-only, memory-mapped shard. Opening checks the magic,
// version, width, header checksum, file size against the token count, the
// token checksum and that every token is below vocab_size; any failure throws
// shog::Error(bad_input) naming the file and the problem.
class TokenShard {
 public:
  explicit TokenShard(const std::string& path);

  // Parses a shard image already in memory (what the constructor does after
  // mapping; exposed for the fuzzer). `bytes` must outlive the object.
  static TokenShard from_bytes(std::span<const uint8_t> bytes, const std::string& name);

  const std::string& path() const { return path_; }
  uint64_t size() const { return count_; }  // tokens
  uint32_t width() const { return width_; }
  uint32_t vocab_size() const { return vocab_; }
  uint64_t checksum() const { return checksum_; }

  // memcpy, not a cast: a shard parsed from caller bytes may be unaligned
  // (it compiles to a plain load either way).
  int32_t operator[](uint64_t i) const {
    if (width_ == 2) {
      uint16_t v;
      std::memcpy(&v, tokens_ + i * 2, 2);
      return int32_t(v);
    }
    uint32_t v;
    std::memcpy(&v, tokens_ + i * 4, 4);
    return int32_t(v);
  }
  // Copies tokens [begin, begin + n) widened to int32. The caller keeps the
  // range inside size().
  void copy(uint64_t begin, uint64_t n, int32_t* out) const;

 private:
  TokenShard() = default;
  void parse(std::span<const uint8_t> bytes);

  std::string path_;
  std::shared_ptr<MappedFile> map_;  // null when parsed from caller's bytes
  const uint8_t* tokens_ = nullptr;
  uint64_t count_ = 0, checksum_ = 0;
  uint32_t width_ = 2, vocab_ = 0;
};

}  // namespace shog
