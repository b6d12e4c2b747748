// graft quickstart: the README's main job until the recipe suite exists.
// Trains a small causal decoder on Debian's fortune files with byte tokens
// through the same stage runner as `graft train` (its run folder's
// config.toml can be fed back to `graft train --config`), then reports
// validation loss before and after, throughput, MFU against the measured
// GEMM peak, and the FLOPs ledger checked against the analytic formula.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "data/byte_tokenizer.h"
#include "data/fortune_corpus.h"
#include "ops/autograd.h"
#include "train/progress.h"
#include "train/stage.h"

namespace graft::cli {

namespace {

struct QuickstartOptions {
  int64_t steps = 500;
  int64_t batch_size = 32;
  int64_t seq_len = 128;
  int64_t width = 128;
  int64_t layers = 4;
  int64_t heads = 4;
  double lr = 3e-3;
  int64_t seed = 0;
  std::string run_dir = "runs/quickstart";
  std::string corpus = kFortuneDirectory;
  std::string prompt = "The meaning of life is";
  int64_t sample_bytes = 160;
  double temperature = 0.7;
};

StageConfig quickstart_config(const QuickstartOptions& q) {
  GRAFT_INPUT_CHECK(q.width > 0 && q.heads > 0 && q.width % q.heads == 0,
                    "--heads " << q.heads << " must divide --width " << q.width);
  StageConfig c;
  c.model.kind = ModelKind::decoder;
  c.model.vocab_size = ByteTokenizer::kVocabSize;
  c.model.d_model = q.width;
  c.model.num_heads = q.heads;
  c.model.d_ff = 4 * q.width;
  c.model.decoder_layers = q.layers;
  c.model.max_positions = q.seq_len;
  c.model.dropout = 0.0;  // a few hundred steps on a tiny model underfit; dropout only slows it
  c.model.validate();
  c.optimizer.lr = q.lr;
  c.optimizer.min_lr = q.lr / 10;
  c.optimizer.warmup_steps = std::min<int64_t>(50, q.steps / 10);
  c.optimizer.weight_decay = 0.1;
  c.training.steps = q.steps;
  c.training.batch_size = q.batch_size;
  c.training.seq_len = q.seq_len;
  c.training.seed = q.seed;
  c.training.eval_interval = std::max<int64_t>(q.steps / 4, 1);
  c.training.eval_batches = 8;
  c.training.log_interval = 10;
  c.data.source = "fortunes";
  c.data.objective = "clm";
  c.data.dir = q.corpus;
  c.run.dir = q.run_dir;
  return c;
}

// Continuation of prompt, one full forward per new byte (no KV cache: a few
// hundred tiny forwards take well under a second). temperature 0 is greedy;
// above it, sampling from softmax(logits / temperature) with a seeded
// generator, since greedy decoding of a small byte model loops ("the the").
std::string continuation(const Model& model, const std::string& prompt, int64_t bytes,
                         int64_t context_len, double temperature, uint64_t seed) {
  NoGradGuard no_grad;
  std::vector<int32_t> ids{ByteTokenizer::kBos};
  for (int32_t id : ByteTokenizer::encode(prompt))
    ids.push_back(id);
  std::vector<int32_t> generated;
  std::mt19937_64 rng(seed);
  const FlopsLedger saved = flops_ledger();  // sampling is not part of the run's cost
  for (int64_t i = 0; i < bytes; ++i) {
    const size_t start =
        ids.size() > static_cast<size_t>(context_len) ? ids.size() - context_len : 0;
    std::vector<int32_t> window(ids.begin() + static_cast<std::ptrdiff_t>(start), ids.end());
    const int64_t t = static_cast<int64_t>(window.size());
    ForwardContext context;
    Tensor logits = model.lm_logits(model.decode(context, Tensor::from_vector(window, {1, t})));
    const int64_t v = logits.dim(-1);
    const float* last = logits.data<float>() + (t - 1) * v;
    // Candidates: EOS (ends the sample) and the bytes; PAD and BOS never.
    int32_t best = ByteTokenizer::kEos;
    for (int32_t j = ByteTokenizer::kFirstByte; j < v; ++j) {
      if (last[j] > last[best]) best = j;
    }
    int32_t next = best;
    if (temperature > 0) {
      std::vector<double> weights(static_cast<size_t>(v), 0.0);
      double total = 0;
      for (int32_t j = ByteTokenizer::kEos; j < v; ++j) {
        weights[j] = std::exp((last[j] - last[best]) / temperature);
        total += weights[j];
      }
      double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * total;
      for (int32_t j = ByteTokenizer::kEos; j < v; ++j) {
        next = j;
        if ((u -= weights[j]) < 0) break;
      }
    }
    if (next == ByteTokenizer::kEos) break;
    ids.push_back(next);
    generated.push_back(next);
  }
  flops_ledger() = saved;
  return ByteTokenizer::decode(generated);
}

std::string printable(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string with_commas(double value) {
  const std::string digits = std::to_string(static_cast<long long>(std::llround(value)));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && digits[i - 1] != '-' && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

int run_quickstart(const Args& args) {
  QuickstartOptions q;
  po::options_description options("options");
  auto add = options.add_options();
  add("steps", po::value(&q.steps)->default_value(q.steps), "optimizer steps");
  add("batch-size", po::value(&q.batch_size)->default_value(q.batch_size), "sequences per step");
  add("seq-len", po::value(&q.seq_len)->default_value(q.seq_len), "bytes per sequence");
  add("width", po::value(&q.width)->default_value(q.width), "model width d_model (d_ff = 4x)");
  add("layers", po::value(&q.layers)->default_value(q.layers), "decoder layers");
  add("heads", po::value(&q.heads)->default_value(q.heads), "attention heads");
  add("lr", po::value(&q.lr)->default_value(q.lr, "3e-3"), "peak learning rate (cosine to lr/10)");
  add("seed", po::value(&q.seed)->default_value(q.seed), "initialisation, batch and sample seed");
  add("run-dir", po::value(&q.run_dir)->default_value(q.run_dir),
      "run folder (config.toml, metrics.jsonl, train.log)");
  add("corpus", po::value(&q.corpus)->default_value(q.corpus),
      "folder of fortune files (Debian package 'fortunes')");
  add("prompt", po::value(&q.prompt)->default_value(q.prompt), "prompt for the sample at the end");
  add("sample-bytes", po::value(&q.sample_bytes)->default_value(q.sample_bytes),
      "bytes to generate (0: no sample)");
  add("temperature", po::value(&q.temperature)->default_value(q.temperature, "0.7"),
      "sampling temperature (0: greedy)");
  po::variables_map vm;
  if (!parse_options("quickstart",
                     "Trains a small causal decoder (byte tokens) on the fortune files of\n"
                     "Debian's 'fortunes' package, then prints validation loss before and\n"
                     "after, throughput, MFU and the FLOPs ledger checked against the\n"
                     "analytic formula, and a sample. 2-4 minutes on 2 cores with the defaults.",
                     options, args, vm)) {
    return 0;
  }
  GRAFT_INPUT_CHECK(q.steps >= 1, "--steps must be >= 1, got " << q.steps);
  GRAFT_INPUT_CHECK(q.batch_size >= 1, "--batch-size must be >= 1, got " << q.batch_size);
  GRAFT_INPUT_CHECK(q.seq_len >= 2, "--seq-len must be >= 2, got " << q.seq_len);
  GRAFT_INPUT_CHECK(q.layers >= 1, "--layers must be >= 1, got " << q.layers);
  GRAFT_INPUT_CHECK(q.lr > 0, "--lr must be positive, got " << q.lr);
  GRAFT_INPUT_CHECK(q.seed >= 0, "--seed must be >= 0, got " << q.seed);
  GRAFT_INPUT_CHECK(q.temperature >= 0, "--temperature must be >= 0, got " << q.temperature);
  GRAFT_INPUT_CHECK(q.sample_bytes >= 0, "--sample-bytes must be >= 0, got " << q.sample_bytes);

  const StageConfig config = quickstart_config(q);
  StageRunOptions run_options;
  run_options.label = "quickstart";
  run_options.overwrite = true;  // re-running the quickstart replaces its scratch run
  std::printf("graft quickstart: a %lld-layer, width-%lld decoder learns English from fortunes\n",
              static_cast<long long>(q.layers), static_cast<long long>(q.width));
  StageRun run = run_stage(config, "quickstart", run_options);
  const LoopResult& r = run.loop;

  const double executed = r.train_flops.model_total();
  const double analytic = run.analytic.total();
  const double ratio = analytic > 0 ? executed / analytic : 0;
  const double eval_seconds = r.wall_seconds - r.train_seconds;
  std::printf("\nquickstart summary\n");
  std::printf("  validation loss     %.4f -> %.4f nats/token (%.3f -> %.3f bits/byte)\n",
              r.initial.loss, r.final.loss, r.initial.bits_per_byte, r.final.bits_per_byte);
  std::printf("  token accuracy      %.1f%% -> %.1f%% (%lld validation tokens)\n",
              100 * r.initial.accuracy, 100 * r.final.accuracy,
              static_cast<long long>(r.final.count));
  std::printf("  steps               %lld (%lld skipped)\n", static_cast<long long>(r.steps.size()),
              static_cast<long long>(r.skipped));
  std::printf("  tokens              %s trained\n", with_commas(r.tokens).c_str());
  std::printf("  wall time           %s (training %s, evaluation %s)\n",
              ProgressReporter::format_duration(r.wall_seconds).c_str(),
              ProgressReporter::format_duration(r.train_seconds).c_str(),
              ProgressReporter::format_duration(eval_seconds).c_str());
  std::printf("  throughput          %s tokens/s (model FLOPs at %s)\n",
              with_commas(r.tokens_per_second()).c_str(),
              format_flops_rate(r.model_flops_per_second()).c_str());
  std::printf("  measured peak       %s (%s)\n",
              format_flops_rate(run.peak.flops_per_second).c_str(),
              describe_peak(run.peak).c_str());
  std::printf("  MFU                 %s\n",
              format_mfu(r.model_flops_per_second(), run.peak.flops_per_second).c_str());
  std::printf("  model FLOPs         executed %.6e (forward %.6e, backward %.6e)\n", executed,
              r.train_flops.forward().model(), r.train_flops.backward().model());
  std::printf("                      analytic %.6e (model/flops.h for the same tokens)\n",
              analytic);
  std::printf("                      ratio    %.6f%s\n", ratio,
              executed == analytic ? " (exact)" : " (MISMATCH)");
  std::printf("  run folder          %s\n", config.run.dir.c_str());
  if (q.sample_bytes > 0) {
    const std::string sample = continuation(*run.model, q.prompt, q.sample_bytes, q.seq_len,
                                            q.temperature, static_cast<uint64_t>(q.seed));
    char label[32];
    std::snprintf(label, sizeof(label), "sample (T=%g)", q.temperature);
    std::printf("  %-19s \"%s\" -> \"%s\"\n", label, printable(q.prompt).c_str(),
                printable(sample).c_str());
  }
  std::fflush(stdout);
  if (executed != analytic) {
    std::fprintf(stderr,
                 "graft quickstart: error: the FLOPs ledger (%.17g) does not match the analytic "
                 "count (%.17g): a kernel or formula miscounts\n",
                 executed, analytic);
    return 1;
  }
  return 0;
}

}  // namespace graft::cli
