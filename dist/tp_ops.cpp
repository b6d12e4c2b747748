#include "dist/tp_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/autograd.h"
#include "ops/cpu/parallel.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft::dist {

Tensor copy_to_tp_region(const Tensor& x, Communicator& comm) {
  if (!needs_grad({x})) return x;
  Tensor out = x.detach();
  out.set_requires_grad(true);
  Communicator* c = &comm;
  tape().record("copy_to_tp_region", [x, out, c] {
    if (!out.has_grad() || !x.requires_grad()) return;
    Tensor g = out.grad().clone();
    c->all_reduce(g);
    accumulate_grad(x, g);
  });
  return out;
}

Tensor reduce_from_tp_region(const Tensor& x, Communicator& comm) {
  Tensor out = x.clone();
  comm.all_reduce(out);
  if (needs_grad({x})) {
    out.set_requires_grad(true);
    tape().record("reduce_from_tp_region", [x, out] {
      if (!out.has_grad() || !x.requires_grad()) return;
      accumulate_grad(x, out.grad().clone());
    });
  }
  return out;
}

namespace {

void check_slice(const char* op, int64_t vocab_start, int64_t local, int64_t vocab_size) {
  GRAFT_CHECK(vocab_start >= 0 && local > 0 && vocab_start + local <= vocab_size,
              op << ": vocabulary slice [" << vocab_start << ", " << vocab_start + local
                 << ") is not inside [0, " << vocab_size << ")");
}

}  // namespace

Tensor vocab_parallel_embedding(const Tensor& ids, const Tensor& table_shard, int64_t vocab_start,
                                int64_t vocab_size, Communicator& comm) {
  const char* op = "vocab_parallel_embedding";
  check_index_arg(op, "ids", ids);
  check_float_arg(op, "table", table_shard);
  GRAFT_CHECK(table_shard.ndim() == 2,
              op << ": table must be [V/tp, D], got " << table_shard.describe());
  const int64_t local = table_shard.dim(0), dim = table_shard.dim(1), n = ids.numel();
  check_slice(op, vocab_start, local, vocab_size);
  Shape out_shape = ids.shape();
  out_shape.push_back(dim);
  Tensor out = Tensor::zeros(out_shape, table_shard.dtype());
  const int32_t* id = ids.data<int32_t>();
  int64_t owned = 0;
  cpu::dispatch_float(table_shard.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* table = table_shard.data<T>();
    T* o = out.data<T>();
    for (int64_t p = 0; p < n; ++p) {
      GRAFT_CHECK(id[p] >= 0 && id[p] < vocab_size, op << ": id " << id[p] << " at position " << p
                                                       << " is outside [0, " << vocab_size << ")");
      const int64_t row = id[p] - vocab_start;
      if (row < 0 || row >= local) continue;
      std::copy(table + row * dim, table + (row + 1) * dim, o + p * dim);
      ++owned;
    }
  });
  comm.all_reduce(out);
  if (needs_grad({table_shard})) {
    out.set_requires_grad(true);
    tape().record(op, [ids, table_shard, out, vocab_start, owned, op] {
      if (!out.has_grad() || !table_shard.requires_grad()) return;
      GradSlot slot = grad_slot(table_shard);
      if (!slot.accumulate) slot.grad.fill(0.0);
      const int64_t local = table_shard.dim(0), dim = table_shard.dim(1);
      const int32_t* id = ids.data<int32_t>();
      cpu::dispatch_float(table_shard.dtype(), op, [&](auto zero) {
        using T = decltype(zero);
        const T* dout = out.grad().data<T>();
        T* g = slot.grad.data<T>();
        // Position order, row by row: bit-identical for any thread count.
        for (int64_t p = 0; p < ids.numel(); ++p) {
          const int64_t row = id[p] - vocab_start;
          if (row < 0 || row >= local) continue;
          for (int64_t j = 0; j < dim; ++j)
            g[row * dim + j] += dout[p * dim + j];
        }
      });
      flops_ledger().add(Phase::backward, FlopsKind::other,
                         static_cast<double>(owned) * static_cast<double>(dim));
    });
  }
  return out;
}

