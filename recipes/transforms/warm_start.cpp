#include "recipes/transforms/warm_start.h"

#include <string>

namespace graft {

namespace {

// Where one stack of the target comes from: a source's stack, or nowhere
// (random) when source is null.
struct Side {
  const SourceModel* source = nullptr;
  const char* stack = "";  // the source's stack: "encoder" or "decoder"
  const char* what = "";   // for messages: "encoder checkpoint", ...
};

Side from_encoder(const SourceModel& s) {
  return {&s, "encoder", "encoder checkpoint"};
}
Side from_decoder(const SourceModel& s) {
  return {&s, "decoder", "decoder checkpoint"};
}

void check_side(const char* name, const ModelConfig& target, const Side& side,
                const char* target_layers_key, int64_t target_layers) {
  if (!side.source) return;
  const ModelConfig& source = side.source->config;
  expect_stack(name, source, side.stack, side.what);
  expect_same_blocks(name, target, source, side.what);
  const bool encoder = std::string(side.stack) == "encoder";
  expect_same_layers(name, target_layers_key, target_layers,
                     encoder ? "encoder_layers" : "decoder_layers",
                     encoder ? source.encoder_layers : source.decoder_layers, side.what);
  expect_same(name, "vocab_size", target.vocab_size, source.vocab_size, side.what);
}

TransformResult build(const char* name, const ModelConfig& target_config, uint64_t seed,
                      Side encoder, Side decoder, bool share) {
  expect_target_kind(name, target_config, ModelKind::encoder_decoder);
  ModelConfig target = target_config;
  if (share) {
    target.share_encoder_decoder = true;
    expect_same_layers(name, "decoder_layers", target.decoder_layers, "encoder_layers",
                       target.encoder_layers, "target");
  } else {
    GRAFT_INPUT_CHECK(!target.share_encoder_decoder,
                      name << ": target share_encoder_decoder = true, but " << name
                           << " gives the decoder its own tensors (use bertshare)");
  }
  check_side(name, target, encoder, "encoder_layers", target.encoder_layers);
  check_side(name, target, decoder, "decoder_layers", target.decoder_layers);

  const Side& embedding = encoder.source ? encoder : decoder;
  const DType dtype = embedding.source ? source_dtype(*embedding.source) : DType::f32;
  TransformBuilder b(name, target, seed, dtype);
  if (embedding.source) b.copy("embed.tokens.weight", *embedding.source, "embed.tokens.weight");
  if (encoder.source) {
    b.copy_prefix("encoder.", *encoder.source, std::string(encoder.stack) + ".");
    for (const char* head : {"mlm_head.", "rtd_head.", "classifier."})
      b.copy_if_present(head, *encoder.source);
  }
  // With sharing the decoder's only tensors of its own are cross-attention's,
  // so there is nothing to copy: its other names alias the encoder's.
  if (decoder.source) {
    if (!share) {
      b.copy_prefix("decoder.", *decoder.source, std::string(decoder.stack) + ".", {".cross_attn"});
    }
    b.copy_if_present("lm_head.", *decoder.source);
  }
  return b.finish();
}

}  // namespace

TransformResult bert2bert(const SourceModel& encoder_checkpoint, const ModelConfig& target,
                          uint64_t seed) {
  return build("bert2bert", target, seed, from_encoder(encoder_checkpoint),
               from_encoder(encoder_checkpoint), false);
}

TransformResult bert_share(const SourceModel& encoder_checkpoint, const ModelConfig& target,
                           uint64_t seed) {
  return build("bertshare", target, seed, from_encoder(encoder_checkpoint),
               from_encoder(encoder_checkpoint), true);
}

TransformResult bert2gpt(const SourceModel& encoder_checkpoint,
                         const SourceModel& decoder_checkpoint, const ModelConfig& target,
                         uint64_t seed) {
  return build("bert2gpt", target, seed, from_encoder(encoder_checkpoint),
               from_decoder(decoder_checkpoint), false);
}

TransformResult gpt_only(const SourceModel& decoder_checkpoint, const ModelConfig& target,
                         uint64_t seed) {
  return build("gpt_only", target, seed, from_decoder(decoder_checkpoint),
               from_decoder(decoder_checkpoint), false);
}

TransformResult rnd2bert(const SourceModel& encoder_checkpoint, const ModelConfig& target,
                         uint64_t seed) {
  return build("rnd2bert", target, seed, Side{}, from_encoder(encoder_checkpoint), false);
}

TransformResult bert2rnd(const SourceModel& encoder_checkpoint, const ModelConfig& target,
                         uint64_t seed) {
  return build("bert2rnd", target, seed, from_encoder(encoder_checkpoint), Side{}, false);
}

namespace {

constexpr WarmStart kSchemes[] = {WarmStart::bert2bert, WarmStart::bert_share, WarmStart::bert2gpt,
                                  WarmStart::gpt_only,  WarmStart::rnd2bert,   WarmStart::bert2rnd,
                                  WarmStart::rnd2rnd};

const SourceModel& need(const SourceModel* source, WarmStart scheme, const char* which) {
  GRAFT_INPUT_CHECK(source != nullptr, warm_start_name(scheme)
                                           << " needs " << which << " checkpoint");
  return *source;
}

}  // namespace

const char* warm_start_name(WarmStart scheme) {
  switch (scheme) {
    case WarmStart::bert2bert:
      return "bert2bert";
    case WarmStart::bert_share:
      return "bertshare";
    case WarmStart::bert2gpt:
      return "bert2gpt";
    case WarmStart::gpt_only:
      return "gpt_only";
    case WarmStart::rnd2bert:
      return "rnd2bert";
    case WarmStart::bert2rnd:
      return "bert2rnd";
    case WarmStart::rnd2rnd:
      return "rnd2rnd";
  }
  return "?";
}

WarmStart parse_warm_start(std::string_view text, std::string_view key) {
  for (WarmStart s : kSchemes) {
    if (text == warm_start_name(s)) return s;
  }
  GRAFT_INPUT_CHECK(false, key << " = '" << text
                               << "' is not a warm-start scheme (expected bert2bert, bertshare, "
                                  "bert2gpt, gpt_only, rnd2bert, bert2rnd or rnd2rnd)");
  return WarmStart::rnd2rnd;
}

TransformResult warm_start(WarmStart scheme, const SourceModel* encoder_checkpoint,
                           const SourceModel* decoder_checkpoint, const ModelConfig& target,
                           uint64_t seed) {
  switch (scheme) {
    case WarmStart::bert2bert:
      return bert2bert(need(encoder_checkpoint, scheme, "an encoder"), target, seed);
    case WarmStart::bert_share:
      return bert_share(need(encoder_checkpoint, scheme, "an encoder"), target, seed);
    case WarmStart::bert2gpt:
      return bert2gpt(need(encoder_checkpoint, scheme, "an encoder"),
                      need(decoder_checkpoint, scheme, "a decoder"), target, seed);
    case WarmStart::gpt_only:
      return gpt_only(need(decoder_checkpoint, scheme, "a decoder"), target, seed);
    case WarmStart::rnd2bert:
      return rnd2bert(need(encoder_checkpoint, scheme, "an encoder"), target, seed);
    case WarmStart::bert2rnd:
      return bert2rnd(need(encoder_checkpoint, scheme, "an encoder"), target, seed);
    case WarmStart::rnd2rnd:
      return build("rnd2rnd", target, seed, Side{}, Side{}, false);
  }
  GRAFT_CHECK(false, "unknown warm-start scheme");
  return {};
}

}  // namespace graft
