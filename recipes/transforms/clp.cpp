#include "recipes/transforms/clp.h"

#include <cmath>
#include <cstring>
#include <unordered_map>

namespace graft {

namespace {

std::unordered_map<std::string, int64_t> index_vocab(const std::vector<std::string>& vocab,
                                                     const char* which) {
  std::unordered_map<std::string, int64_t> index;
  index.reserve(vocab.size());
  for (size_t i = 0; i < vocab.size(); ++i) {
    const bool fresh = index.emplace(vocab[i], static_cast<int64_t>(i)).second;
    GRAFT_INPUT_CHECK(fresh, "clp: the " << which << " vocabulary lists the piece '" << vocab[i]
                                         << "' twice (ids " << index.at(vocab[i]) << " and " << i
                                         << ")");
  }
  return index;
}

std::vector<double> rows_as_doubles(const Tensor& t) {
  if (t.dtype() == DType::f64) return t.to_vector<double>();
  GRAFT_INPUT_CHECK(t.dtype() == DType::f32,
                    "clp: tensors must be f32 or f64, got " << t.describe());
  const std::vector<float> f = t.to_vector<float>();
  return std::vector<double>(f.begin(), f.end());
}

// Output rows for one source tensor, written row by row.
struct Mapped {
  const Tensor* source;
  int64_t width;  // elements per vocabulary row
  std::vector<double> values;
  Tensor out;
};

template <class T>
void write_row(Tensor& out, int64_t row, int64_t width, const double* values) {
  T* dst = out.data<T>() + row * width;
  for (int64_t j = 0; j < width; ++j)
    dst[j] = static_cast<T>(values[j]);
}

}  // namespace

std::vector<Tensor> clp_map(const std::vector<Tensor>& source,
                            const std::vector<std::string>& source_vocab,
                            const Tensor& helper_embeddings,
                            const std::vector<std::string>& target_vocab, ClpStats* stats) {
  const int64_t vs = static_cast<int64_t>(source_vocab.size());
  const int64_t vt = static_cast<int64_t>(target_vocab.size());
  GRAFT_INPUT_CHECK(helper_embeddings.defined() && helper_embeddings.ndim() == 2 &&
                        helper_embeddings.dim(0) == vt,
                    "clp: the helper's embedding must be [V_t = " << vt << ", d], got "
                                                                  << helper_embeddings.describe());
  const auto source_index = index_vocab(source_vocab, "source");
  index_vocab(target_vocab, "target");

  std::vector<Mapped> mapped;
  for (const Tensor& t : source) {
    GRAFT_INPUT_CHECK(t.defined() && t.ndim() >= 1 && t.dim(0) == vs,
                      "clp: source tensors must be [V_s = "
                          << vs << ", ...], got " << (t.defined() ? t.describe() : "none"));
    Shape shape = t.shape();
    shape[0] = vt;
    mapped.push_back({&t, t.numel() / vs, rows_as_doubles(t), Tensor::empty(shape, t.dtype())});
  }

  // The overlap, in target order: (target id, source id).
  std::vector<int64_t> copy_from(static_cast<size_t>(vt), -1);
  std::vector<int64_t> overlap_target, overlap_source;
  for (int64_t v = 0; v < vt; ++v) {
    const auto it = source_index.find(target_vocab[static_cast<size_t>(v)]);
    if (it == source_index.end()) continue;
    copy_from[static_cast<size_t>(v)] = it->second;
    overlap_target.push_back(v);
    overlap_source.push_back(it->second);
  }
  const int64_t overlap = static_cast<int64_t>(overlap_target.size());
  GRAFT_INPUT_CHECK(overlap > 0,
                    "clp: the source and target vocabularies share no piece, so no target "
                    "embedding can be computed");

  // Overlap rows: bit-equal copies in the source's own dtype.
  for (Mapped& m : mapped) {
    const size_t row_bytes = static_cast<size_t>(m.width) * dtype_size(m.source->dtype());
    auto* dst = static_cast<unsigned char*>(m.out.raw_data());
    const auto* src = static_cast<const unsigned char*>(m.source->raw_data());
    for (int64_t k = 0; k < overlap; ++k) {
      std::memcpy(dst + overlap_target[static_cast<size_t>(k)] * row_bytes,
                  src + overlap_source[static_cast<size_t>(k)] * row_bytes, row_bytes);
    }
  }

  // Helper rows normalised once: δ(v, u) is then a dot product. A zero row
  // stays zero, so its similarities are 0 (sklearn's convention).
  const int64_t d = helper_embeddings.dim(1);
  std::vector<double> unit = rows_as_doubles(helper_embeddings);
  for (int64_t v = 0; v < vt; ++v) {
    double* row = unit.data() + v * d;
    double norm = 0;
    for (int64_t j = 0; j < d; ++j)
      norm += row[j] * row[j];
    norm = std::sqrt(norm);
    for (int64_t j = 0; j < d; ++j)
      row[j] = norm > 0 ? row[j] / norm : 0.0;
  }

  std::vector<int64_t> combined;
  for (int64_t v = 0; v < vt; ++v) {
    if (copy_from[static_cast<size_t>(v)] < 0) combined.push_back(v);
  }
  // Errors cannot leave an OpenMP region: record them and throw after it.
  std::vector<char> bad(combined.size(), 0);
  std::vector<double> bad_sum(combined.size(), 0.0);
  const int64_t n = static_cast<int64_t>(combined.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = combined[static_cast<size_t>(i)];
    const double* hv = unit.data() + v * d;
    std::vector<double> delta(static_cast<size_t>(overlap));
    double sum = 0, magnitude = 0;
    for (int64_t k = 0; k < overlap; ++k) {
      const double* hu = unit.data() + overlap_target[static_cast<size_t>(k)] * d;
      double dot = 0;
      for (int64_t j = 0; j < d; ++j)
        dot += hv[j] * hu[j];
      delta[static_cast<size_t>(k)] = dot;
      sum += dot;
      magnitude += std::fabs(dot);
    }
    if (!(std::fabs(sum) > 1e-12 * magnitude)) {
      bad[static_cast<size_t>(i)] = 1;
      bad_sum[static_cast<size_t>(i)] = sum;
      continue;
    }
    for (Mapped& m : mapped) {
      std::vector<double> acc(static_cast<size_t>(m.width), 0.0);
      for (int64_t k = 0; k < overlap; ++k) {
        const double w = delta[static_cast<size_t>(k)];
        const double* e = m.values.data() + overlap_source[static_cast<size_t>(k)] * m.width;
        for (int64_t j = 0; j < m.width; ++j)
          acc[static_cast<size_t>(j)] += w * e[j];
      }
      for (double& x : acc)
        x /= sum;
      if (m.out.dtype() == DType::f64) {
        write_row<double>(m.out, v, m.width, acc.data());
      } else {
        write_row<float>(m.out, v, m.width, acc.data());
      }
    }
  }
  for (size_t i = 0; i < bad_sum.size(); ++i) {
    if (!bad[i]) continue;
    const int64_t v = combined[i];
    GRAFT_INPUT_CHECK(false, "clp: target token '"
                                 << target_vocab[static_cast<size_t>(v)] << "' (id " << v
                                 << "): its cosine similarities to the " << overlap
                                 << " overlap tokens in the helper's embedding space sum to "
                                 << bad_sum[i]
                                 << " (numerically zero), so its CLP embedding is undefined");
  }

  if (stats) {
    stats->overlap = overlap;
    stats->combined = n;
  }
  std::vector<Tensor> out;
  for (Mapped& m : mapped)
    out.push_back(m.out);
  return out;
}

Tensor clp_embeddings(const Tensor& source_embeddings, const std::vector<std::string>& source_vocab,
                      const Tensor& helper_embeddings, const std::vector<std::string>& target_vocab,
                      ClpStats* stats) {
  GRAFT_INPUT_CHECK(source_embeddings.defined() && source_embeddings.ndim() == 2,
                    "clp: the source embedding must be [V_s, D], got "
                        << (source_embeddings.defined() ? source_embeddings.describe() : "none"));
  return clp_map({source_embeddings}, source_vocab, helper_embeddings, target_vocab, stats)[0];
}

namespace {

// Vocabulary-indexed tensors: what changes size with the tokenizer.
const std::vector<std::string> kVocabTensors = {"embed.tokens.weight", "lm_head.weight",
                                                "mlm_head.bias"};

void expect_same_model_but_vocab(const char* name, const ModelConfig& target,
                                 const ModelConfig& source, const char* what) {
  GRAFT_INPUT_CHECK(target.kind == source.kind,
                    name << ": kind mismatch: target kind = " << kind_name(target.kind) << ", "
                         << what << " kind = " << kind_name(source.kind));
  expect_same_blocks(name, target, source, what);
  expect_same_layers(name, "encoder_layers", target.encoder_layers, "encoder_layers",
                     source.encoder_layers, what);
  expect_same_layers(name, "decoder_layers", target.decoder_layers, "decoder_layers",
                     source.decoder_layers, what);
  expect_same(name, "cross_attention", target.cross_attention, source.cross_attention, what);
  expect_same(name, "tie_embeddings", target.tie_embeddings, source.tie_embeddings, what);
  expect_same(name, "share_encoder_decoder", target.share_encoder_decoder,
              source.share_encoder_decoder, what);
}

// Stacks and the remaining head tensors, by name.
void copy_all_but_vocab(TransformBuilder& b, const SourceModel& source) {
  if (b.model().config().has_encoder()) b.copy_prefix("encoder.", source, "encoder.");
  if (b.model().config().has_decoder()) b.copy_prefix("decoder.", source, "decoder.");
  for (const char* head : {"lm_head.", "mlm_head.", "rtd_head.", "classifier."})
    b.copy_if_present(head, source, kVocabTensors);
}

}  // namespace

TransformResult clp_transfer(const SourceModel& large_source,
                             const std::vector<std::string>& source_vocab,
                             const SourceModel& helper,
                             const std::vector<std::string>& target_vocab,
                             const ModelConfig& target, uint64_t seed) {
  const char* name = "clp";
  expect_same_model_but_vocab(name, target, large_source.config, "large source");
  const int64_t vt = static_cast<int64_t>(target_vocab.size());
  expect_same(name, "vocab_size", target.vocab_size, vt, "target vocabulary (pieces)");
  GRAFT_INPUT_CHECK(large_source.config.vocab_size == static_cast<int64_t>(source_vocab.size()),
                    name << ": vocab_size mismatch: large source vocab_size = "
                         << large_source.config.vocab_size << ", source vocabulary (pieces) "
                         << "vocab_size = " << source_vocab.size());
  GRAFT_INPUT_CHECK(
      helper.config.vocab_size == vt,
      name << ": vocab_size mismatch: helper vocab_size = " << helper.config.vocab_size
           << ", target vocabulary (pieces) vocab_size = " << vt);

  TransformBuilder b(name, target, seed, source_dtype(large_source));
  std::vector<std::string> names;
  std::vector<Tensor> tensors;
  for (const std::string& n : kVocabTensors) {
    const Parameters& p = b.model().parameters();
    if (p.contains(n) && large_source.parameters.contains(n)) {
      names.push_back(n);
      tensors.push_back(large_source.parameters.get(n));
    }
  }
  const std::vector<Tensor> mapped =
      clp_map(tensors, source_vocab, helper.parameters.get("embed.tokens.weight"), target_vocab);
  for (size_t i = 0; i < names.size(); ++i)
    b.set_computed(names[i], mapped[i]);
  copy_all_but_vocab(b, large_source);
  return b.finish();
}

TransformResult cross_lingual_transfer(const SourceModel& source, const ModelConfig& target,
                                       uint64_t seed) {
  const char* name = "cross_lingual";
  expect_same_model_but_vocab(name, target, source.config, "source");
  TransformBuilder b(name, target, seed, source_dtype(source));
  copy_all_but_vocab(b, source);
  return b.finish();
}

}  // namespace graft
