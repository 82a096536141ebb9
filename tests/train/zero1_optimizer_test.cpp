// ZeRO-1 on one process (a single shard) is the plain optimizer, to the bit;
// across ranks: tests/train/mpi/communicator_mpi_test.cpp.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/random.h"
#include "model/transformer.h"
#include "train/adamw_optimizer.h"
#include "train/communicator.h"
#include "train/zero1_optimizer.h"

using namespace shog;

TEST(Zero1AdamW, OneShardIsThePlainOptimizerBitForBit) {
  Transformer a(model_preset("tiny")), b(model_preset("tiny"));
  a.init_weights(1), b.init_weights(1);
  const ops::AdamWHyper hyper{1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f};
  AdamWOptimizer plain(a.table(), hyper);
  SingleProcess one;
  Zero1AdamW sharded(b.table(), hyper, one);
  EXPECT_EQ(sharded.shard().begin, 0);
  EXPECT_EQ(sharded.shard().end, b.num_floats());
  Rng rng(3);
  for (int step = 0; step < 3; ++step) {
    for (int64_t i = 0; i < a.num_floats(); ++i) a.grads()[i] = b.grads()[i] = float(rng.normal() * 0.1);
    // clip 1.0 against a norm far above it: the clipped path is the one exercised
    const double na = plain.step(a.params(), a.grads(), 1e-2, 1.0f);
    const double nb = sharded.step(b.params(), b.grads(), 1e-2, 1.0f);
    ASSERT_GT(na, 1.0);
    ASSERT_EQ(na, nb);
  }
  ASSERT_EQ(std::memcmp(a.params(), b.params(), size_t(a.num_floats()) * sizeof(float)), 0);
  AdamWOptimizer gathered(b.table(), hyper);
  sharded.gather(&gathered);
  EXPECT_EQ(gathered.steps_taken(), 3);
  EXPECT_EQ(gathered.m(), plain.m());
  EXPECT_EQ(gathered.v(), plain.v());
  // and back: a fresh sharded optimizer given the whole state continues identically
  Zero1AdamW resumed(b.table(), hyper, one);
  resumed.scatter(&gathered);
  for (int64_t i = 0; i < a.num_floats(); ++i) a.grads()[i] = b.grads()[i] = float(rng.normal() * 0.1);
  plain.step(a.params(), a.grads(), 1e-2, 1.0f);
  resumed.step(b.params(), b.grads(), 1e-2, 1.0f);
  EXPECT_EQ(std::memcmp(a.params(), b.params(), size_t(a.num_floats()) * sizeof(float)), 0);
}
