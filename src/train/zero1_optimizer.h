// AdamW with its moments sharded over the data-parallel ranks: ZeRO stage 1
// (Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training
// Trillion Parameter Models"). The parameter block is cut into one
// contiguous shard per rank (shard_of; the cuts may fall inside a tensor,
// since AdamW is elementwise). Per step:
//
//   g_shard = sum over ranks of g[shard]          reduce-scatter
//   norm    = sqrt(sum over ranks |g_shard|^2)    one all-reduce of a double
//   p[shard] = AdamW(p[shard], g_shard * clip_scale(norm), m_shard, v_shard)
//   p       = concat over ranks of p[shard]       all-gather
//
// which is the unsharded update (the same clipped AdamW on the summed
// gradient) with each rank holding 2/W of the moments instead of 2. The
// gradient block itself stays whole on every rank (that would be stage 2).
// Checkpoints keep the unsharded format: gather() assembles whole moments
// on rank 0 and scatter() deals them out again, so ZeRO-1 runs and plain
// runs resume each other's checkpoints.
#pragma once
#include <cstdint>

#include "model/parameters.h"
#include "ops/adamw.h"
#include "train/adamw_optimizer.h"
#include "train/communicator.h"

namespace shog {

class Zero1AdamW {
 public:
  // table: the whole parameter block's layout; it must outlive this.
  Zero1AdamW(const ParamTable& table, ops::AdamWHyper hyper, Communicator& comm);

  // grads: this rank's gradient block, not yet summed over ranks (its shard
  // is overwritten with the clipped sum). Updates this rank's shard of
  // params and then gathers every shard into params on every rank. Returns
  // the global gradient norm before clipping; throws ErrorKind::numeric if
  // it is not finite, on every rank and before any parameter changes. The
  // caller refreshes bf16 compute copies afterwards.
  double step(float* params, float* grads, double lr, float clip_norm);

  Shard shard() const { return shard_; }
  int64_t steps_taken() const { return opt_.steps_taken(); }
  // Whole moments (and the step count) into root's `whole` (nullptr on the
  // other ranks); collective.
  void gather(AdamWOptimizer* whole);
  // This rank's moments := its shard of root's `whole`; collective.
  void scatter(const AdamWOptimizer* whole);

 private:
  Communicator& comm_;
  int64_t n_;
  Shard shard_;
  ParamTable shard_table_;  // the entries' parts inside the shard, offsets from shard_.begin
  AdamWOptimizer opt_;      // over shard_table_: the moments this rank owns
};

}  // namespace shog
