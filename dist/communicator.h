// Communicator: the collectives every parallel layer and trainer uses.
//
// Operates on host tensors of dtype f32, f64 or i32 (bf16 and device tensors
// come with the NCCL backend). Every rank of the communicator must call the
// same collectives in the same order with tensors of the same dtype and size;
// that is the caller's contract, as in MPI and NCCL.
//
// Determinism: after all_reduce every rank holds bit-identical values. MPI's
// reduction algorithms (recursive doubling, ring, reduce + broadcast) combine
// the same operands in the same order on every rank for a given communicator
// and message size, and Open MPI picks the algorithm from the communicator
// and size alone; the multi-rank tests check the bits across ranks. The order
// may differ between communicators of different size, so results may differ
// in the last bits between a dp=2 and a dp=4 run, as in any framework.
// Averages are computed as the sum divided by the size, on every rank alike.
#pragma once

#include <memory>
#include <string>

#include "ops/tensor.h"

namespace graft::dist {

enum class ReduceOp { sum, average };  // average: floating dtypes only
const char* reduce_op_name(ReduceOp op);

// A collective in flight. The tensor's contents are undefined until wait()
// returns; the handle keeps the tensor's storage alive. Destroying a handle
// that was never waited on waits (a request must not outlive its buffer).
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;   // blocks until done; a second call returns at once
  virtual bool ready() = 0;  // non-blocking: true once done (completes it)
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const std::string& name() const = 0;  // "world", "tp", "dp": for messages

  // In place: every rank's tensor becomes the element-wise sum (or mean) over
  // ranks.
  virtual void all_reduce(const Tensor& tensor, ReduceOp op = ReduceOp::sum) = 0;
  // Starts an all_reduce and returns at once, so that gradient buckets can be
  // reduced while backward computes the next ones.
  virtual std::unique_ptr<PendingCollective> all_reduce_async(const Tensor& tensor,
                                                              ReduceOp op = ReduceOp::sum) = 0;
  // input holds size() * n elements, output n: rank r gets elements
  // [r*n, (r+1)*n) of the reduction over ranks.
  virtual void reduce_scatter(const Tensor& input, const Tensor& output,
                              ReduceOp op = ReduceOp::sum) = 0;
  // input holds n elements, output size() * n: rank r's input lands at
  // [r*n, (r+1)*n), i.e. the concatenation along the first axis.
  virtual void all_gather(const Tensor& input, const Tensor& output) = 0;
  // In place: every rank's tensor becomes root's.
  virtual void broadcast(const Tensor& tensor, int root) = 0;
  virtual void barrier() = 0;
};

// Argument checks shared by the implementations; throw graft::Error naming
// the collective and the communicator.
void check_collective_tensor(const Tensor& tensor, const char* collective,
                             const Communicator& comm);
void check_reduce_op(const Tensor& tensor, ReduceOp op, const char* collective,
                     const Communicator& comm);
void check_chunked(const Tensor& chunk, const Tensor& whole, const char* collective,
                   const Communicator& comm);  // same dtype, whole = size() * chunk
void check_root(int root, const char* collective, const Communicator& comm);
// Divides every element by count (the average's second half).
void divide_in_place(const Tensor& tensor, int count);
// "all_reduce(sum) of f32[7] on the tp group (2 ranks)": for errors and the watchdog.
std::string describe_collective(const char* collective, const Tensor& tensor,
                                const Communicator& comm);

}  // namespace graft::dist
