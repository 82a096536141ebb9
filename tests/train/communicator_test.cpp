// The single-process communicator and launch detection (the collectives
// across real ranks: tests/train/mpi/communicator_mpi_test.cpp under mpirun).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/error.h"
#include "train/communicator.h"

using namespace shog;

namespace {
LaunchInfo launch_with(const std::map<std::string, std::string>& env) {
  return detect_launch([&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}
}  // namespace

TEST(SingleProcess, CollectivesLeaveDataAsItIs) {
  SingleProcess one;
  EXPECT_EQ(one.rank(), 0);
  EXPECT_EQ(one.size(), 1);
  EXPECT_TRUE(one.is_root());
  float f[3] = {1.5f, -2, 3};
  double d = 4.25;
  one.all_reduce_sum(f, 3);
  one.all_reduce_mean(f, 3);
  one.all_reduce_sum(&d, 1);
  char bytes[4] = {'a', 'b', 'c', 'd'};
  one.broadcast(bytes, 4, 0);
  one.barrier();
  EXPECT_EQ(f[0], 1.5f);
  EXPECT_EQ(f[1], -2.0f);
  EXPECT_EQ(f[2], 3.0f);
  EXPECT_EQ(d, 4.25);
  EXPECT_EQ(std::string(bytes, 4), "abcd");
}

TEST(SingleProcess, ShardedCollectivesCoverEverything) {
  SingleProcess one;
  float g[4] = {1, 2, 3, 4}, whole[4] = {}, back[4] = {};
  one.reduce_scatter_sum(g, 4);
  one.all_gather(g, 4);
  one.gather(g, whole, 4, 0);
  one.scatter(whole, back, 4, 0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(back[i], float(i + 1));
}

TEST(ShardOf, ShardsTileTheRangeInRankOrderWithinOneElement) {
  for (int64_t n : {0, 1, 7, 1000, 1001}) {
    for (int W : {1, 2, 3, 8}) {
      int64_t next = 0;
      for (int r = 0; r < W; ++r) {
        Shard s = shard_of(n, r, W);
        EXPECT_EQ(s.begin, next) << n << " " << W << " " << r;
        EXPECT_GE(s.size(), n / W);
        EXPECT_LE(s.size(), n / W + 1);
        next = s.end;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST(DetectLaunch, NoLauncherIsOneProcess) {
  LaunchInfo l = launch_with({});
  EXPECT_EQ(l.kind, LaunchInfo::Kind::single);
  EXPECT_EQ(l.size, 1);
}

TEST(DetectLaunch, OpenMpiVariablesMeanMpi) {
  LaunchInfo l = launch_with({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"RANK", "7"},
                              {"WORLD_SIZE", "9"}});
  EXPECT_EQ(l.kind, LaunchInfo::Kind::mpi);
  EXPECT_EQ(l.rank, 1);
  EXPECT_EQ(l.size, 2);
}

TEST(DetectLaunch, PmiVariablesMeanMpi) {
  LaunchInfo l = launch_with({{"PMI_RANK", "0"}, {"PMI_SIZE", "4"}});
  EXPECT_EQ(l.kind, LaunchInfo::Kind::mpi);
  EXPECT_EQ(l.size, 4);
}

TEST(DetectLaunch, MpirunWithOneProcessIsOneProcess) {
  EXPECT_EQ(launch_with({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "1"}}).kind,
            LaunchInfo::Kind::single);
}

TEST(DetectLaunch, TorchrunVariablesAreRecognisedAndRefused) {
  LaunchInfo l = launch_with({{"RANK", "3"}, {"WORLD_SIZE", "8"}, {"MASTER_ADDR", "10.0.0.1"}});
  EXPECT_EQ(l.kind, LaunchInfo::Kind::torchrun);
  EXPECT_EQ(l.rank, 3);
  EXPECT_EQ(l.size, 8);
  // make_process_communicator() reads the real environment; the refusal is
  // checked end to end in tests/cli/mpi/pretrain_dp_test.sh.
}

TEST(DetectLaunch, MalformedValuesNameTheVariable) {
  for (auto env : std::vector<std::map<std::string, std::string>>{
           {{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "2"}},
           {{"OMPI_COMM_WORLD_SIZE", "2"}},
           {{"RANK", "x"}, {"WORLD_SIZE", "2"}},
           {{"PMI_RANK", "0"}, {"PMI_SIZE", "0"}}}) {
    try {
      launch_with(env);
      ADD_FAILURE() << "accepted " << env.begin()->first;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
      EXPECT_NE(e.where().find("RANK"), std::string::npos) << e.what();
    }
  }
}
