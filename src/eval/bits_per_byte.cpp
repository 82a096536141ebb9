#include "eval/bits_per_byte.h"

#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/file_io.h"

namespace shog {

double BitsPerByte::value() const {
  return bytes > 0 ? nats / std::log(2.0) / double(bytes) : std::numeric_limits<double>::quiet_NaN();
}
double BitsPerByte::nats_per_token() const {
  return tokens > 0 ? nats / double(tokens) : std::numeric_limits<double>::quiet_NaN();
}

BpbText read_plain_text(const std::string& path) {
  BpbText t;
  t.source = path;
  t.plain = read_file(path);
  SHOG_CHECK(!t.plain.empty(), ErrorKind::bad_input, path, "the text for bits per byte is empty");
  return t;
}

BpbText read_chat_text(const std::string& path) {
  BpbText t;
  t.source = path;
  t.chat = true;
  int64_t replies = 0;
  for (auto& c : read_conversations(path)) {
    SHOG_CHECK(!c.is_text(), ErrorKind::bad_input, fmt::format("{}: record {}", path, t.conversations.size() + 1),
               "a \"text\" document in a conversation file; give plain text as a .txt file");
    for (const auto& msg : c.messages) replies += msg.role == ChatRole::assistant;
    t.conversations.push_back(std::move(c.messages));
  }
  SHOG_CHECK(replies > 0, ErrorKind::bad_input, path, "no assistant reply to measure bits per byte on");
  return t;
}

ScoredSamples plain_text_windows(const Tokenizer& tok, std::string_view text, int64_t T) {
  SHOG_ASSERT(T >= 1);
  std::vector<int32_t> ids;
  if (auto bos = tok.special_id("<|bos|>")) ids.push_back(*bos);
  const bool has_bos = !ids.empty();
  auto body = tok.encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ScoredSamples out;
  if (ids.size() < 2) return out;  // one token and no <|bos|>: nothing is predicted
  // Without <|bos|> the first token is context only: its bytes are not scored.
  out.bytes = int64_t(text.size()) - (has_bos ? 0 : int64_t(tok.token_bytes(ids[0]).size()));
  // Window k holds ids[kT .. kT+T] (T+1 tokens, sharing one with the next
  // window) and scores all but its first: every id after ids[0] once.
  const int64_t n = int64_t(ids.size());
  for (int64_t s = 0; s + 1 < n; s += T) {
    const int64_t e = std::min(s + T + 1, n);
    TokenizedSample w;
    w.ids.assign(ids.begin() + s, ids.begin() + e);
    w.mask.assign(w.ids.size(), 1);
    w.mask[0] = 0;
    out.samples.push_back(std::move(w));
  }
  return out;
}

ScoredSamples chat_reply_samples(const ChatTemplate& chat, const std::vector<Messages>& conversations, int64_t T) {
  ScoredSamples out;
  for (const Messages& msgs : conversations) {
    RenderedChat r = chat.render(msgs);
    TokenizedSample s{std::move(r.ids), std::move(r.mask)};
    if (std::accumulate(s.mask.begin() + 1, s.mask.end(), int64_t(0)) == 0) continue;  // no reply
    if (!fits(s, T, PackMode::next_token)) {
      ++out.skipped;
      continue;
    }
    for (const auto& msg : msgs)
      if (msg.role == ChatRole::assistant) out.bytes += int64_t(msg.content.size());
    out.samples.push_back(std::move(s));
  }
  return out;
}

std::vector<std::vector<double>> token_nll(Transformer& m, const std::vector<TokenizedSample>& samples, int64_t T,
                                           int64_t batch_rows, int32_t pad_id) {
  SHOG_CHECK(batch_rows >= 1, ErrorKind::invalid_argument, "bits per byte", "batch rows must be >= 1");
  std::vector<std::vector<int64_t>> lengths;
  for (const auto& s : samples) lengths.push_back({packed_length(s, PackMode::next_token)});
  std::vector<size_t> order(samples.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::vector<std::vector<double>> out(samples.size());
  const bool was_training = m.training();
  m.set_training(false);
  std::vector<float> logp;
  for (const auto& group : plan_batches(lengths, order, T, batch_rows)) {
    std::vector<const TokenizedSample*> ptrs;
    for (size_t i : group) ptrs.push_back(&samples[i]);
    PackedBatch b = pack_samples(ptrs, T, PackMode::next_token, pad_id);
    m.forward(b.inputs.data(), b.B, b.T, b.seg_lens);
    logp.assign(b.inputs.size(), 0.0f);
    m.token_logprobs(b.targets.data(), logp.data());
    for (size_t k = 0; k < group.size(); ++k)
      for (int64_t i = b.first[k]; i <= b.last(k); ++i)
        if (b.weights[size_t(i)] != 0) out[group[k]].push_back(-double(logp[size_t(i)]));
  }
  m.set_training(was_training);
  return out;
}

std::vector<NllSum> sample_nll(Transformer& m, const std::vector<TokenizedSample>& samples, int64_t T,
                               int64_t batch_rows, int32_t pad_id) {
  std::vector<NllSum> out;
  for (const std::vector<double>& tokens : token_nll(m, samples, T, batch_rows, pad_id)) {
    NllSum o;
    for (double t : tokens) o.nats += t;
    o.tokens = int64_t(tokens.size());
    SHOG_CHECK(std::isfinite(o.nats), ErrorKind::numeric, "bits per byte", "the log-likelihood is {}", o.nats);
    out.push_back(o);
  }
  return out;
}

NllSum sum_nll(Transformer& m, const std::vector<TokenizedSample>& samples, int64_t T, int64_t batch_rows,
               int32_t pad_id) {
  NllSum out;
  for (const NllSum& s : sample_nll(m, samples, T, batch_rows, pad_id)) out.nats += s.nats, out.tokens += s.tokens;
  return out;
}

BitsPerByte bits_per_byte(EvalModel& m, const BpbText& text, const BpbOptions& opt) {
  const int64_t ctx = m.model().config().max_seq;
  const int64_t T = opt.seq_len > 0 ? std::min(opt.seq_len, ctx) : ctx;
  ScoredSamples s = text.chat ? chat_reply_samples(m.chat(), text.conversations, T)
                              : plain_text_windows(m.tokenizer(), text.plain, T);
  AdapterAttached attached(m);
  NllSum nll = sum_nll(m.model(), s.samples, T, opt.batch_rows, m.pad_id());
  BitsPerByte r;
  r.nats = nll.nats;
  r.tokens = nll.tokens;
  r.bytes = s.bytes;
  r.skipped = s.skipped;
  return r;
}

}  // namespace shog
