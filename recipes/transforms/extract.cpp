#include "recipes/transforms/extract.h"

namespace graft {

TransformResult extract_encoder(const SourceModel& source, const ModelConfig& target,
                                uint64_t seed) {
  const char* name = "extract_encoder";
  const char* what = "seq2seq source";
  expect_target_kind(name, target, ModelKind::encoder);
  expect_stack(name, source.config, "encoder", what);
  expect_same_blocks(name, target, source.config, what);
  expect_same_layers(name, "encoder_layers", target.encoder_layers, "encoder_layers",
                     source.config.encoder_layers, what);
  expect_same(name, "vocab_size", target.vocab_size, source.config.vocab_size, what);

  TransformBuilder b(name, target, seed, source_dtype(source));
  b.copy("embed.tokens.weight", source, "embed.tokens.weight");
  b.copy_prefix("encoder.", source, "encoder.");
  // An encoder's lm head is a different function from a seq2seq model's (it
  // reads the other stack), so only the encoder-side heads carry over.
  for (const char* head : {"mlm_head.", "rtd_head.", "classifier."})
    b.copy_if_present(head, source);
  return b.finish();
}

}  // namespace graft
