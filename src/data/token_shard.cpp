#include "data/token_shard.h"

#include <bit>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace shog {

static_assert(std::endian::native == std::endian::little,
              "shards are little-endian and mapped in place; a big-endian host needs byte swaps here");

namespace {

// Header field offsets (docs/formats.md, "Token shards").
constexpr size_t kOffVersion = 8, kOffHeaderBytes = 12, kOffWidth = 16, kOffVocab = 20, kOffCount = 24,
                 kOffChecksum = 32, kOffHeaderChecksum = 56;

template <class T> T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T> void store(uint8_t* p, T v) { std::memcpy(p, &v, sizeof v); }

}  // namespace

uint64_t fnv1a64(const void* data, size_t n, uint64_t h) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t write_token_shard(const std::string& path, std::span<const int32_t> tokens, uint32_t vocab_size) {
  SHOG_CHECK(vocab_size > 0, ErrorKind::invalid_argument, path, "vocabulary size must be positive");
  const uint32_t width = shard_token_width(vocab_size);
  std::vector<uint8_t> body(tokens.size() * width);
  for (size_t i = 0; i < tokens.size(); ++i) {
    int32_t t = tokens[i];
    SHOG_CHECK(t >= 0 && uint32_t(t) < vocab_size, ErrorKind::internal, path,
               "token {} at index {} is outside the vocabulary of {}", t, i, vocab_size);
    if (width == 2)
      store<uint16_t>(&body[i * 2], uint16_t(t));
    else
      store<uint32_t>(&body[i * 4], uint32_t(t));
  }
  const uint64_t checksum = fnv1a64(body.data(), body.size());

  uint8_t h[kShardHeaderBytes] = {};
  std::memcpy(h, kShardMagic, 8);
  store<uint32_t>(h + kOffVersion, kShardVersion);
  store<uint32_t>(h + kOffHeaderBytes, uint32_t(kShardHeaderBytes));
  store<uint32_t>(h + kOffWidth, width);
  store<uint32_t>(h + kOffVocab, vocab_size);
  store<uint64_t>(h + kOffCount, uint64_t(tokens.size()));
  store<uint64_t>(h + kOffChecksum, checksum);
  store<uint64_t>(h + kOffHeaderChecksum, fnv1a64(h, kOffHeaderChecksum));

  AtomicFile f(path);
  f.write(h, sizeof h);
  f.write(body.data(), body.size());
  f.commit();
  return checksum;
}

TokenShard::TokenShard(const std::string& path) : path_(path) {
  map_ = std::make_shared<MappedFile>(path);
  parse({map_->data(), map_->size()});
}

TokenShard TokenShard::from_bytes(std::span<const uint8_t> bytes, const std::string& name) {
  TokenShard s;
  s.path_ = name;
  s.parse(bytes);
  return s;
}

void TokenShard::parse(std::span<const uint8_t> bytes) {
  const auto bad = [&](const std::string& what) { return Error(ErrorKind::bad_input, path_, what); };
  if (bytes.size() < kShardHeaderBytes)
    throw bad(fmt::format("not a token shard: {} bytes, shorter than the {}-byte header", bytes.size(),
                          kShardHeaderBytes));
  const uint8_t* h = bytes.data();
  if (std::memcmp(h, kShardMagic, 8) != 0) throw bad("not a token shard: wrong magic (expected \"SHOGTOKS\")");
  const auto version = load<uint32_t>(h + kOffVersion);
  if (version != kShardVersion)
    throw bad(fmt::format("unsupported shard version {} (this build reads version {})", version, kShardVersion));
  if (load<uint64_t>(h + kOffHeaderChecksum) != fnv1a64(h, kOffHeaderChecksum))
    throw bad("header checksum mismatch: the header is corrupt");
  const auto header_bytes = load<uint32_t>(h + kOffHeaderBytes);
  if (header_bytes != kShardHeaderBytes)
    throw bad(fmt::format("header size {} is not {}", header_bytes, kShardHeaderBytes));
  width_ = load<uint32_t>(h + kOffWidth);
  vocab_ = load<uint32_t>(h + kOffVocab);
  count_ = load<uint64_t>(h + kOffCount);
  checksum_ = load<uint64_t>(h + kOffChecksum);
  if (width_ != 2 && width_ != 4) throw bad(fmt::format("token width {} is neither 2 nor 4", width_));
  if (vocab_ == 0) throw bad("vocabulary size is 0");
  if (width_ != shard_token_width(vocab_))
    throw bad(fmt::format("token width {} does not match vocabulary size {} (expected width {})", width_, vocab_,
                          shard_token_width(vocab_)));
  const uint64_t body = bytes.size() - kShardHeaderBytes;
  // Compare by division so a huge count cannot overflow the product.
  if (body % width_ != 0 || body / width_ != count_)
    throw bad(fmt::format("size mismatch: header says {} tokens ({} bytes) but the file holds {} bytes after the "
                          "header (truncated or padded)",
                          count_, count_ <= UINT64_MAX / width_ ? count_ * width_ : UINT64_MAX, body));
  tokens_ = h + kShardHeaderBytes;
  if (fnv1a64(tokens_, body) != checksum_) throw bad("checksum mismatch: the token data is corrupt");
  // A matching checksum over out-of-range ids means a buggy writer, not bit rot;
  // catch it here rather than as an out-of-bounds embedding lookup later.
  for (uint64_t i = 0; i < count_; ++i) {
    uint32_t t = uint32_t((*this)[i]);
    if (t >= vocab_) throw bad(fmt::format("token {} at index {} is outside the vocabulary of {}", t, i, vocab_));
  }
}

void TokenShard::copy(uint64_t begin, uint64_t n, int32_t* out) const {
  if (width_ == 2) {
    const uint8_t* p = tokens_ + begin * 2;
    for (uint64_t i = 0; i < n; ++i) out[i] = int32_t(load<uint16_t>(p + i * 2));
  } else {
    std::memcpy(out, tokens_ + begin * 4, n * 4);
  }
}

}  // namespace shog
