// Hand-made run folders for the savings tests: a config.toml with a small
// [model] whose parameter counts are worked out by hand below, and
// metrics.jsonl records with chosen FLOPs and qualities.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace graft::savings::testing {

namespace fs = std::filesystem;

// Decoder, V = 16, d = 8, 1 layer, d_ff = 16, 4 learned positions, tied LM
// head. By hand: token embedding 16·8 = 128, positions 4·8 = 32 (embeddings:
// 160). The layer: q, k, v, o 4·(8·8 + 8) = 288; MLP 8·16 + 16 + 16·8 + 8 =
// 280; two layer norms 2·(8 + 8) = 32; so 600, plus the final norm 16: 616
// outside the embeddings.
inline const char* kTinyModelToml =
    "[model]\nkind = 'decoder'\nvocab_size = 16\nd_model = 8\nnum_heads = 2\nd_ff = 16\n"
    "decoder_layers = 1\nmax_positions = 4\npositions = 'learned'\nnorm = 'layer'\n"
    "tie_embeddings = true\nheads = ['lm']\n";
constexpr double kTinyNonEmbedding = 616;
constexpr double kTinyWithEmbedding = 776;

struct Record {
  int64_t step;
  double tokens;
  double flops_model;
  double quality;  // written as val_loss; < 0: a train-only record
};

inline std::string record_json(const Record& r, const std::string& metric = "val_loss") {
  std::string s = "{\"step\": " + std::to_string(r.step);
  if (r.step > 0 || r.flops_model > 0) {
    s += ", \"loss\": 1.0, \"tokens\": " + std::to_string(static_cast<long long>(r.tokens)) +
         ", \"flops_model\": " + std::to_string(r.flops_model) +
         ", \"flops_other\": 1, \"flops_total\": " + std::to_string(r.flops_model + 1);
  }
  if (r.quality >= 0) s += ", \"" + metric + "\": " + std::to_string(r.quality);
  return s + "}\n";
}

inline void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

inline void write_stage(const fs::path& dir, const std::vector<Record>& records, int seed = 0,
                        const std::string& metric = "val_loss") {
  write_file(dir / "config.toml",
             std::string(kTinyModelToml) + "[training]\nseed = " + std::to_string(seed) + "\n");
  std::string text;
  for (const Record& r : records)
    text += record_json(r, metric);
  write_file(dir / "metrics.jsonl", text);
}

// A fresh folder under the test temp dir, removed first.
inline fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("graft_savings_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace graft::savings::testing
