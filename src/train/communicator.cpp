#include "train/communicator.h"

#include <algorithm>
#include <cstdlib>

#include "core/error.h"

namespace shog {

void Communicator::all_reduce_mean(float* data, int64_t n) {
  all_reduce_sum(data, n);
  if (size() == 1) return;
  const float inv = 1.0f / float(size());
  for (int64_t i = 0; i < n; ++i) data[i] *= inv;
}

Shard shard_of(int64_t n, int rank, int ranks) {
  // Balanced to one element; n * rank stays far below 2^63 for any model.
  return {n * rank / ranks, n * (rank + 1) / ranks};
}

void SingleProcess::gather(const float* shard, float* whole, int64_t n, int) {
  if (shard != whole) std::copy(shard, shard + n, whole);
}

void SingleProcess::scatter(const float* whole, float* shard, int64_t n, int) {
  if (shard != whole) std::copy(whole, whole + n, shard);
}

namespace {

// A non-negative integer variable, or -1 when unset.
int env_int(const std::function<const char*(const char*)>& getenv, const char* name) {
  const char* v = getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  SHOG_CHECK(*end == '\0' && x >= 0 && x < (1L << 30), ErrorKind::invalid_argument, name,
             "\"{}\" is not a rank or a process count", v);
  return int(x);
}

}  // namespace

LaunchInfo detect_launch(const std::function<const char*(const char*)>& getenv) {
  struct Source {
    LaunchInfo::Kind kind;
    const char *rank, *size;
  };
  // mpirun first: Open MPI also sets PMIX_* and a user's shell may carry a
  // stray RANK, but OMPI_COMM_WORLD_* is only ever set by the launcher.
  const Source sources[] = {{LaunchInfo::Kind::mpi, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                            {LaunchInfo::Kind::mpi, "PMI_RANK", "PMI_SIZE"},
                            {LaunchInfo::Kind::torchrun, "RANK", "WORLD_SIZE"}};
  for (const Source& s : sources) {
    const int size = env_int(getenv, s.size);
    if (size < 0) continue;
    const int rank = env_int(getenv, s.rank);
    const std::string where = std::string(s.rank) + "/" + s.size;
    SHOG_CHECK(size >= 1 && rank >= 0 && rank < size, ErrorKind::invalid_argument, where,
               "rank {} of {} processes is not a valid launch", rank, size);
    LaunchInfo info;
    info.kind = size == 1 ? LaunchInfo::Kind::single : s.kind;
    info.rank = rank, info.size = size, info.source = where;
    return info;
  }
  return {};
}

LaunchInfo detect_launch() {
  return detect_launch([](const char* name) -> const char* { return std::getenv(name); });
}

std::unique_ptr<Communicator> make_process_communicator() {
  const LaunchInfo launch = detect_launch();
  switch (launch.kind) {
    case LaunchInfo::Kind::single:
      return std::make_unique<SingleProcess>();
    case LaunchInfo::Kind::mpi:
      return make_mpi_communicator();
    case LaunchInfo::Kind::torchrun:
      break;
  }
  throw Error(ErrorKind::unsupported, launch.source,
              fmt::format("launched as rank {} of {} in the torchrun style, which is the rendezvous of the NCCL "
                          "backend; this build has none. Launch CPU processes with mpirun instead "
                          "(docs/cli.md, \"Data-parallel pretraining\")",
                          launch.rank, launch.size));
}

}  // namespace shog
