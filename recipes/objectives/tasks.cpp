#include "recipes/objectives/tasks.h"

namespace graft::objectives {

namespace {

// The text of a stored document without its closing EOS.
std::vector<int32_t> strip_eos(const std::vector<int32_t>& tokens) {
  std::vector<int32_t> text = tokens;
  if (!text.empty() && text.back() == kEosId) text.pop_back();
  return text;
}

// Keeps at most max_length tokens, the last one being `last`.
std::vector<int32_t> truncate_ending(std::vector<int32_t> body, int32_t last, int64_t max_length) {
  GRAFT_INPUT_CHECK(max_length >= 2,
                    "maximum sequence length must be at least 2, got " << max_length);
  if (static_cast<int64_t>(body.size()) + 1 > max_length) {
    body.resize(static_cast<size_t>(max_length - 1));
  }
  body.push_back(last);
  return body;
}

}  // namespace

ClassificationBatch make_classification_batch(const std::vector<Example>& examples,
                                              int64_t max_length) {
  std::vector<std::vector<int32_t>> rows;
  std::vector<int32_t> labels;
  for (const Example& e : examples) {
    GRAFT_CHECK(e.label >= 0, "example " << e.index << " has no label");
    std::vector<int32_t> body{kClsId};
    const auto text = strip_eos(e.tokens);
    body.insert(body.end(), text.begin(), text.end());
    rows.push_back(truncate_ending(std::move(body), kSepId, max_length));
    labels.push_back(e.label);
  }
  ClassificationBatch batch;
  batch.input_ids = pad_rows(rows, kPadId);
  batch.attention_mask = mask_rows(rows);
  batch.labels = Tensor::from_vector(labels, {static_cast<int64_t>(labels.size())});
  return batch;
}

Seq2SeqBatch make_seq2seq_batch(const std::vector<Example>& examples, int64_t max_source_length,
                                int64_t max_target_length) {
  std::vector<std::vector<int32_t>> sources, targets;
  for (const Example& e : examples) {
    GRAFT_CHECK(!e.target.empty(), "example " << e.index << " has no target");
    sources.push_back(truncate_ending(strip_eos(e.tokens), kEosId, max_source_length));
    targets.push_back(truncate_ending(strip_eos(e.target), kEosId, max_target_length));
  }
  Seq2SeqBatch batch;
  batch.input_ids = pad_rows(sources, kPadId);
  batch.attention_mask = mask_rows(sources);
  set_decoder_side(batch, targets);
  return batch;
}

}  // namespace graft::objectives
