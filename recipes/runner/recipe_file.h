// Recipe files: a TOML list of training stages (recipes/README.md).
//
//   [recipe]              name, description, stores (the folder "{stores}"
//                         expands to in every string value; default
//                         "data-cache/stores")
//   [defaults]            model / optimizer / training / data / checkpoint /
//                         distributed /
//                         task tables merged into every stage, key by key
//                         (the stage's own key wins)
//   [[stage]]             name, init, from, and the same tables
//     init  random (default) | checkpoint | extract_encoder | bert2bert |
//           bert_share | bert2gpt | gpt_only | rnd2bert | bert2rnd | clp |
//           cross_lingual
//     from  earlier stage name(s) whose final checkpoint the init reads:
//           one for checkpoint and the single-source transforms; two for
//           bert2gpt [encoder, decoder] and clp [large source, helper]
//     [stage.task]  options of the objectives the runner builds (rtd,
//           spactor, tlm); see TaskOptions
// A stage trains in <run dir>/<stage name> (so [run] is the runner's).
// Overrides (`--set`): "section.key=value" sets the key in every stage,
// "<stage>.section.key=value" in one stage, "recipe.stores=DIR" the folder.
// Unknown keys, wrong types, unknown inits and references to missing or
// later stages are InputErrors naming the file (and line), the stage and the
// key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/stage_config.h"

namespace graft::runner {

enum class InitKind {
  random,
  checkpoint,  // the parameters of one earlier stage, copied by name
  extract_encoder,
  bert2bert,
  bert_share,
  bert2gpt,
  gpt_only,
  rnd2bert,
  bert2rnd,
  clp,
  cross_lingual,
};

const char* init_name(InitKind init);
// How many `from` stages the init reads (0, 1 or 2).
int init_sources(InitKind init);

// [stage.task]: options of the objectives that live above train/. Paper
// values and their sources are in recipes/README.md.
struct TaskOptions {
  // rtd (ELECTRA) and the SpacTor generator
  double mask_prob = 0.15;        // ELECTRA: 0.15 (0.25 large)
  double generator_width = 0.25;  // ELECTRA: 1/4 (1/3 base)
  double mlm_weight = 1.0;        // ELECTRA gen_weight
  double rtd_weight = 50.0;       // ELECTRA disc_weight
  // spactor: the hybrid runs steps 1..tau, plain span corruption after.
  // tau = 0: tau_fraction x baseline_steps (0: this stage's training.steps).
  int64_t tau = 0;
  double tau_fraction = 0.125;  // RECIPES.md default (paper value unchecked)
  int64_t baseline_steps = 0;
  // tlm: rho1 external MLM batches per task batch, rho2 the MLM weight in a
  // task batch; task_train / task_valid: classification stores. data.train /
  // data.valid are the general corpus (external set S).
  int64_t rho1 = 999;
  double rho2 = 20;
  std::string task_train;
  std::string task_valid;
  // tlm's external set S from data.train's documents: "bm25" (the union of
  // each task example's top retrieval_k documents; examples longer than
  // long_text_words words are queried by their max_phrases RAKE key phrases)
  // or "random" (the ablation: as many documents as bm25 would pick, drawn
  // uniformly). Paper K: 5000 under 5K task examples, 50 over 100K.
  std::string retrieval = "bm25";
  int64_t retrieval_k = 50;
  int64_t long_text_words = 128;
  int64_t max_phrases = 10;
};

struct RecipeStage {
  std::string name;
  InitKind init = InitKind::random;
  std::vector<std::string> from;
  StageConfig config;  // run.dir = <run dir>/<name>
  TaskOptions task;
};

struct Recipe {
  std::string path;  // the file, for messages
  std::string name;
  std::string description;
  std::string run_dir;
  std::vector<RecipeStage> stages;

  // Index of the stage called name; -1 when none.
  int index_of(const std::string& name) const;
};

// run_dir: where stages train (empty: runs/<recipe name>).
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides = {},
                   const std::string& run_dir = "");

}  // namespace graft::runner
