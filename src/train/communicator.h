// The one thing data parallelism needs from the outside: a group of
// processes ("ranks") that can sum buffers together and share bytes. The
// training loop sees only this interface; a backend implements it:
//
//   SingleProcess   one rank; every collective is a no-op (the default run)
//   MPI             CPU processes launched by mpirun (mpi_communicator.cpp;
//                   built when CMake finds an MPI)
//   NCCL            one process per GPU (not built yet): the same calls, the
//                   buffers then device pointers ordered on the compute stream
//
// Contract of every collective: all ranks call it in the same order with the
// same sizes; it returns when this rank's result is complete. A backend must
// give every rank the same bits for a sum (the MPI standard only recommends
// it; Open MPI 4.1 did so in every test here), so that ranks applying the
// same update to the same weights stay identical without re-broadcasting
// them; run_pretrain checks this at every checkpoint.
//
// Rendezvous (how a process learns its rank and finds the others) is the
// launcher's business, read from the environment by detect_launch():
//   mpirun / mpiexec  OMPI_COMM_WORLD_RANK/SIZE (Open MPI), PMI_RANK/SIZE
//                     (MPICH, Slurm): MPI_Init does the rest.
//   torchrun style    RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT:
//                     what an NCCL backend would read (rank 0 creates the
//                     ncclUniqueId and serves it at MASTER_ADDR:MASTER_PORT).
//                     Not implemented: such a launch is refused.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace shog {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char* backend() const = 0;  // "single", "mpi"
  bool is_root() const { return rank() == 0; }

  // data[0..n) := the elementwise sum of every rank's data[0..n).
  virtual void all_reduce_sum(float* data, int64_t n) = 0;
  virtual void all_reduce_sum(double* data, int64_t n) = 0;
  // The sum divided by size() (one more rounding than the sum).
  void all_reduce_mean(float* data, int64_t n);
  // all_reduce_sum started without waiting for it: data[0..n) holds the sum
  // once wait_all() returns and must not be touched before. Every rank
  // starts the same sums in the same order. Lets gradient sums of the upper
  // layers run while backward is still working on the layers below. The
  // default runs the blocking sum at once (a backend with nothing to overlap).
  virtual void start_all_reduce_sum(float* data, int64_t n) { all_reduce_sum(data, n); }
  virtual void wait_all() {}
  // Every rank's data[0..bytes) := root's.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  virtual void barrier() = 0;

  // Sharded collectives (ZeRO-1): n elements split into size() shards,
  // shard_of(n, r, size()) belonging to rank r.
  // This rank's shard of data[0..n) := the sum over ranks of that shard;
  // the rest of data is left unspecified.
  virtual void reduce_scatter_sum(float* data, int64_t n) = 0;
  // Every rank's shard of data[0..n) to every rank (in place).
  virtual void all_gather(float* data, int64_t n) = 0;
  // Root's whole[0..n) := every rank's `shard` (this rank's shard's values);
  // `whole` is only read on root (nullptr elsewhere).
  virtual void gather(const float* shard, float* whole, int64_t n, int root) = 0;
  // This rank's `shard` := its shard of root's whole[0..n).
  virtual void scatter(const float* whole, float* shard, int64_t n, int root) = 0;
};

// Rank r's shard of n elements over `ranks`: [r n / ranks, (r+1) n / ranks).
struct Shard {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
Shard shard_of(int64_t n, int rank, int ranks);

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return "single"; }
  void all_reduce_sum(float*, int64_t) override {}
  void all_reduce_sum(double*, int64_t) override {}
  void broadcast(void*, int64_t, int) override {}
  void barrier() override {}
  void reduce_scatter_sum(float*, int64_t) override {}
  void all_gather(float*, int64_t) override {}
  void gather(const float* shard, float* whole, int64_t n, int) override;
  void scatter(const float* whole, float* shard, int64_t n, int) override;
};

// How this process was launched, from its environment.
struct LaunchInfo {
  enum class Kind { single, mpi, torchrun } kind = Kind::single;
  int rank = 0, size = 1;
  std::string source;  // the variables it was read from, for messages
};
// getenv is a parameter so that tests can feed an environment. Throws
// shog::Error(invalid_argument) for malformed values (rank >= size, ...).
LaunchInfo detect_launch(const std::function<const char*(const char*)>& getenv);
LaunchInfo detect_launch();  // this process's environment

// MPI_COMM_WORLD (mpi_communicator.cpp). Initialises MPI (threads funneled:
// OpenMP inside, MPI calls from the main thread only) and finalises it on
// destruction, except while an exception unwinds: MPI_Finalize waits for the
// other ranks, which may be blocked in a collective the failing rank will
// never join; exiting non-zero without it makes mpirun end the whole job.
// One per process. Throws shog::Error(unsupported) when built without MPI.
std::unique_ptr<Communicator> make_mpi_communicator();

// The communicator for this process: MPI under mpirun (size > 1), a single
// process when not launched by anything. A multi-process launch this build
// cannot serve (mpirun without MPI support, torchrun-style variables) is an
// error, never N independent runs writing one output directory.
std::unique_ptr<Communicator> make_process_communicator();

}  // namespace shog
