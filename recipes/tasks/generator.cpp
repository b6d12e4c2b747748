#include "recipes/tasks/generator.h"

#include <cmath>
#include <limits>
#include <numeric>

#include "data/random.h"
#include "model/init.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "train/task.h"

namespace graft::recipe_tasks {

ModelConfig generator_config(const ModelConfig& host, int64_t host_layers,
                             const GeneratorOptions& options) {
  GRAFT_INPUT_CHECK(options.width_fraction > 0 && options.width_fraction <= 1,
                    "generator width_fraction must be in (0, 1], got " << options.width_fraction);
  ModelConfig c = host;
  c.kind = ModelKind::encoder;
  c.d_model =
      std::max<int64_t>(1, static_cast<int64_t>(std::llround(static_cast<double>(host.d_model) *
                                                             options.width_fraction)));
  // ELECTRA: max(1, hidden // 64); lowered until it divides d_g.
  c.num_heads = std::max<int64_t>(1, c.d_model / 64);
  while (c.d_model % c.num_heads != 0)
    --c.num_heads;
  c.d_ff = 4 * c.d_model;
  c.encoder_layers = host_layers;
  c.decoder_layers = 0;
  c.cross_attention = false;
  c.share_encoder_decoder = false;
  c.lm_head = c.mlm_head = c.rtd_head = false;
  c.num_classes = 0;
  c.validate();
  return c;
}

Generator::Generator(Model& host, const std::string& host_stack, const GeneratorOptions& options)
    : host_(host) {
  const ModelConfig& h = host.config();
  GRAFT_INPUT_CHECK(!host.tensor_parallel().enabled(),
                    "the ELECTRA generator does not run under tensor parallelism");
  GRAFT_INPUT_CHECK(host_stack == "encoder" ? h.has_encoder() : h.has_decoder(),
                    "the generator's host has no " << host_stack);
  const int64_t layers = host_stack == "encoder" ? h.encoder_layers : h.decoder_layers;
  config_ = generator_config(h, layers, options);
  Parameters& params = host.parameters();
  tokens_ = params.get("embed.tokens.weight");
  if (h.positions == PositionKind::learned)
    positions_ = params.get(host_stack + ".positions.weight");

  ParamInit init(params, options.seed, host.dtype(), h.init_std);
  project_ = std::make_unique<Linear>(init, "generator.embed_project", h.d_model, config_.d_model);
  for (int64_t i = 0; i < layers; ++i) {
    layers_.emplace_back(init, "generator.encoder.layers." + std::to_string(i), config_,
                         /*causal=*/false, /*cross=*/false);
  }
  final_norm_ = std::make_unique<Norm>(init, "generator.encoder.final_norm", config_);
  transform_ =
      std::make_unique<Linear>(init, "generator.mlm_head.transform", config_.d_model, h.d_model);
  head_norm_ = std::make_unique<Norm>(init, "generator.mlm_head.norm", h);
  head_bias_ = init.zeros("generator.mlm_head.bias", {h.vocab_size});
}

Tensor Generator::logits(ForwardContext& context, const Tensor& ids, const Tensor& mask,
                         const Tensor& positions) const {
  GRAFT_CHECK(ids.defined() && ids.dtype() == DType::i32 && ids.ndim() == 2,
              "generator ids must be i32 [B, T]");
  const int64_t batch = ids.dim(0), len = ids.dim(1);
  GRAFT_INPUT_CHECK(len <= config_.max_positions,
                    "generator: sequence length " << len << " exceeds max_positions");
  Tensor x = embedding(ids, tokens_);
  if (positions_.defined()) {
    std::vector<int32_t> pos(static_cast<size_t>(len));
    std::iota(pos.begin(), pos.end(), 0);
    x = add(x, embedding(Tensor::from_vector(pos, {len}), positions_));
  }
  x = apply_dropout(context, x, config_.dropout);
  x = (*project_)(x);
  for (const Block& layer : layers_)
    x = layer(context, x, mask, Tensor(), Tensor());
  x = (*final_norm_)(x);
  // Gather before the head: the vocabulary projection runs only where the
  // generator predicts, as in ELECTRA (and as forward_flops prices it).
  Tensor gathered = embedding(positions, x.reshape({batch * len, config_.d_model}));
  Tensor h = (*head_norm_)((*transform_)(gathered, Epilogue::gelu));
  MatmulOptions tied;
  tied.transpose_b = true;
  return matmul(h, tokens_, head_bias_, tied);
}

FlopsSplit Generator::forward_flops(int64_t batch, int64_t len, int64_t predicted) const {
  StepShape shape;
  shape.batch = batch;
  shape.encoder_len = len;
  FlopsSplit f = forward_flops_parts(config_, shape).encoder;
  const double d = static_cast<double>(host_.config().d_model);
  const double dg = static_cast<double>(config_.d_model);
  const double v = static_cast<double>(host_.config().vocab_size);
  f.matmul += 2.0 * static_cast<double>(batch * len) * d * dg;          // embed_project
  f.matmul += 2.0 * static_cast<double>(predicted) * (dg * d + d * v);  // head
  return f;
}

std::vector<int64_t> global_positions(const std::vector<int32_t>& positions, int64_t first_row,
                                      int64_t seq_len) {
  std::vector<int64_t> out(positions.size());
  for (size_t i = 0; i < positions.size(); ++i)
    out[i] = first_row * seq_len + positions[i];
  return out;
}

std::vector<int32_t> gumbel_max_samples(const Tensor& logits, uint64_t seed,
                                        const std::vector<int64_t>& keys) {
  GRAFT_CHECK(logits.ndim() == 2, "gumbel_max_samples needs logits [N, V]");
  const int64_t rows = logits.dim(0), vocab = logits.dim(1);
  GRAFT_CHECK(static_cast<int64_t>(keys.size()) == rows,
              "gumbel_max_samples: " << keys.size() << " keys for " << rows << " rows");
  Tensor values = logits.dtype() == DType::f64 ? logits : logits.to(DType::f64);
  const double* v = values.data<double>();
  std::vector<int32_t> out(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    Rng rng(derive_seed(seed, static_cast<uint64_t>(keys[static_cast<size_t>(r)])));
    double best = -std::numeric_limits<double>::infinity();
    int32_t arg = 0;
    for (int64_t j = 0; j < vocab; ++j) {
      // u in (0, 1): never 0, so the double log is finite.
      const double u = (static_cast<double>(rng.next() >> 11) + 0.5) * 0x1.0p-53;
      const double score = v[r * vocab + j] - std::log(-std::log(u));
      if (score > best) {
        best = score;
        arg = static_cast<int32_t>(j);
      }
    }
    out[static_cast<size_t>(r)] = arg;
  }
  return out;
}

std::vector<int32_t> labelled_positions(const Tensor& labels) {
  std::vector<int32_t> out;
  const int32_t* l = labels.data<int32_t>();
  for (int64_t i = 0; i < labels.numel(); ++i)
    if (l[i] != kIgnoreIndex) out.push_back(static_cast<int32_t>(i));
  return out;
}

Tensor gather_ids(const Tensor& ids, const std::vector<int32_t>& positions) {
  std::vector<int32_t> out(positions.size());
  const int32_t* v = ids.data<int32_t>();
  for (size_t i = 0; i < positions.size(); ++i)
    out[i] = v[positions[i]];
  return Tensor::from_vector(out, {static_cast<int64_t>(out.size())});
}

}  // namespace graft::recipe_tasks
