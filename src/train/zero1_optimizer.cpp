#include "train/zero1_optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace shog {

namespace {

// The entries of `table` cut to [s.begin, s.end), as flat pieces laid out
// from 0: a piece keeps its entry's name, decay and frozen flags.
ParamTable shard_table(const ParamTable& table, Shard s) {
  std::vector<ParamEntry> pieces;
  int64_t expect = 0;
  for (const ParamEntry& e : table.entries()) {
    SHOG_ASSERT(e.offset == expect);  // entries tile the block, so shards tile the entries
    expect += e.numel;
    const int64_t lo = std::max(e.offset, s.begin), hi = std::min(e.offset + e.numel, s.end);
    if (lo >= hi) continue;
    ParamEntry p = e;
    p.shape = {hi - lo};
    pieces.push_back(p);
  }
  SHOG_ASSERT(expect == table.total());
  return ParamTable(std::move(pieces));
}

}  // namespace

Zero1AdamW::Zero1AdamW(const ParamTable& table, ops::AdamWHyper hyper, Communicator& comm)
    : comm_(comm),
      n_(table.total()),
      shard_(shard_of(n_, comm.rank(), comm.size())),
      shard_table_(shard_table(table, shard_)),
      opt_(shard_table_, hyper) {}

double Zero1AdamW::step(float* params, float* grads, double lr, float clip_norm) {
  comm_.reduce_scatter_sum(grads, n_);
  float* g = grads + shard_.begin;
  double ss = 0;
  for (const ParamEntry& e : shard_table_.entries())
    if (!e.frozen) ss += ops::sum_squares(g + e.offset, e.numel);
  comm_.all_reduce_sum(&ss, 1);
  const double norm = std::sqrt(ss);
  SHOG_CHECK(std::isfinite(norm), ErrorKind::numeric, fmt::format("optimizer step {}", opt_.steps_taken() + 1),
             "gradient norm is {}; parameters left unchanged", norm);
  // Clipping applied here, so the shard's own AdamW runs unclipped:
  // adamw_update forms grad * grad_scale first, so pre-scaling gives the same bits.
  const float scale = ops::clip_scale(norm, clip_norm);
  if (scale != 1.0f)
    for (int64_t i = 0; i < shard_.size(); ++i) g[i] *= scale;
  opt_.step(params + shard_.begin, g, lr, 0.0f);
  comm_.all_gather(params, n_);
  return norm;
}

void Zero1AdamW::gather(AdamWOptimizer* whole) {
  comm_.gather(opt_.m().data(), whole ? whole->m().data() : nullptr, n_, 0);
  comm_.gather(opt_.v().data(), whole ? whole->v().data() : nullptr, n_, 0);
  if (whole) whole->set_steps_taken(opt_.steps_taken());
}

void Zero1AdamW::scatter(const AdamWOptimizer* whole) {
  comm_.scatter(whole ? whole->m().data() : nullptr, opt_.m().data(), n_, 0);
  comm_.scatter(whole ? whole->v().data() : nullptr, opt_.v().data(), n_, 0);
  int64_t t = whole ? whole->steps_taken() : 0;
  comm_.broadcast(&t, sizeof t, 0);
  opt_.set_steps_taken(t);
}

}  // namespace shog
