// The MPI backend of Communicator: MPI_COMM_WORLD of the processes mpirun
// started (Debian's Open MPI in CI; any MPI-3 library). Compiled into the
// train layer always, with a body only when CMake found an MPI
// (SHOG_HAVE_MPI), so that the rest of the code never asks.
#include "train/communicator.h"

#include "core/error.h"

#if SHOG_HAVE_MPI
// The C API only: without these, mpi.h in C++ pulls in the deprecated C++
// bindings, which need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <vector>

namespace shog {

namespace {

// MPI counts are int. Sums also go in buckets of at most this many elements,
// which bounds the temporary buffers the library allocates per call.
constexpr int64_t kBucket = int64_t(1) << 24;  // 16 Mi elements: 64 MiB of f32

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw Error(ErrorKind::io, call, std::string(msg, size_t(len)));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    SHOG_CHECK(!initialized && !finalized, ErrorKind::internal, "MPI",
               "MPI was already initialised in this process (one MpiCommunicator per process)");
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    // Errors come back as codes (thrown as shog::Error) instead of aborting the job in the library.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCommunicator() override {
    if (std::uncaught_exceptions() == 0) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "mpi"; }

  void all_reduce_sum(float* data, int64_t n) override { sum(data, n, MPI_FLOAT); }

  void start_all_reduce_sum(float* data, int64_t n) override {
    for (int64_t off = 0; off < n; off += kBucket) {
      const int len = int(std::min(kBucket, n - off));
      MPI_Request req;
      check(MPI_Iallreduce(MPI_IN_PLACE, data + off, len, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req),
            "MPI_Iallreduce");
      pending_.push_back(req);
    }
    // Without an asynchronous progress thread, Open MPI advances a
    // non-blocking collective only inside MPI calls: poke the ones in flight
    // each time a new one starts, i.e. once per layer of backward.
    int done = 0;
    check(MPI_Testall(int(pending_.size()), pending_.data(), &done, MPI_STATUSES_IGNORE), "MPI_Testall");
    if (done) pending_.clear();
  }

  void wait_all() override {
    if (pending_.empty()) return;
    check(MPI_Waitall(int(pending_.size()), pending_.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
    pending_.clear();
  }
  void all_reduce_sum(double* data, int64_t n) override { sum(data, n, MPI_DOUBLE); }

  void broadcast(void* data, int64_t bytes, int root) override {
    char* p = static_cast<char*>(data);
    for (int64_t off = 0; off < bytes; off += kBucket) {
      const int len = int(std::min(kBucket, bytes - off));
      check(MPI_Bcast(p + off, len, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    }
  }

  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

  void reduce_scatter_sum(float* data, int64_t n) override {
    layout(n);
    scratch_.resize(size_t(counts_[size_t(rank_)]));
    check(MPI_Reduce_scatter(data, scratch_.data(), counts_.data(), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Reduce_scatter");
    std::copy(scratch_.begin(), scratch_.end(), data + displs_[size_t(rank_)]);
  }

  void all_gather(float* data, int64_t n) override {
    layout(n);
    check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts_.data(), displs_.data(), MPI_FLOAT,
                         MPI_COMM_WORLD),
          "MPI_Allgatherv");
  }

  void gather(const float* shard, float* whole, int64_t n, int root) override {
    layout(n);
    const int mine = counts_[size_t(rank_)];
    // On root, its own shard may already sit in place inside `whole`.
    const void* send = rank_ == root && shard == whole + displs_[size_t(rank_)] ? MPI_IN_PLACE : shard;
    check(MPI_Gatherv(send, mine, MPI_FLOAT, whole, counts_.data(), displs_.data(), MPI_FLOAT, root, MPI_COMM_WORLD),
          "MPI_Gatherv");
  }

  void scatter(const float* whole, float* shard, int64_t n, int root) override {
    layout(n);
    const int mine = counts_[size_t(rank_)];
    void* recv = rank_ == root && shard == whole + displs_[size_t(rank_)] ? MPI_IN_PLACE : shard;
    check(MPI_Scatterv(whole, counts_.data(), displs_.data(), MPI_FLOAT, recv, mine, MPI_FLOAT, root, MPI_COMM_WORLD),
          "MPI_Scatterv");
  }

 private:
  // counts_/displs_ of shard_of(n, r, size) for every rank r. The v-collectives
  // take int offsets, so a sharded block is limited to 2^31 - 1 elements.
  void layout(int64_t n) {
    SHOG_CHECK(n <= INT32_MAX, ErrorKind::unsupported, "train.zero1",
               "sharded collectives over MPI take at most 2^31 - 1 elements, not {}", n);
    counts_.resize(size_t(size_));
    displs_.resize(size_t(size_));
    for (int r = 0; r < size_; ++r) {
      const Shard s = shard_of(n, r, size_);
      counts_[size_t(r)] = int(s.size());
      displs_[size_t(r)] = int(s.begin);
    }
  }

  std::vector<MPI_Request> pending_;  // started by start_all_reduce_sum, not yet waited for

  template <class T>
  void sum(T* data, int64_t n, MPI_Datatype type) {
    for (int64_t off = 0; off < n; off += kBucket) {
      const int len = int(std::min(kBucket, n - off));
      check(MPI_Allreduce(MPI_IN_PLACE, data + off, len, type, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    }
  }

  int rank_ = 0, size_ = 1;
  std::vector<int> counts_, displs_;
  std::vector<float> scratch_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace shog

#else

namespace shog {

std::unique_ptr<Communicator> make_mpi_communicator() {
  throw Error(ErrorKind::unsupported, "mpirun",
              "launched by an MPI launcher, but this shoggoth was built without MPI (install libopenmpi-dev and "
              "rebuild; CMake reports \"Found MPI\")");
}

}  // namespace shog

#endif
