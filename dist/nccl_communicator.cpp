#include "dist/nccl_communicator.h"

#if GRAFT_CUDA
#include <nccl.h>

#include <cstring>

#include "ops/cuda/runtime.h"
#include "ops/tensor_math.h"
#endif

namespace graft::dist {

#if !GRAFT_CUDA

bool nccl_built() {
  return false;
}

std::unique_ptr<Communicator> make_nccl_communicator(Communicator&, std::string name) {
  throw Error("the " + name +
              " group got a GPU tensor, but this graft was built without CUDA and NCCL");
}

#else

bool nccl_built() {
  return true;
}

namespace {

#define GRAFT_NCCL_CHECK(expression, what)                                \
  do {                                                                    \
    ncclResult_t graft_nccl_status_ = (expression);                       \
    if (graft_nccl_status_ != ncclSuccess)                                \
      throw Error(std::string(#expression) + " (" + (what) +              \
                  ") failed: " + ncclGetErrorString(graft_nccl_status_)); \
  } while (0)

ncclDataType_t nccl_type(const Tensor& t, const std::string& what) {
  switch (t.dtype()) {
    case DType::f32:
      return ncclFloat32;
    case DType::bf16:
      return ncclBfloat16;
    case DType::f64:
      return ncclFloat64;
    case DType::i32:
      return ncclInt32;
  }
  throw Error(what + ": no NCCL type for " + t.describe());
}

// An event recorded on one stream that another waits for.
class Event {
 public:
  Event() { GRAFT_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming)); }
  ~Event() { cudaEventDestroy(event_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record(cudaStream_t s) { GRAFT_CUDA_CHECK(cudaEventRecord(event_, s)); }
  void make_wait(cudaStream_t s) { GRAFT_CUDA_CHECK(cudaStreamWaitEvent(s, event_, 0)); }
  bool done() {
    const cudaError_t status = cudaEventQuery(event_);
    if (status == cudaErrorNotReady) return false;
    GRAFT_CUDA_CHECK(status);
    return true;
  }

 private:
  cudaEvent_t event_ = nullptr;
};

class NcclPending : public PendingCollective {
 public:
  NcclPending(Tensor tensor, std::unique_ptr<Event> done)
      : tensor_(std::move(tensor)), done_(std::move(done)) {}
  ~NcclPending() override {
    try {
      wait();
    } catch (...) {
    }
  }
  // Orders the compute stream after the collective; the host goes on.
  void wait() override {
    if (waited_) return;
    done_->make_wait(cuda::stream());
    waited_ = true;
  }
  bool ready() override {
    if (!done_->done()) return false;
    wait();
    return true;
  }

 private:
  Tensor tensor_;  // keeps the buffer alive while NCCL uses it
  std::unique_ptr<Event> done_;
  bool waited_ = false;
};

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(Communicator& bootstrap, std::string name)
      : name_(std::move(name)), rank_(bootstrap.rank()), size_(bootstrap.size()) {
    GRAFT_CHECK(cuda::available(),
                "NCCL for the " << name_ << " group: " << cuda::unavailable_reason());
    ncclUniqueId id;
    std::memset(&id, 0, sizeof(id));
    if (rank_ == 0) GRAFT_NCCL_CHECK(ncclGetUniqueId(&id), name_);
    static_assert(sizeof(ncclUniqueId) % sizeof(int32_t) == 0);
    std::vector<int32_t> words(sizeof(ncclUniqueId) / sizeof(int32_t));
    std::memcpy(words.data(), &id, sizeof(id));
    Tensor carrier = Tensor::from_vector(words, {static_cast<int64_t>(words.size())});
    bootstrap.broadcast(carrier, 0);
    std::memcpy(&id, carrier.raw_data(), sizeof(id));
    GRAFT_NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_), name_);
    GRAFT_CUDA_CHECK(cudaStreamCreateWithFlags(&comm_stream_, cudaStreamNonBlocking));
  }
  ~NcclCommunicator() override {
    cudaStreamSynchronize(comm_stream_);
    ncclCommDestroy(comm_);
    cudaStreamDestroy(comm_stream_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& name() const override { return name_; }

  void all_reduce(const Tensor& tensor, ReduceOp op) override {
    all_reduce_async(tensor, op)->wait();
  }

  std::unique_ptr<PendingCollective> all_reduce_async(const Tensor& tensor, ReduceOp op) override {
    const std::string what = check(tensor, "all_reduce");
    check_reduce_op(tensor, op, "all_reduce", *this);
    begin();
    // ncclAvg divides the sum by the rank count on every rank alike.
    GRAFT_NCCL_CHECK(
        ncclAllReduce(tensor.raw_data(), tensor.raw_data(), static_cast<size_t>(tensor.numel()),
                      nccl_type(tensor, what), op == ReduceOp::average ? ncclAvg : ncclSum, comm_,
                      comm_stream_),
        what);
    return std::make_unique<NcclPending>(tensor, end());
  }

  void reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override {
    const std::string what = check(input, "reduce_scatter");
    check(output, "reduce_scatter");
    check_chunked(output, input, "reduce_scatter", *this);
    check_reduce_op(input, op, "reduce_scatter", *this);
    begin();
    GRAFT_NCCL_CHECK(
        ncclReduceScatter(input.raw_data(), output.raw_data(), static_cast<size_t>(output.numel()),
                          nccl_type(input, what), op == ReduceOp::average ? ncclAvg : ncclSum,
                          comm_, comm_stream_),
        what);
    NcclPending(output, end()).wait();
  }

  void all_gather(const Tensor& input, const Tensor& output) override {
    const std::string what = check(input, "all_gather");
    check(output, "all_gather");
    check_chunked(input, output, "all_gather", *this);
    begin();
    GRAFT_NCCL_CHECK(
        ncclAllGather(input.raw_data(), output.raw_data(), static_cast<size_t>(input.numel()),
                      nccl_type(input, what), comm_, comm_stream_),
        what);
    NcclPending(output, end()).wait();
  }

  void broadcast(const Tensor& tensor, int root) override {
    const std::string what = check(tensor, "broadcast");
    check_root(root, "broadcast", *this);
    begin();
    GRAFT_NCCL_CHECK(
        ncclBroadcast(tensor.raw_data(), tensor.raw_data(), static_cast<size_t>(tensor.numel()),
                      nccl_type(tensor, what), root, comm_, comm_stream_),
        what);
    NcclPending(tensor, end()).wait();
  }

  void barrier() override {
    Tensor token = Tensor::zeros({1}, DType::f32, Device::cuda);
    all_reduce(token, ReduceOp::sum);
    cuda::synchronize();
  }

 private:
  std::string check(const Tensor& tensor, const char* collective) const {
    GRAFT_CHECK(tensor.defined(),
                collective << " on the " << name_ << " group got an undefined tensor");
    const std::string what = describe_collective(collective, tensor, *this);
    GRAFT_CHECK(tensor.device() == Device::cuda,
                what << ": the NCCL communicator takes GPU tensors");
    return what;
  }
  // The collective sees everything queued on the compute stream before it.
  void begin() {
    Event ready;
    ready.record(cuda::stream());
    ready.make_wait(comm_stream_);
  }
  std::unique_ptr<Event> end() {
    auto done = std::make_unique<Event>();
    done->record(comm_stream_);
    return done;
  }

  std::string name_;
  int rank_ = 0, size_ = 1;
  ncclComm_t comm_ = nullptr;
  cudaStream_t comm_stream_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, std::string name) {
  return std::make_unique<NcclCommunicator>(bootstrap, std::move(name));
}

#endif

}  // namespace graft::dist
