#include "recipes/objectives/spactor.h"

namespace graft::objectives {

SpactorBatch make_spactor_batch(const RtdMasking& masking, const Tensor& sampled,
                                const Vocab& vocab, uint64_t seed,
                                const SpanCorruptionOptions& options, int64_t first_row) {
  const RtdBatch replaced = make_rtd_batch(masking, sampled);
  const auto originals = tensor_rows(masking.original);
  const auto replaced_rows = tensor_rows(replaced.input_ids);
  std::vector<std::vector<int32_t>> inputs, targets, rtd;
  // Not the plain-SC salt: the noise mask is independent of the RTD masking.
  const uint64_t sc_seed = derive_seed(seed, 0x7370616374ULL);
  for (size_t b = 0; b < originals.size(); ++b) {
    const std::span<const int32_t> orig(originals[b]), repl(replaced_rows[b]);
    const auto length = static_cast<size_t>(unpadded_length(orig));
    Rng rng(derive_seed(sc_seed, static_cast<uint64_t>(first_row) + b));
    const auto noise = random_spans_noise_mask(static_cast<int64_t>(length), options, rng);
    SpanCorrupted c = apply_noise_mask(repl.first(length), orig.first(length), noise, vocab);
    // Walk the row as apply_noise_mask does: one label per encoder token.
    std::vector<int32_t> labels;
    for (size_t i = 0; i < length; ++i) {
      if (!noise[i]) {
        labels.push_back(static_cast<int32_t>(repl[i] != orig[i]));
      } else if (i == 0 || !noise[i - 1]) {
        labels.push_back(kIgnoreIndex);  // the span's sentinel
      }
    }
    labels.push_back(kIgnoreIndex);  // EOS
    GRAFT_CHECK(labels.size() == c.inputs.size(), "RTD labels out of step with encoder inputs");
    inputs.push_back(std::move(c.inputs));
    targets.push_back(std::move(c.targets));
    rtd.push_back(std::move(labels));
  }
  SpactorBatch batch;
  batch.seq2seq.input_ids = pad_rows(inputs, kPadId);
  batch.seq2seq.attention_mask = mask_rows(inputs);
  set_decoder_side(batch.seq2seq, targets);
  batch.rtd_labels = pad_rows(rtd, kIgnoreIndex, batch.seq2seq.input_ids.dim(1));
  return batch;
}

}  // namespace graft::objectives
