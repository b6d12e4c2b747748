#include "recipes/runner/init.h"

#include "data/token_store.h"
#include "recipes/transforms/clp.h"
#include "recipes/transforms/extract.h"
#include "recipes/transforms/warm_start.h"
#include "train/checkpoint.h"

namespace graft::runner {

namespace {

// A source stage's final checkpoint as a SourceModel: its stage's [model]
// and the checkpoint's tensors (extra tensors, e.g. an ELECTRA generator's,
// are simply not read).
struct LoadedSource {
  ModelConfig config;
  Parameters parameters;
  LoadedSource(const ModelConfig& c, const std::string& path) : config(c) {
    const CheckpointContents contents = load_checkpoint(path);
    for (const NamedParameter& p : contents.parameters)
      parameters.add(p.name, p.tensor);
  }
  SourceModel source() const { return SourceModel(config, parameters); }
};

std::vector<std::string> vocabulary(const std::string& store_path, const std::string& what) {
  GRAFT_INPUT_CHECK(!store_path.empty(),
                    "clp needs data.train of " << what << " (its store holds the tokenizer)");
  const Tokenizer tokenizer = TokenStore::load(store_path).tokenizer();
  std::vector<std::string> pieces;
  for (int64_t id = 0; id < tokenizer.vocab_size(); ++id)
    pieces.push_back(tokenizer.id_to_piece(static_cast<int32_t>(id)));
  return pieces;
}

TransformResult from_checkpoint(const SourceModel& source, const ModelConfig& target,
                                uint64_t seed) {
  TransformBuilder builder("checkpoint", target, seed, source_dtype(source));
  const size_t copied = builder.copy_if_present("", source);
  GRAFT_INPUT_CHECK(copied > 0,
                    "checkpoint: no parameter of the target model is in the source "
                    "checkpoint under the same name and shape");
  return builder.finish();
}

}  // namespace

InitResult build_initial_model(const Recipe& recipe, const RecipeStage& stage,
                               const std::vector<std::string>& checkpoints,
                               const ModelConfig& target, uint64_t seed) {
  InitResult out;
  if (stage.init == InitKind::random) {
    out.model = make_model(target, seed);
    out.report = "random";
    return out;
  }
  std::vector<std::unique_ptr<LoadedSource>> sources;
  std::vector<const RecipeStage*> from;
  for (size_t i = 0; i < stage.from.size(); ++i) {
    from.push_back(&recipe.stages[recipe.index_of(stage.from[i])]);
    sources.push_back(std::make_unique<LoadedSource>(from.back()->config.model, checkpoints[i]));
  }
  const SourceModel a = sources[0]->source();
  try {
    TransformResult r;
    switch (stage.init) {
      case InitKind::checkpoint:
        r = from_checkpoint(a, target, seed);
        break;
      case InitKind::extract_encoder:
        r = extract_encoder(a, target, seed);
        break;
      case InitKind::bert2bert:
        r = bert2bert(a, target, seed);
        break;
      case InitKind::bert_share:
        r = bert_share(a, target, seed);
        break;
      case InitKind::bert2gpt: {
        const SourceModel b = sources[1]->source();
        r = bert2gpt(a, b, target, seed);
        break;
      }
      case InitKind::gpt_only:
        r = gpt_only(a, target, seed);
        break;
      case InitKind::rnd2bert:
        r = rnd2bert(a, target, seed);
        break;
      case InitKind::bert2rnd:
        r = bert2rnd(a, target, seed);
        break;
      case InitKind::clp: {
        const SourceModel helper = sources[1]->source();
        r = clp_transfer(a, vocabulary(from[0]->config.data.train, "stage '" + from[0]->name + "'"),
                         helper, vocabulary(stage.config.data.train, "this stage"), target, seed);
        break;
      }
      case InitKind::cross_lingual:
        r = cross_lingual_transfer(a, target, seed);
        break;
      case InitKind::random:
        break;
    }
    out.model = std::move(r.model);
    out.report = r.report.summary();
  } catch (const InputError& e) {
    throw InputError(recipe.path + ": stage '" + stage.name + "': init = " + init_name(stage.init) +
                     ": " + e.what());
  }
  return out;
}

}  // namespace graft::runner
