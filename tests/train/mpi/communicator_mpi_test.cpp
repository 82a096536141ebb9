// The MPI communicator across real ranks. Run by ctest as
// `mpiexec -n 2 shog_train_mpi_tests` (CMakeLists.txt, only when CMake found
// an MPI); every rank runs every test, so a test fails when any rank's
// expectation fails (each rank exits non-zero on its own failures). No
// ASSERT before a collective: a rank returning early from a test would leave
// the others waiting in it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <vector>

#include "core/random.h"
#include "model/transformer.h"
#include "train/adamw_optimizer.h"
#include "train/communicator.h"
#include "train/zero1_optimizer.h"

using namespace shog;

namespace {
Communicator* comm = nullptr;  // MPI_COMM_WORLD for the whole binary (MPI initialises once per process)
}

TEST(MpiCommunicator, RunsAsTwoOrMoreRanks) {
  // Launched without mpirun this would be a world of one in which every
  // collective trivially passes: refuse that instead of passing.
  ASSERT_GE(comm->size(), 2) << "run under mpiexec -n 2 (or more)";
  EXPECT_STREQ(comm->backend(), "mpi");
  EXPECT_EQ(detect_launch().size, comm->size());
  EXPECT_EQ(detect_launch().rank, comm->rank());
}

TEST(MpiCommunicator, AllReduceSumsFloatsAndDoubles) {
  const int r = comm->rank(), W = comm->size();
  std::vector<float> f(1000);
  for (size_t i = 0; i < f.size(); ++i) f[i] = float(i) + float(r) * 0.5f;
  comm->all_reduce_sum(f.data(), int64_t(f.size()));
  double d[2] = {1.0 + r, -0.25};
  comm->all_reduce_sum(d, 2);
  // sum over ranks of (i + r/2) = W*i + W(W-1)/4: exact in float for these magnitudes.
  for (size_t i = 0; i < f.size(); ++i) ASSERT_EQ(f[i], float(W) * float(i) + float(W * (W - 1)) / 4) << i;
  EXPECT_EQ(d[0], double(W) + double(W * (W - 1)) / 2);
  EXPECT_EQ(d[1], -0.25 * W);
}

TEST(MpiCommunicator, AllReduceMeanAverages) {
  std::vector<float> f(5, float(comm->rank()));
  comm->all_reduce_mean(f.data(), 5);
  for (float x : f) EXPECT_FLOAT_EQ(x, float(comm->size() - 1) / 2);
}

