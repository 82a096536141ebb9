#include "eval/copy_probe.h"

#include <cmath>

#include "align/packing.h"
#include "core/error.h"
#include "core/random.h"
#include "eval/bits_per_byte.h"

namespace shog {

CopyProbeResult probe_copying(Transformer& m, const std::vector<int32_t>& pool, int32_t bos, int32_t pad_id,
                              const CopyProbeOptions& opt) {
  const int64_t L = opt.run_length, T = m.config().max_seq;
  SHOG_CHECK(!pool.empty(), ErrorKind::invalid_argument, "copy probe", "the token pool is empty");
  SHOG_CHECK(L >= 2, ErrorKind::invalid_argument, "copy probe", "run length {} is below 2", L);
  SHOG_CHECK(opt.runs >= 1, ErrorKind::invalid_argument, "copy probe", "runs {} is below 1", opt.runs);
  SHOG_CHECK(2 * L <= T, ErrorKind::invalid_argument, "copy probe",
             "two runs of {} tokens do not fit the model's context of {} tokens", L, T);
  // One pass scores both runs' tokens after their first: per sample, the
  // first L - 1 scored tokens are the first run's, the next L - 1 the repeat's.
  std::vector<TokenizedSample> samples;
  Rng rng(opt.seed);
  for (int64_t r = 0; r < opt.runs; ++r) {
    TokenizedSample s;
    s.ids.push_back(bos);
    for (int64_t i = 0; i < L; ++i) s.ids.push_back(pool[size_t(rng.below(uint64_t(pool.size())))]);
    s.ids.insert(s.ids.end(), s.ids.begin() + 1, s.ids.end());
    s.mask.assign(s.ids.size(), 0);
    for (int64_t i = 2; i <= L; ++i) s.mask[size_t(i)] = 1, s.mask[size_t(L + i)] = 1;
    samples.push_back(std::move(s));
  }
  double first = 0, repeat = 0;
  for (const std::vector<double>& nll : token_nll(m, samples, T, opt.batch_rows, pad_id))
    for (int64_t i = 0; i < 2 * (L - 1); ++i) (i < L - 1 ? first : repeat) += nll[size_t(i)];
  const double scored = double(opt.runs * (L - 1));
  SHOG_CHECK(std::isfinite(first) && std::isfinite(repeat), ErrorKind::numeric, "copy probe",
             "the log-likelihood is {} (first run) and {} (repeat)", -first, -repeat);
  CopyProbeResult res;
  res.first_nats = first / scored;
  res.repeat_nats = repeat / scored;
  res.runs = opt.runs;
  res.scored_per_run = L - 1;
  return res;
}

CopyProbeResult probe_copying(EvalModel& m, const CopyProbeOptions& opt) {
  const Tokenizer& tok = m.tokenizer();
  std::vector<int32_t> pool;
  for (int32_t id = 0; id < tok.vocab_size(); ++id)
    if (!tok.is_special(id)) pool.push_back(id);
  SHOG_CHECK(!pool.empty(), ErrorKind::invalid_argument, m.dir(), "the tokenizer has no ordinary tokens");
  const int32_t bos = tok.special_id("<|bos|>").value_or(pool[0]);
  AdapterAttached attached(m);
  return probe_copying(m.model(), pool, bos, m.pad_id(), opt);
}

}  // namespace shog
