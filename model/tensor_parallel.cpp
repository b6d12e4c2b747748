#include "model/tensor_parallel.h"

#include <cstring>

#include "dist/communicator.h"
#include "dist/tp_ops.h"
#include "ops/autograd.h"

namespace graft {

const ShardingRules& megatron_sharding_rules() {
  static const ShardingRules rules = {
      {"embed.tokens.weight", 0}, {"lm_head.weight", 0}, {"mlm_head.bias", 0},
      {"*attn.q.*", 0},           {"*attn.k.*", 0},      {"*attn.v.*", 0},
      {"*attn.o.weight", 1},      {"*.mlp.up.*", 0},     {"*.mlp.down.weight", 1},
  };
  return rules;
}

int shard_dim(const ShardingRules& rules, const std::string& name) {
  for (const ShardRule& r : rules)
    if (glob_match(r.pattern, name)) return r.dim;
  return -1;
}

namespace {

// Views a tensor split along dim as [outer, size, inner] blocks of bytes.
struct Split {
  int64_t outer = 1, chunk_bytes = 0;
};

Split split_of(const Shape& logical, int dim, int size, size_t elem) {
  Split s;
  for (int i = 0; i < dim; ++i)
    s.outer *= logical[i];
  int64_t inner = 1;
  for (size_t i = static_cast<size_t>(dim) + 1; i < logical.size(); ++i)
    inner *= logical[i];
  s.chunk_bytes = logical[dim] / size * inner * static_cast<int64_t>(elem);
  return s;
}

}  // namespace

Tensor shard_tensor(const Tensor& logical, int dim, int rank, int size, const std::string& name) {
  if (dim < 0 || size == 1) return logical.clone();
  GRAFT_CHECK(dim < logical.ndim(),
              name << ": cannot split dim " << dim << " of " << logical.describe());
  GRAFT_INPUT_CHECK(logical.dim(dim) % size == 0, name << ": dimension " << dim << " of size "
                                                       << logical.dim(dim)
                                                       << " is not divisible by tp=" << size);
  Shape shape = logical.shape();
  shape[dim] /= size;
  Tensor out = Tensor::empty(shape, logical.dtype());
  const Split s = split_of(logical.shape(), dim, size, dtype_size(logical.dtype()));
  const char* src = static_cast<const char*>(logical.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t o = 0; o < s.outer; ++o)
    std::memcpy(dst + o * s.chunk_bytes, src + (o * size + rank) * s.chunk_bytes,
                static_cast<size_t>(s.chunk_bytes));
  return out;
}

Tensor concat_shards(const std::vector<Tensor>& shards, int dim) {
  GRAFT_CHECK(!shards.empty(), "concat_shards: no shards");
  const Tensor& first = shards[0];
  if (dim < 0) return first.clone();
  const int size = static_cast<int>(shards.size());
  Shape logical = first.shape();
  logical[dim] *= size;
  Tensor out = Tensor::empty(logical, first.dtype());
  const Split s = split_of(logical, dim, size, dtype_size(first.dtype()));
  char* dst = static_cast<char*>(out.raw_data());
  for (int r = 0; r < size; ++r) {
    GRAFT_CHECK(shards[r].shape() == first.shape() && shards[r].dtype() == first.dtype(),
                "concat_shards: shard " << r << " is " << shards[r].describe() << ", shard 0 "
                                        << first.describe());
    const char* src = static_cast<const char*>(shards[r].raw_data());
    for (int64_t o = 0; o < s.outer; ++o)
      std::memcpy(dst + (o * size + r) * s.chunk_bytes, src + o * s.chunk_bytes,
                  static_cast<size_t>(s.chunk_bytes));
  }
  return out;
}

Tensor gather_tensor(const Tensor& shard, int dim, dist::Communicator& comm) {
  if (dim < 0 || comm.size() == 1) return shard.clone();
  // all_gather concatenates whole shards along a flat first axis.
  const int64_t n = shard.numel();
  Tensor gathered = Tensor::empty({comm.size() * n}, shard.dtype());
  comm.all_gather(shard.clone().reshape({n}), gathered);
  std::vector<Tensor> shards;
  const size_t bytes = shard.bytes();
  for (int r = 0; r < comm.size(); ++r) {
    Tensor t = Tensor::empty(shard.shape(), shard.dtype());
    std::memcpy(t.raw_data(), static_cast<const char*>(gathered.raw_data()) + r * bytes, bytes);
    shards.push_back(t);
  }
  return concat_shards(shards, dim);
}

Parameters gather_logical(const Parameters& local, const ShardingRules& rules,
                          dist::Communicator& comm) {
  NoGradGuard no_grad;
  Parameters out;
  for (const NamedParameter& p : local.entries()) {
    Tensor t = gather_tensor(p.tensor.detach(), shard_dim(rules, p.name), comm);
    t.set_requires_grad(p.tensor.requires_grad());
    out.add(p.name, t);
  }
  for (const auto& [alias, canonical] : local.aliases())
    out.add_alias(alias, canonical);
  return out;
}

void shard_logical(const Parameters& logical, const Parameters& local, const ShardingRules& rules,
                   int rank, int size) {
  for (const NamedParameter& p : local.entries()) {
    const Tensor& whole = logical.get(p.name);
    Tensor shard = shard_tensor(whole.detach(), shard_dim(rules, p.name), rank, size, p.name);
    GRAFT_INPUT_CHECK(shard.shape() == p.tensor.shape() && shard.dtype() == p.tensor.dtype(),
                      p.name << ": logical " << whole.describe() << " gives shard "
                             << shard.describe() << ", but this rank's parameter is "
                             << p.tensor.describe());
    p.tensor.copy_from(shard);
  }
}

void check_tensor_parallel(const ModelConfig& config, const TensorParallel& tp) {
  GRAFT_INPUT_CHECK(tp.size >= 1 && tp.rank >= 0 && tp.rank < tp.size,
                    "tensor-parallel rank " << tp.rank << " is not in [0, tp=" << tp.size << ")");
  if (!tp.enabled()) return;
  GRAFT_INPUT_CHECK(config.num_heads % tp.size == 0,
                    "num_heads = " << config.num_heads << " is not divisible by tp=" << tp.size);
  GRAFT_INPUT_CHECK(config.d_ff % tp.size == 0,
                    "d_ff = " << config.d_ff << " is not divisible by tp=" << tp.size);
  GRAFT_INPUT_CHECK(config.vocab_size % tp.size == 0,
                    "vocab_size = " << config.vocab_size << " is not divisible by tp=" << tp.size);
  GRAFT_INPUT_CHECK(!config.share_encoder_decoder,
                    "share_encoder_decoder (BERTShare) is not supported with tp=" << tp.size);
  GRAFT_CHECK(tp.comm != nullptr, "tensor parallelism (tp=" << tp.size << ") needs a communicator");
  GRAFT_CHECK(tp.comm->size() == tp.size && tp.comm->rank() == tp.rank,
              "tensor-parallel rank " << tp.rank << " of " << tp.size << " does not match the "
                                      << tp.comm->name() << " group (rank " << tp.comm->rank()
                                      << " of " << tp.comm->size() << ")");
}

Tensor tp_copy(const TensorParallel& tp, const Tensor& x) {
  return tp.enabled() ? dist::copy_to_tp_region(x, *tp.comm) : x;
}

Tensor tp_reduce(const TensorParallel& tp, const Tensor& x) {
  return tp.enabled() ? dist::reduce_from_tp_region(x, *tp.comm) : x;
}

Tensor vocab_cross_entropy(const TensorParallel& tp, int64_t vocab_size, const Tensor& logits,
                           const Tensor& targets, const CrossEntropyOptions& options) {
  if (!tp.enabled()) return softmax_cross_entropy(logits, targets, options);
  return dist::vocab_parallel_cross_entropy(logits, targets, tp.slice_begin(vocab_size), vocab_size,
                                            *tp.comm, options);
}

}  // namespace graft
