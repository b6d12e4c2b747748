#include "train/distributed.h"

#include <cmath>
#include <cstring>

#include "dist/communicator.h"
#include "dist/context.h"
#include "ops/autograd.h"
#include "ops/grad_norm.h"
#include "ops/tensor_math.h"

namespace graft {

TrainingGrid training_grid(dist::DistContext& context) {
  const dist::ProcessGrid& g = context.grid();
  TrainingGrid grid;
  grid.world = &context.world();
  grid.tp = &context.tp();
  grid.dp = &context.dp();
  grid.rank = g.rank;
  grid.world_size = g.world_size;
  grid.tp_rank = g.tp_rank();
  grid.tp_size = g.tp;
  grid.dp_rank = g.dp_rank();
  grid.dp_size = g.dp;
  return grid;
}

namespace {

Tensor rows_of(const Tensor& t, int64_t begin, int64_t count, int64_t batch) {
  if (!t.defined()) return t;
  GRAFT_CHECK(t.ndim() >= 1 && t.dim(0) == batch,
              "batch_rows: " << t.describe() << " does not have " << batch << " rows");
  Shape shape = t.shape();
  const int64_t per = batch > 0 ? t.numel() / batch : 0;
  shape[0] = count;
  Tensor out = Tensor::empty(shape, t.dtype());
  const size_t elem = dtype_size(t.dtype());
  std::memcpy(out.raw_data(), static_cast<const char*>(t.raw_data()) + begin * per * elem,
              static_cast<size_t>(count * per) * elem);
  return out;
}

}  // namespace

Batch batch_rows(const Batch& b, int64_t begin, int64_t count) {
  const int64_t n = b.batch_size();
  GRAFT_CHECK(begin >= 0 && count >= 0 && begin + count <= n,
              "batch_rows: rows [" << begin << ", " << begin + count << ") of a batch of " << n);
  Batch out;
  out.input_ids = rows_of(b.input_ids, begin, count, n);
  out.input_mask = rows_of(b.input_mask, begin, count, n);
  out.encoder_ids = rows_of(b.encoder_ids, begin, count, n);
  out.encoder_mask = rows_of(b.encoder_mask, begin, count, n);
  out.targets = rows_of(b.targets, begin, count, n);
  // Exact only in sum over a partition of the rows, which is all anyone reads.
  out.text_bytes = n > 0 ? b.text_bytes * (begin + count) / n - b.text_bytes * begin / n : 0;
  return out;
}

Batch dp_shard(const Batch& global, int dp_rank, int dp_size) {
  if (dp_size <= 1) return global;
  const int64_t n = global.batch_size();
  GRAFT_INPUT_CHECK(n % dp_size == 0,
                    "training.batch_size = " << n << " (the global micro-batch) "
                                             << "is not divisible by dp = " << dp_size);
  const int64_t per = n / dp_size;
  return batch_rows(global, per * dp_rank, per);
}

double distributed_grad_norm(const Parameters& params, const TrainingGrid& grid) {
  if (grid.tp_size <= 1) {
    std::vector<Tensor> grads;
    for (const NamedParameter& p : params.entries()) {
      if (p.tensor.requires_grad() && p.tensor.has_grad()) grads.push_back(p.tensor.grad());
    }
    return global_grad_norm(grads);
  }
  const ShardingRules& rules = megatron_sharding_rules();
  double sharded = 0, replicated = 0;
  for (const NamedParameter& p : params.entries()) {
    if (!p.tensor.requires_grad() || !p.tensor.has_grad()) continue;
    const double s = sum_of_squares(p.tensor.grad());
    (shard_dim(rules, p.name) >= 0 ? sharded : replicated) += s;
  }
  Tensor total = Tensor::from_vector(std::vector<double>{sharded}, {1});
  grid.tp->all_reduce(total);
  return std::sqrt(total.data<double>()[0] + replicated);
}

double distributed_clip_grad_norm(const Parameters& params, const TrainingGrid& grid,
                                  double max_norm) {
  const double norm = distributed_grad_norm(params, grid);
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const double factor = max_norm / (norm + 1e-6);
    for (const NamedParameter& p : params.entries()) {
      if (p.tensor.requires_grad() && p.tensor.has_grad()) scale_into(p.tensor.grad(), factor);
    }
  }
  return norm;
}

CrossEntropyStats vocab_cross_entropy_stats(const TensorParallel& tp, int64_t vocab_size,
                                            const Tensor& logits, const Tensor& targets,
                                            int32_t ignore_index) {
  if (!tp.enabled()) return cross_entropy_stats(logits, targets, ignore_index);
  NoGradGuard no_grad;
  CrossEntropyStats s{};
  const int64_t local = logits.dim(logits.ndim() - 1);
  const int64_t rows = logits.numel() / local;
  GRAFT_CHECK(targets.numel() == rows && targets.dtype() == DType::i32,
              "vocab_cross_entropy_stats: targets " << targets.describe() << " for logits "
                                                    << logits.describe());
  const int32_t* t = targets.data<int32_t>();
  for (int64_t i = 0; i < rows; ++i)
    s.count += t[i] != ignore_index;
  if (s.count == 0) return s;
  CrossEntropyOptions options;
  options.ignore_index = ignore_index;
  const Tensor mean = vocab_cross_entropy(tp, vocab_size, logits, targets, options);
  s.loss_sum = mean.to(DType::f64).item() * static_cast<double>(s.count);

  // Per row: this shard's maximum and the global id of its first occurrence.
  const std::vector<double> values = logits.to(DType::f64).to_vector<double>();
  const int64_t start = tp.slice_begin(vocab_size);
  std::vector<double> mine(static_cast<size_t>(2 * rows));
  for (int64_t i = 0; i < rows; ++i) {
    const double* row = values.data() + i * local;
    int64_t best = 0;
    for (int64_t j = 1; j < local; ++j)
      if (row[j] > row[best]) best = j;
    mine[2 * i] = row[best];
    mine[2 * i + 1] = static_cast<double>(start + best);
  }
  Tensor all = Tensor::zeros({tp.size, 2 * rows}, DType::f64);
  tp.comm->all_gather(Tensor::from_vector(mine, {2 * rows}), all);
  const double* a = all.data<double>();
  for (int64_t i = 0; i < rows; ++i) {
    if (t[i] == ignore_index) continue;
    double best = a[2 * i];
    double id = a[2 * i + 1];
    for (int r = 1; r < tp.size; ++r) {  // shards in vocabulary order: strict > keeps the lowest id
      const double v = a[r * 2 * rows + 2 * i];
      if (v > best) {
        best = v;
        id = a[r * 2 * rows + 2 * i + 1];
      }
    }
    s.correct += static_cast<int64_t>(id) == t[i];
  }
  return s;
}

}  // namespace graft
