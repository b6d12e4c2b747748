#include "recipes/runner/tasks.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "data/loader.h"
#include "recipes/objectives/mlm.h"
#include "recipes/objectives/span_corruption.h"
#include "recipes/objectives/tasks.h"
#include "recipes/tasks/bm25_index.h"
#include "recipes/tasks/rtd_task.h"
#include "recipes/tasks/spactor_task.h"
#include "recipes/tasks/tlm_task.h"
#include "train/store_data.h"

namespace graft::runner {

namespace rt = recipe_tasks;

namespace {

// The SpacTor schedule in one Task: the hybrid for steps 1..tau, plain SC
// after (the batch source advances it: it is asked for step s's batches
// right before step s trains). Evaluation is always plain SC on SC batches,
// the quality the SC baseline is compared on.
class SpactorScheduleTask : public rt::PricedTask {
 public:
  SpactorScheduleTask(Model& model, const Vocab& vocab, const rt::SpactorOptions& options,
                      int64_t tau)
      : hybrid_(model, vocab, options), switching_(hybrid_, plain_, tau) {}
  void set_next_step(int64_t step) { switching_.set_next_step(step); }
  std::string name() const override { return "spactor"; }
  Tensor loss(const Model& m, ForwardContext& c, const Batch& b) const override {
    return switching_.loss(m, c, b);
  }
  CrossEntropyStats stats(const Model& m, const Batch& b) const override {
    return plain_.stats(m, b);
  }
  int64_t target_count(const Batch& b) const override { return switching_.target_count(b); }
  StepShape shape(const Model& m, const Batch& b) const override { return switching_.shape(m, b); }
  ModelFlops training_flops(const Model& m, const Batch& b) const override {
    return switching_.training_flops(m, b);
  }

