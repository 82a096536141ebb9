#include "data/batch_loader.h"

#include <algorithm>
#include <numeric>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/random.h"

namespace shog {

namespace {

const char* order_name(LoaderOrder o) { return o == LoaderOrder::shuffled ? "shuffled" : "sequential"; }

}  // namespace

void to_json(nlohmann::json& j, const LoaderPosition& p) {
  j = nlohmann::json{{"epoch", p.epoch},
                     {"index", p.index},
                     {"seed", p.seed},
                     {"batch", p.batch},
                     {"seq_len", p.seq_len},
                     {"order", order_name(p.order)},
                     {"windows", p.windows},
                     // Hex: a JSON reader outside C++ may hold numbers as doubles.
                     {"fingerprint", fmt::format("{:016x}", p.fingerprint)}};
}

void from_json(const nlohmann::json& j, LoaderPosition& p) {
  try {
    p.epoch = j.at("epoch").get<uint64_t>();
    p.index = j.at("index").get<uint64_t>();
    p.seed = j.at("seed").get<uint64_t>();
    p.batch = j.at("batch").get<int64_t>();
    p.seq_len = j.at("seq_len").get<int64_t>();
    auto order = j.at("order").get<std::string>();
    SHOG_CHECK(order == "shuffled" || order == "sequential", ErrorKind::bad_input, "loader position",
               "order \"{}\" is neither \"shuffled\" nor \"sequential\"", order);
    p.order = order == "shuffled" ? LoaderOrder::shuffled : LoaderOrder::sequential;
    p.windows = j.at("windows").get<uint64_t>();
    auto fp = j.at("fingerprint").get<std::string>();
    size_t used = 0;
    p.fingerprint = std::stoull(fp, &used, 16);
    SHOG_CHECK(used == fp.size() && !fp.empty(), ErrorKind::bad_input, "loader position",
               "fingerprint \"{}\" is not hexadecimal", fp);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::bad_input, "loader position", e.what());
  } catch (const std::logic_error& e) {  // stoull
    throw Error(ErrorKind::bad_input, "loader position", std::string("bad fingerprint: ") + e.what());
  }
}

BatchLoader::BatchLoader(const std::vector<std::string>& paths, int64_t batch, int64_t seq_len, uint64_t seed,
                         LoaderOrder order)
    : batch_(batch), seq_len_(seq_len), seed_(seed), order_(order) {
  SHOG_CHECK(!paths.empty(), ErrorKind::invalid_argument, "", "batch loader: no shards given");
  SHOG_CHECK(batch >= 1, ErrorKind::invalid_argument, "", "batch loader: batch size {} must be at least 1", batch);
  SHOG_CHECK(seq_len >= 1, ErrorKind::invalid_argument, "", "batch loader: sequence length {} must be at least 1",
             seq_len);
  const uint64_t T = uint64_t(seq_len);
  uint64_t tokens = 0;
  fingerprint_ = fnv1a64(nullptr, 0);
  for (const auto& p : paths) {
    shards_.emplace_back(p);
    const TokenShard& s = shards_.back();
    if (shards_.size() == 1) vocab_ = s.vocab_size();
    SHOG_CHECK(s.vocab_size() == vocab_, ErrorKind::bad_input, p,
               "vocabulary size {} differs from {} in {}: shards from different tokenizers", s.vocab_size(), vocab_,
               paths.front());
    first_window_.push_back(total_windows_);
    total_windows_ += s.size() > T ? (s.size() - 1) / T : 0;
    tokens += s.size();
    uint64_t id[2] = {s.size(), s.checksum()};
    fingerprint_ = fnv1a64(id, sizeof id, fingerprint_);
  }
  first_window_.push_back(total_windows_);
  SHOG_CHECK(total_windows_ >= uint64_t(batch), ErrorKind::bad_input,
             paths.size() == 1 ? paths.front() : fmt::format("{} (and {} more shards)", paths.front(), paths.size() - 1),
             "not enough data for one batch: B={} windows of T+1={} tokens are needed (B*(T+1) = {} tokens), but "
             "the {} tokens make only {} windows",
             batch, T + 1, uint64_t(batch) * (T + 1), tokens, total_windows_);
  start_epoch(0);
}

void BatchLoader::start_epoch(uint64_t epoch) {
  epoch_ = epoch;
  index_ = 0;
  perm_.clear();
  if (order_ == LoaderOrder::sequential) return;
  perm_.resize(total_windows_);
  std::iota(perm_.begin(), perm_.end(), uint64_t(0));
  // Each epoch's order depends only on (seed, epoch), so resuming at epoch e
  // needs no history. Mixing twice keeps nearby seeds/epochs unrelated.
  Rng rng(mix64(mix64(seed_) ^ (epoch + 0x9e3779b97f4a7c15ull)));
  for (uint64_t i = total_windows_ - 1; i > 0; --i) std::swap(perm_[i], perm_[rng.below(i + 1)]);  // Fisher-Yates
}

void BatchLoader::read_window(uint64_t w, int32_t* inputs, int32_t* targets) const {
  size_t s = size_t(std::upper_bound(first_window_.begin(), first_window_.end(), w) - first_window_.begin()) - 1;
  const uint64_t T = uint64_t(seq_len_), start = (w - first_window_[s]) * T;
  shards_[s].copy(start, T, inputs);
  std::copy(inputs + 1, inputs + T, targets);
  targets[T - 1] = shards_[s][start + T];
}

void BatchLoader::next(int32_t* inputs, int32_t* targets) {
  const uint64_t B = uint64_t(batch_), T = uint64_t(seq_len_);
  if (index_ + B > total_windows_) start_epoch(epoch_ + 1);
  for (uint64_t b = 0; b < B; ++b) {
    uint64_t i = index_ + b;
    read_window(perm_.empty() ? i : perm_[i], inputs + b * T, targets + b * T);
  }
  index_ += B;
}

LoaderPosition BatchLoader::position() const {
  return {epoch_, index_, seed_, batch_, seq_len_, order_, total_windows_, fingerprint_};
}

void BatchLoader::restore(const LoaderPosition& p) {
  auto mismatch = [](const char* what, auto saved, auto now) {
    return Error(ErrorKind::invalid_argument, "loader position",
                 fmt::format("cannot resume: saved for {} {} but this run has {}", what, saved, now));
  };
  if (p.fingerprint != fingerprint_ || p.windows != total_windows_)
    throw mismatch("data fingerprint/windows", fmt::format("{:016x}/{}", p.fingerprint, p.windows),
                   fmt::format("{:016x}/{} (the shards changed)", fingerprint_, total_windows_));
  if (p.seed != seed_) throw mismatch("seed", p.seed, seed_);
  if (p.batch != batch_) throw mismatch("batch size", p.batch, batch_);
  if (p.seq_len != seq_len_) throw mismatch("sequence length", p.seq_len, seq_len_);
  if (p.order != order_) throw mismatch("order", order_name(p.order), order_name(order_));
  SHOG_CHECK(p.index <= total_windows_, ErrorKind::bad_input, "loader position", "index {} is past the {} windows",
             p.index, total_windows_);
  start_epoch(p.epoch);
  index_ = p.index;
}

void BatchLoader::rewind() { start_epoch(0); }

}  // namespace shog
