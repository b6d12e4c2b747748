#include "dist/mpi_communicator.h"

#include <cstdio>

#include "dist/nccl_communicator.h"
#include "ops/check.h"

namespace graft::dist {

void check_mpi(int rc, const char* call, const std::string& context) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) {
    std::snprintf(text, sizeof(text), "MPI error code %d", rc);
  }
  throw Error(std::string(call) + " (" + context + ") failed: " + text);
}

namespace {

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return MPI_FLOAT;
    case DType::f64:
      return MPI_DOUBLE;
    case DType::i32:
      return MPI_INT32_T;
    default:
      break;
  }
  GRAFT_CHECK(false, "no MPI datatype for " << dtype_name(dtype));
  return MPI_DATATYPE_NULL;
}

// MPI counts are int: larger tensors must be split by the caller (gradient
// buckets are far smaller).
int mpi_count(const Tensor& tensor, const std::string& what) {
  GRAFT_CHECK(tensor.numel() <= INT32_MAX, what << ": more than 2^31-1 elements in one call");
  return static_cast<int>(tensor.numel());
}

std::string with_op(const char* collective, ReduceOp op) {
  return std::string(collective) + "(" + reduce_op_name(op) + ")";
}

class MpiPending : public PendingCollective {
 public:
  MpiPending(MPI_Request request, Tensor tensor, ReduceOp op, int size, std::string what,
             std::shared_ptr<Watchdog> watchdog)
      : request_(request),
        tensor_(std::move(tensor)),
        op_(op),
        size_(size),
        what_(std::move(what)),
        watchdog_(std::move(watchdog)) {}

  ~MpiPending() override {
    if (done_) return;
    try {
      wait();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "graft: %s\n", error.what());
    }
  }

  void wait() override {
    if (done_) return;
    Watchdog::Guard guard;
    if (watchdog_) guard = watchdog_->watch(what_);
    done_ = true;  // whatever MPI_Wait says, the request is gone afterwards
    check_mpi(MPI_Wait(&request_, MPI_STATUS_IGNORE), "MPI_Wait", what_);
    finish();
  }

  bool ready() override {
    if (done_) return true;
    int flag = 0;
    check_mpi(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE), "MPI_Test", what_);
    if (flag) {
      done_ = true;
      finish();
    }
    return done_;
  }

 private:
  void finish() {
    if (op_ == ReduceOp::average) divide_in_place(tensor_, size_);
  }

  MPI_Request request_;
  Tensor tensor_;  // keeps the buffer alive while MPI writes into it
  ReduceOp op_;
  int size_;
  std::string what_;
  std::shared_ptr<Watchdog> watchdog_;
  bool done_ = false;
};

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm, std::string name,
                                 std::shared_ptr<Watchdog> watchdog)
    : comm_(comm), name_(std::move(name)), watchdog_(std::move(watchdog)) {
  check_mpi(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler", name_);
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank", name_);
  check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size", name_);
}

MpiCommunicator::~MpiCommunicator() {
  if (comm_ != MPI_COMM_WORLD && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

std::unique_ptr<MpiCommunicator> MpiCommunicator::split(int color, int key,
                                                        std::string name) const {
  MPI_Comm sub = MPI_COMM_NULL;
  {
    auto guard = watch("MPI_Comm_split of the " + name_ + " group into " + name + " groups");
    check_mpi(MPI_Comm_split(comm_, color, key, &sub), "MPI_Comm_split", name);
  }
  return std::make_unique<MpiCommunicator>(sub, std::move(name), watchdog_);
}

Watchdog::Guard MpiCommunicator::watch(const std::string& what) const {
  return watchdog_ ? watchdog_->watch(what) : Watchdog::Guard();
}

Communicator& MpiCommunicator::device_communicator() {
  if (!device_) device_ = make_nccl_communicator(*this, name_);
  return *device_;
}

namespace {
bool on_gpu(const Tensor& t) {
  return t.defined() && t.device() == Device::cuda;
}
}  // namespace

void MpiCommunicator::all_reduce(const Tensor& tensor, ReduceOp op) {
  if (on_gpu(tensor)) return device_communicator().all_reduce(tensor, op);
  check_collective_tensor(tensor, "all_reduce", *this);
  check_reduce_op(tensor, op, "all_reduce", *this);
  std::string what = describe_collective(with_op("all_reduce", op).c_str(), tensor, *this);
  auto guard = watch(what);
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, tensor.raw_data(), mpi_count(tensor, what),
                          mpi_type(tensor.dtype()), MPI_SUM, comm_),
            "MPI_Allreduce", what);
  if (op == ReduceOp::average) divide_in_place(tensor, size_);
}

std::unique_ptr<PendingCollective> MpiCommunicator::all_reduce_async(const Tensor& tensor,
                                                                     ReduceOp op) {
  if (on_gpu(tensor)) return device_communicator().all_reduce_async(tensor, op);
  check_collective_tensor(tensor, "all_reduce_async", *this);
  check_reduce_op(tensor, op, "all_reduce_async", *this);
  std::string what = describe_collective(with_op("all_reduce_async", op).c_str(), tensor, *this);
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Iallreduce(MPI_IN_PLACE, tensor.raw_data(), mpi_count(tensor, what),
                           mpi_type(tensor.dtype()), MPI_SUM, comm_, &request),
            "MPI_Iallreduce", what);
  return std::make_unique<MpiPending>(request, tensor, op, size_, std::move(what), watchdog_);
}

void MpiCommunicator::reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) {
  if (on_gpu(input)) return device_communicator().reduce_scatter(input, output, op);
  check_chunked(output, input, "reduce_scatter", *this);
  check_reduce_op(input, op, "reduce_scatter", *this);
  std::string what = describe_collective(with_op("reduce_scatter", op).c_str(), input, *this);
  auto guard = watch(what);
  check_mpi(MPI_Reduce_scatter_block(input.raw_data(), output.raw_data(), mpi_count(output, what),
                                     mpi_type(input.dtype()), MPI_SUM, comm_),
            "MPI_Reduce_scatter_block", what);
  if (op == ReduceOp::average) divide_in_place(output, size_);
}

void MpiCommunicator::all_gather(const Tensor& input, const Tensor& output) {
  if (on_gpu(input)) return device_communicator().all_gather(input, output);
  check_chunked(input, output, "all_gather", *this);
  std::string what = describe_collective("all_gather", input, *this);
  auto guard = watch(what);
  int count = mpi_count(input, what);
  MPI_Datatype type = mpi_type(input.dtype());
  check_mpi(MPI_Allgather(input.raw_data(), count, type, output.raw_data(), count, type, comm_),
            "MPI_Allgather", what);
}

void MpiCommunicator::broadcast(const Tensor& tensor, int root) {
  if (on_gpu(tensor)) return device_communicator().broadcast(tensor, root);
  check_collective_tensor(tensor, "broadcast", *this);
  check_root(root, "broadcast", *this);
  std::string what =
      describe_collective(("broadcast(from " + std::to_string(root) + ")").c_str(), tensor, *this);
  auto guard = watch(what);
  check_mpi(
      MPI_Bcast(tensor.raw_data(), mpi_count(tensor, what), mpi_type(tensor.dtype()), root, comm_),
      "MPI_Bcast", what);
}

void MpiCommunicator::barrier() {
  std::string what = "barrier on the " + name_ + " group (" + std::to_string(size_) + " ranks)";
  auto guard = watch(what);
  check_mpi(MPI_Barrier(comm_), "MPI_Barrier", what);
}

}  // namespace graft::dist