 private:
  rt::SpactorHybridTask hybrid_;
  rt::SpactorPlainTask plain_;
  rt::SwitchingTask switching_;
};

std::shared_ptr<PackedLoader> packed(const std::string& path, const std::string& key,
                                     int64_t length, int64_t batch_size, uint64_t seed,
                                     int64_t* vocab_size = nullptr) {
  auto store = load_store_of_kind(path, DocumentKind::text, key);
  if (vocab_size) *vocab_size = store->vocab_size;
  LoaderOptions o;
  o.batch_size = batch_size;
  o.seed = seed;
  return std::make_shared<PackedLoader>(store, length, o);
}

std::vector<Batch> first_batches(const std::function<Batch(int64_t)>& batch,
                                 int64_t steps_per_epoch, int64_t wanted) {
  std::vector<Batch> out;
  for (int64_t i = 0; i < std::min(steps_per_epoch, wanted); ++i)
    out.push_back(batch(i));
  return out;
}

ModelFlops priced_flops(const Task& task, const Model& model, const Batch& batch) {
  const auto* priced = dynamic_cast<const rt::PricedTask*>(&task);
  GRAFT_CHECK(priced, "task " << task.name() << " does not price its own steps");
  return priced->training_flops(model, batch);
}

TaskHooks rtd_hooks(const RecipeStage& stage) {
  const TaskOptions t = stage.task;
  TaskHooks h;
  h.analytic_flops = priced_flops;
  h.make_task = [t](Model& model, const StageConfig&) -> std::unique_ptr<Task> {
    rt::RtdTaskOptions o;
    o.weights.mlm = t.mlm_weight;
    o.weights.rtd = t.rtd_weight;
    o.generator.width_fraction = t.generator_width;
    return std::make_unique<rt::RtdTask>(model, o);
  };
  h.make_data = [t](const StageConfig& c) {
    const DataConfig& d = c.data;
    const TrainingConfig& tr = c.training;
    int64_t vocab_size = 0;
    objectives::RtdOptions ro;
    ro.mask_prob = t.mask_prob;
    auto train = packed(d.train, "data.train", tr.seq_len, tr.batch_size, tr.seed, &vocab_size);
    const Vocab vocab(vocab_size);
    auto valid = packed(d.valid, "data.valid", tr.seq_len, tr.batch_size, d.split_seed);
    const uint64_t run_seed = tr.seed, valid_seed = d.split_seed;
    const int64_t accum = tr.grad_accum;
    TrainingData out;
    out.vocab_size = vocab_size;  // run_stage checks model.vocab_size against it
    out.train = [=](int64_t step, int64_t micro) {
      const int64_t i = micro_index(step, micro, accum);
      return rt::rtd_task_batch(objectives::make_rtd_masking(
          train->batch(i), vocab, objectives::objective_seed(run_seed, i), ro));
    };
    out.valid = first_batches(
        [&](int64_t i) {
          return rt::rtd_task_batch(objectives::make_rtd_masking(
              valid->batch(i), vocab, objectives::objective_seed(valid_seed, i), ro));
        },
        valid->schedule().steps_per_epoch(), tr.eval_batches);
    out.description = "rtd (ELECTRA) from store " + d.train + ", validation from " + d.valid;
    return out;
  };
  return h;
}

TaskHooks spactor_hooks(const RecipeStage& stage) {
  const TaskOptions t = stage.task;
  const int64_t tau = stage_tau(stage);
  // The task is built before the data (run_stage's order); the batch source
  // advances the schedule it owns.
  auto task_slot = std::make_shared<SpactorScheduleTask*>(nullptr);
  TaskHooks h;
  h.analytic_flops = priced_flops;
  h.make_task = [t, tau, task_slot](Model& model, const StageConfig& c) -> std::unique_ptr<Task> {
    rt::SpactorOptions o;
    o.lambda_rtd = t.rtd_weight;
    o.lambda_mlm = t.mlm_weight;
    o.generator.width_fraction = t.generator_width;
    const Vocab vocab(TokenStore::load(c.data.train).vocab_size);
    auto task = std::make_unique<SpactorScheduleTask>(model, vocab, o, tau);
    *task_slot = task.get();
    return task;
  };
  h.make_data = [tau, task_slot](const StageConfig& c) {
    const DataConfig& d = c.data;
    const TrainingConfig& tr = c.training;
    const int64_t raw = objectives::span_corruption_raw_length(tr.seq_len);
    int64_t vocab_size = 0;
    auto train = packed(d.train, "data.train", raw, tr.batch_size, tr.seed, &vocab_size);
    const Vocab vocab(vocab_size);
    auto valid = packed(d.valid, "data.valid", raw, tr.batch_size, d.split_seed);
    const uint64_t run_seed = tr.seed, valid_seed = d.split_seed;
    const int64_t accum = tr.grad_accum;
    TrainingData out;
    out.vocab_size = vocab_size;  // run_stage checks model.vocab_size against it
    out.train = [=](int64_t step, int64_t micro) {
      GRAFT_CHECK(*task_slot, "spactor: the task must be built before its batches are asked for");
      (*task_slot)->set_next_step(step);
      const int64_t i = micro_index(step, micro, accum);
      return rt::spactor_step_batch(train->batch(i), vocab, derive_seed(run_seed, micro), step,
                                    tau);
    };
    out.valid = first_batches(
        [&](int64_t i) {
          return rt::seq2seq_task_batch(objectives::make_span_corruption_batch(
              valid->batch(i), vocab, objectives::objective_seed(valid_seed, i)));
        },
        valid->schedule().steps_per_epoch(), tr.eval_batches);
    out.description = "spactor (hybrid steps 1.." + std::to_string(tau) +
                      ", then span corruption) from store " + d.train;
    return out;
  };
  return h;
}

// A TLM task batch: the masked [CLS] text [SEP] input with its labels.
Batch tlm_task(const std::vector<Example>& examples, int64_t seq_len, const Vocab& vocab,
               uint64_t seed) {
  const objectives::ClassificationBatch c =
      objectives::make_classification_batch(examples, seq_len);
  return rt::tlm_task_batch(objectives::make_mlm_batch(c.input_ids, vocab, seed), c.labels);
}

TaskHooks tlm_hooks(const RecipeStage& stage) {
  const TaskOptions t = stage.task;
  GRAFT_INPUT_CHECK(!t.task_train.empty() && !t.task_valid.empty(),
                    "stage '" << stage.name
                              << "': data.objective = \"tlm\" needs task.task_train and "
                                 "task.task_valid (classification stores)");
  TaskHooks h;
  h.analytic_flops = priced_flops;
  std::shared_ptr<double> retrieval_seconds = h.retrieval_seconds;
  h.make_task = [t](Model&, const StageConfig&) -> std::unique_ptr<Task> {
    rt::TlmOptions o;
    o.rho1 = t.rho1;
    o.rho2 = t.rho2;
    return std::make_unique<rt::TlmTask>(o);
  };
  h.make_data = [t, retrieval_seconds](const StageConfig& c) {
    const DataConfig& d = c.data;
    const TrainingConfig& tr = c.training;
    auto task_store =
        load_store_of_kind(t.task_train, DocumentKind::classification, "task.task_train");
    auto general = load_store_of_kind(d.train, DocumentKind::text, "data.train");
    // Recomputed on every (re)start rather than cached: it is deterministic,
    // so a resumed stage trains on the same S.
    const ExternalSet s = tlm_external_set(t, *general, *task_store, tr.seed);
    *retrieval_seconds = s.seconds;
    const int64_t external_docs = static_cast<int64_t>(s.docs.size());
    const int64_t vocab_size = general->vocab_size;
    LoaderOptions lo;
    lo.batch_size = tr.batch_size;
    lo.seed = tr.seed;
    auto external = std::make_shared<PackedLoader>(
        std::make_shared<const TokenStore>(subset_store(*general, s.docs)), tr.seq_len, lo);
    general.reset();
    const Vocab vocab(vocab_size);
    auto valid_store =
        load_store_of_kind(t.task_valid, DocumentKind::classification, "task.task_valid");
    auto task_loader = std::make_shared<DocumentLoader>(task_store, lo);
    lo.seed = d.split_seed;
    auto valid_loader = std::make_shared<DocumentLoader>(valid_store, lo);
    const uint64_t run_seed = tr.seed, valid_seed = d.split_seed;
    const int64_t accum = tr.grad_accum, seq_len = tr.seq_len, rho1 = t.rho1;
    TrainingData out;
    out.vocab_size = vocab_size;  // run_stage checks model.vocab_size against it
    // Cycle k (steps k(rho1+1)+1 ..) is task batch k, then external batches
    // k·rho1 .. k·rho1 + rho1 - 1: each stream is consumed in order.
    out.train = [=](int64_t step, int64_t micro) {
      const int64_t cycle = (step - 1) / (rho1 + 1), at = (step - 1) % (rho1 + 1);
      const uint64_t seed = objectives::objective_seed(run_seed, micro_index(step, micro, accum));
      if (rt::tlm_task_step(step, rho1)) {
        return tlm_task(task_loader->batch(cycle * accum + micro), seq_len, vocab, seed);
      }
      const int64_t e = cycle * rho1 + at - 1;
      return rt::tlm_external_batch(
          objectives::make_mlm_batch(external->batch(e * accum + micro), vocab, seed));
    };
    out.valid = first_batches(
        [&](int64_t i) {
          return tlm_task(valid_loader->batch(i), seq_len, vocab,
                          objectives::objective_seed(valid_seed, i));
        },
        valid_loader->schedule().steps_per_epoch(), tr.eval_batches);
    out.description = "tlm: task " + t.task_train + ", external MLM from " +
                      std::to_string(external_docs) + " documents of " + d.train + " (" +
                      t.retrieval + ", K = " + std::to_string(t.retrieval_k) + ", " +
                      std::to_string(s.seconds) + " s retrieval), rho1 = " + std::to_string(rho1) +
                      ", rho2 = " + std::to_string(t.rho2);
    return out;
  };
  return h;
}

std::vector<std::string> decoded_documents(const TokenStore& store) {
  const Tokenizer tokenizer = store.tokenizer();
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(store.num_documents()));
  for (int64_t i = 0; i < store.num_documents(); ++i) {
    const std::span<const int32_t> doc = store.document(i);
    out.push_back(tokenizer.decode(std::vector<int32_t>(doc.begin(), doc.end())));
  }
  return out;
}

}  // namespace