TEST(MpiCommunicator, AllReduceGivesEveryRankTheSameBits) {
  // Values whose sum depends on the order of addition: what data parallelism
  // relies on is that every rank gets the same result, whatever the order.
  std::vector<float> f(4099);
  for (size_t i = 0; i < f.size(); ++i) f[i] = std::sin(float(i * 7 + comm->rank() * 13)) * 1e3f + 1e-4f;
  comm->all_reduce_sum(f.data(), int64_t(f.size()));
  std::vector<float> root = f;
  comm->broadcast(root.data(), int64_t(root.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(root.data(), f.data(), f.size() * sizeof(float)), 0);
}

TEST(MpiCommunicator, BroadcastCopiesTheRootsBytesFromAnyRoot) {
  int wrong = 0;
  for (int root = 0; root < comm->size(); ++root) {
    std::vector<int64_t> v(300);
    std::iota(v.begin(), v.end(), int64_t(comm->rank()) * 1000);
    comm->broadcast(v.data(), int64_t(v.size() * sizeof(int64_t)), root);
    for (size_t i = 0; i < v.size(); ++i) wrong += v[i] != int64_t(root) * 1000 + int64_t(i);
  }
  comm->barrier();
  EXPECT_EQ(wrong, 0);
}

TEST(MpiCommunicator, ShardedCollectivesFollowShardOf) {
  const int r = comm->rank(), W = comm->size();
  const int64_t n = 1001;  // not a multiple of the rank count
  const Shard mine = shard_of(n, r, W);
  // reduce-scatter: this rank's shard holds the sum over ranks of (i + r).
  std::vector<float> g(n);
  for (int64_t i = 0; i < n; ++i) g[size_t(i)] = float(i + r);
  comm->reduce_scatter_sum(g.data(), n);
  int wrong = 0;
  for (int64_t i = mine.begin; i < mine.end; ++i) wrong += g[size_t(i)] != float(W * i + W * (W - 1) / 2);
  // all-gather: each rank writes 1000 r + i into its shard only; every rank then holds all of them.
  std::vector<float> p(n, -1);
  for (int64_t i = mine.begin; i < mine.end; ++i) p[size_t(i)] = float(1000 * r) + float(i);
  comm->all_gather(p.data(), n);
  for (int q = 0; q < W; ++q) {
    const Shard s = shard_of(n, q, W);
    for (int64_t i = s.begin; i < s.end; ++i) wrong += p[size_t(i)] != float(1000 * q) + float(i);
  }
  // gather to root 0, then scatter it back out as (value + 1).
  std::vector<float> shard(size_t(mine.size()));
  for (int64_t i = 0; i < mine.size(); ++i) shard[size_t(i)] = float(mine.begin + i) * 2;
  std::vector<float> whole(r == 0 ? size_t(n) : 0);
  comm->gather(shard.data(), r == 0 ? whole.data() : nullptr, n, 0);
  if (r == 0)
    for (int64_t i = 0; i < n; ++i) wrong += whole[size_t(i)] != float(i) * 2, whole[size_t(i)] += 1;
  comm->scatter(r == 0 ? whole.data() : nullptr, shard.data(), n, 0);
  for (int64_t i = 0; i < mine.size(); ++i) wrong += shard[size_t(i)] != float(mine.begin + i) * 2 + 1;
  // In place on root: its shard already inside `whole`.
  if (r == 0)
    for (int64_t i = mine.begin; i < mine.end; ++i) whole[size_t(i)] = -5;
  comm->gather(r == 0 ? whole.data() + mine.begin : shard.data(), r == 0 ? whole.data() : nullptr, n, 0);
  if (r == 0)
    for (int64_t i = 0; i < n; ++i)
      wrong += whole[size_t(i)] != (i < mine.end ? -5.0f : float(i) * 2 + 1);
  EXPECT_EQ(wrong, 0);
}

// ZeRO-1 over the ranks equals every rank summing the gradients and running
// the plain optimizer, up to summation order: the gradient norm is summed
// shard by shard, and with 3+ ranks reduce-scatter may associate the f32
// gradient sums differently from all-reduce.
TEST(Zero1AdamW, ShardedOverRanksEqualsThePlainOptimizerOnSummedGradients) {
  Transformer a(model_preset("tiny")), b(model_preset("tiny"));
  a.init_weights(1), b.init_weights(1);
  const ops::AdamWHyper hyper{1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f};
  AdamWOptimizer plain(a.table(), hyper);
  Zero1AdamW sharded(b.table(), hyper, *comm);
  EXPECT_LT(sharded.shard().size(), b.num_floats());
  Rng rng(100 + uint64_t(comm->rank()));  // each rank its own gradients
  double max_norm_diff = 0;
  for (int step = 0; step < 3; ++step) {
    for (int64_t i = 0; i < a.num_floats(); ++i) a.grads()[i] = b.grads()[i] = float(rng.normal() * 0.1);
    comm->all_reduce_sum(a.grads(), a.num_floats());
    const double na = plain.step(a.params(), a.grads(), 1e-2, 1.0f);
    const double nb = sharded.step(b.params(), b.grads(), 1e-2, 1.0f);
    max_norm_diff = std::max(max_norm_diff, std::abs(na - nb) / na);
  }
  EXPECT_LT(max_norm_diff, 1e-6);
  float max_diff = 0;
  for (int64_t i = 0; i < a.num_floats(); ++i) max_diff = std::max(max_diff, std::abs(a.params()[i] - b.params()[i]));
  EXPECT_LT(max_diff, 1e-6f);
  std::unique_ptr<AdamWOptimizer> gathered;
  if (comm->is_root()) gathered = std::make_unique<AdamWOptimizer>(b.table(), hyper);
  sharded.gather(gathered.get());
  if (comm->is_root()) {
    EXPECT_EQ(gathered->steps_taken(), 3);
    float dm = 0;
    for (size_t i = 0; i < plain.m().size(); ++i) dm = std::max(dm, std::abs(gathered->m()[i] - plain.m()[i]));
    EXPECT_LT(dm, 1e-6f);
  }
}

TEST(MpiCommunicator, ZeroLengthCollectivesAreFine) {
  comm->all_reduce_sum(static_cast<float*>(nullptr), 0);
  comm->broadcast(nullptr, 0, 0);
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::unique_ptr<Communicator> world = make_mpi_communicator();
  comm = world.get();
  const int rc = RUN_ALL_TESTS();
  // Any rank's failure fails the run: mpiexec returns non-zero when a rank does.
  return rc;
}
