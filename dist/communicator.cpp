#include "dist/communicator.h"

#include <sstream>

#include "ops/check.h"

namespace graft::dist {

const char* reduce_op_name(ReduceOp op) {
  return op == ReduceOp::sum ? "sum" : "average";
}

std::string describe_collective(const char* collective, const Tensor& tensor,
                                const Communicator& comm) {
  std::ostringstream out;
  out << collective << " of "
      << (tensor.defined() ? std::string(dtype_name(tensor.dtype())) + shape_string(tensor.shape())
                           : std::string("nothing"))
      << " on the " << comm.name() << " group (" << comm.size() << " ranks)";
  return out.str();
}

void check_collective_tensor(const Tensor& tensor, const char* collective,
                             const Communicator& comm) {
  GRAFT_CHECK(tensor.defined(),
              collective << " on the " << comm.name() << " group got an undefined tensor");
  DType dtype = tensor.dtype();
  GRAFT_CHECK(dtype == DType::f32 || dtype == DType::f64 || dtype == DType::i32 ||
                  (dtype == DType::bf16 && tensor.device() == Device::cuda),
              describe_collective(collective, tensor, comm)
                  << ": collectives take f32, f64 or i32 tensors (and bf16 on the GPU)");
}

void check_reduce_op(const Tensor& tensor, ReduceOp op, const char* collective,
                     const Communicator& comm) {
  GRAFT_CHECK(op == ReduceOp::sum || is_floating(tensor.dtype()),
              describe_collective(collective, tensor, comm)
                  << ": an average of integers would truncate; sum and divide instead");
}

void check_chunked(const Tensor& chunk, const Tensor& whole, const char* collective,
                   const Communicator& comm) {
  check_collective_tensor(chunk, collective, comm);
  check_collective_tensor(whole, collective, comm);
  GRAFT_CHECK(chunk.dtype() == whole.dtype(),
              collective << " on the " << comm.name() << " group: dtypes differ ("
                         << chunk.describe() << " and " << whole.describe() << ")");
  GRAFT_CHECK(whole.numel() == chunk.numel() * comm.size(),
              collective << " on the " << comm.name() << " group of " << comm.size()
                         << " ranks: " << whole.describe() << " must hold " << comm.size() << " x "
                         << chunk.numel() << " elements of " << chunk.describe());
  GRAFT_CHECK(!chunk.same_storage(whole), collective << " needs distinct input and output");
}

void check_root(int root, const char* collective, const Communicator& comm) {
  GRAFT_CHECK(root >= 0 && root < comm.size(),
              collective << " on the " << comm.name() << " group: root " << root
                         << " is not one of its " << comm.size() << " ranks");
}

void divide_in_place(const Tensor& tensor, int count) {
  const int64_t n = tensor.numel();
  if (tensor.dtype() == DType::f32) {
    float* data = tensor.data<float>();
    const float divisor = static_cast<float>(count);
    for (int64_t i = 0; i < n; ++i)
      data[i] /= divisor;
  } else {
    GRAFT_CHECK(tensor.dtype() == DType::f64, "divide_in_place: " << tensor.describe());
    double* data = tensor.data<double>();
    const double divisor = count;
    for (int64_t i = 0; i < n; ++i)
      data[i] /= divisor;
  }
}

}  // namespace graft::dist