ExternalSet tlm_external_set(const TaskOptions& task, const TokenStore& general,
                             const TokenStore& examples, uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  rt::Bm25Index index;
  for (const std::string& text : decoded_documents(general))
    index.add(text);
  rt::RetrievalOptions o;
  o.k = task.retrieval_k;
  o.long_text_words = task.long_text_words;
  o.max_phrases = task.max_phrases;
  ExternalSet s;
  s.docs = rt::retrieve_external_set(index, decoded_documents(examples), o);
  if (task.retrieval == "random") {
    s.docs =
        rt::random_external_set(general.num_documents(), static_cast<int64_t>(s.docs.size()), seed);
  }
  GRAFT_INPUT_CHECK(!s.docs.empty(),
                    "tlm: retrieval found no document of the general corpus for "
                    "any task example (task.retrieval = "
                        << task.retrieval << ")");
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

TokenStore subset_store(const TokenStore& store, const std::vector<int64_t>& docs) {
  TokenStore out;
  out.kind = store.kind;
  out.split = store.split;
  out.vocab_size = store.vocab_size;
  out.tokenizer_model = store.tokenizer_model;
  out.source_manifest = store.source_manifest;
  out.doc_offsets.push_back(0);
  for (const int64_t i : docs) {
    const std::span<const int32_t> doc = store.document(i);
    out.tokens.insert(out.tokens.end(), doc.begin(), doc.end());
    out.doc_offsets.push_back(static_cast<int64_t>(out.tokens.size()));
  }
  return out;
}

int64_t stage_tau(const RecipeStage& stage) {
  if (stage.task.tau > 0) return stage.task.tau;
  const int64_t base =
      stage.task.baseline_steps > 0 ? stage.task.baseline_steps : stage.config.training.steps;
  return std::max<int64_t>(1, std::llround(stage.task.tau_fraction * static_cast<double>(base)));
}

TaskHooks recipe_task_hooks(const RecipeStage& stage) {
  const std::string& o = stage.config.data.objective;
  if (o == "rtd") return rtd_hooks(stage);
  if (o == "spactor") return spactor_hooks(stage);
  if (o == "tlm") return tlm_hooks(stage);
  return {};
}

}  // namespace graft::runner
