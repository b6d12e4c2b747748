#include "ops/embedding.h"

#include "ops/autograd.h"
#include "ops/cpu/embedding.h"
#include "ops/cuda/embedding.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

Tensor embedding(const Tensor& ids, const Tensor& table) {
  check_index_arg("embedding", "ids", ids);
  check_float_arg("embedding", "table", table);
  GRAFT_CHECK(table.ndim() == 2, "embedding: table must be [V, D], got " << table.describe());
  GRAFT_CHECK(ids.device() == table.device(), "embedding: ids " << ids.describe() << " and table "
                                                                << table.describe()
                                                                << " are on different devices");
  Shape out_shape = ids.shape();
  out_shape.push_back(table.dim(1));
  Tensor out = Tensor::empty(out_shape, table.dtype(), table.device());
  if (table.device() == Device::cuda) {
    GRAFT_ON_CUDA("embedding", table, cuda::embedding_forward(ids, table, out));
  } else {
    cpu::embedding_forward(ids, table, out);
  }

  if (needs_grad({table})) {
    out.set_requires_grad(true);
    tape().record("embedding", [ids, table, out] {
      if (!out.has_grad() || !table.requires_grad()) return;
      const GradSlot dtable = grad_slot(table);
      if (table.device() == Device::cuda) {
        GRAFT_ON_CUDA("embedding", table, cuda::embedding_backward(ids, out.grad(), dtable));
      } else {
        cpu::embedding_backward(ids, out.grad(), dtable);
      }
      flops_ledger().add(Phase::backward, FlopsKind::other,
                         static_cast<double>(ids.numel()) * static_cast<double>(table.dim(1)));
    });
  }
  return out;
}

}  // namespace graft