Tensor vocab_parallel_cross_entropy(const Tensor& logits_shard, const Tensor& targets,
                                    int64_t vocab_start, int64_t vocab_size, Communicator& comm,
                                    const CrossEntropyOptions& options) {
  const char* op = "vocab_parallel_cross_entropy";
  check_float_arg(op, "logits", logits_shard);
  check_index_arg(op, "targets", targets);
  GRAFT_CHECK(logits_shard.ndim() >= 1,
              op << ": logits must be [..., V/tp], got " << logits_shard.describe());
  check_shape_arg(op, "targets", targets,
                  Shape(logits_shard.shape().begin(), logits_shard.shape().end() - 1));
  const double eps = options.label_smoothing;
  GRAFT_CHECK(eps >= 0.0 && eps <= 1.0, op << ": label_smoothing must be in [0, 1], got " << eps);
  const int64_t local = logits_shard.dim(-1), rows = targets.numel();
  check_slice(op, vocab_start, local, vocab_size);
  const int32_t* target = targets.data<int32_t>();
  auto counted = [&](int64_t r) { return target[r] != options.ignore_index; };
  int64_t count = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (!counted(r)) continue;
    GRAFT_CHECK(target[r] >= 0 && target[r] < vocab_size,
                op << ": target " << target[r] << " at position " << r << " is outside [0, "
                   << vocab_size << ") and is not ignore_index " << options.ignore_index);
    ++count;
  }

  // Pass 1: each rank's row maxima, gathered so every rank takes the same max.
  Tensor maxima = Tensor::empty({rows}, DType::f64);
  Tensor all_maxima = Tensor::empty({rows * comm.size()}, DType::f64);
  Tensor sums = Tensor::zeros({rows * 3}, DType::f64);  // sum exp, target logit, logit sum
  Tensor lse = Tensor::empty({rows}, DType::f64);
  cpu::dispatch_float(logits_shard.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* x = logits_shard.data<T>();
    double* mx = maxima.data<double>();
    for (int64_t r = 0; r < rows; ++r) {
      double m = -std::numeric_limits<double>::infinity();
      if (counted(r)) {
        for (int64_t j = 0; j < local; ++j)
          m = std::max(m, static_cast<double>(x[r * local + j]));
      }
      mx[r] = m;
    }
    comm.all_gather(maxima, all_maxima);
    const double* all = all_maxima.data<double>();
    double* s = sums.data<double>();
    double* l = lse.data<double>();
    for (int64_t r = 0; r < rows; ++r) {
      if (!counted(r)) continue;
      double m = all[r];
      for (int k = 1; k < comm.size(); ++k)
        m = std::max(m, all[k * rows + r]);
      l[r] = m;  // the shift, until pass 2 turns it into the logsumexp
      double se = 0, sx = 0;
      for (int64_t j = 0; j < local; ++j) {
        const double v = static_cast<double>(x[r * local + j]);
        se += std::exp(v - m);
        sx += v;
      }
      const int64_t t = target[r] - vocab_start;
      s[3 * r] = se;
      s[3 * r + 1] = (t >= 0 && t < local) ? static_cast<double>(x[r * local + t]) : 0.0;
      s[3 * r + 2] = sx;
    }
  });
  comm.all_reduce(sums);

  // Pass 2: identical on every rank (same reduced operands, same order).
  const double* s = sums.data<double>();
  double* l = lse.data<double>();
  double loss_sum = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (!counted(r)) continue;
    l[r] += std::log(s[3 * r]);
    const double nll = l[r] - s[3 * r + 1];
    const double smooth = l[r] - s[3 * r + 2] / static_cast<double>(vocab_size);
    loss_sum += (1.0 - eps) * nll + eps * smooth;
  }
  const double flops = 4.0 * static_cast<double>(count) * static_cast<double>(local);
  flops_ledger().add(Phase::forward, FlopsKind::other, flops);
  Tensor out =
      Tensor::scalar(count > 0 ? loss_sum / static_cast<double>(count) : 0.0, logits_shard.dtype());

  if (needs_grad({logits_shard})) {
    out.set_requires_grad(true);
    tape().record(op, [logits_shard, targets, lse, out, options, count, vocab_start, vocab_size,
                       flops, op] {
      if (!out.has_grad() || !logits_shard.requires_grad()) return;
      const double scale = count > 0 ? out.grad().item() / static_cast<double>(count) : 0.0;
      const double eps = options.label_smoothing;
      const int64_t local = logits_shard.dim(-1), rows = targets.numel();
      const int32_t* target = targets.data<int32_t>();
      const double* l = lse.data<double>();
      GradSlot slot = grad_slot(logits_shard);
      cpu::dispatch_float(logits_shard.dtype(), op, [&](auto zero) {
        using T = decltype(zero);
        const T* x = logits_shard.data<T>();
        T* g = slot.grad.data<T>();
        for (int64_t r = 0; r < rows; ++r) {
          const bool ignored = target[r] == options.ignore_index;
          const int64_t t = target[r] - vocab_start;
          for (int64_t j = 0; j < local; ++j) {
            double d = 0;
            if (!ignored) {
              const double p = std::exp(static_cast<double>(x[r * local + j]) - l[r]);
              d = (p - (j == t ? 1.0 - eps : 0.0) - eps / static_cast<double>(vocab_size)) * scale;
            }
            T& dst = g[r * local + j];
            dst = slot.accumulate ? dst + static_cast<T>(d) : static_cast<T>(d);
          }
        }
      });
      flops_ledger().add(Phase::backward, FlopsKind::other, flops);
    });
  }
  return out;
}

}  // namespace graft::dist
