// A stage trained on an HDF5 token store saves the store's SentencePiece
// model in every checkpoint, so a checkpoint alone says how to tokenize text
// for the model it holds.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "data/token_store.h"
#include "train/checkpoint.h"

namespace graft {
namespace {

namespace fs = std::filesystem;

TEST(StoreStageCheckpoint, HoldsTheStoresTokenizer) {
  const fs::path dir = fs::temp_directory_path() / "graft-ckpt-tokenizer";
  fs::remove_all(dir);
  const std::string stores = (dir / "stores").string();
  const std::string build = std::string(GRAFT_SOURCE_DIR) + "/recipes/tiny-data " + GRAFT_EXE +
                            " " + stores + " > " + (dir / "data.log").string() + " 2>&1";
  fs::create_directories(dir);
  ASSERT_EQ(std::system(build.c_str()), 0) << "see " << (dir / "data.log");
  const std::string run = std::string(GRAFT_EXE) + " recipe run " + GRAFT_SOURCE_DIR +
                          "/recipes/tiny/baseline-clm.toml --set recipe.stores=" + stores +
                          " --set training.steps=2 --run-dir " + (dir / "run").string() + " > " +
                          (dir / "run.log").string() + " 2>&1";
  ASSERT_EQ(std::system(run.c_str()), 0) << "see " << (dir / "run.log");

  fs::path checkpoint;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "run")) {
    if (entry.path().extension() == ".h5") checkpoint = entry.path();
  }
  ASSERT_FALSE(checkpoint.empty()) << "no checkpoint under " << (dir / "run");
  const CheckpointContents contents = load_checkpoint(checkpoint.string());
  const std::string expected = TokenStore::load(stores + "/en/train.h5").tokenizer().serialized();
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(contents.tokenizer, expected) << checkpoint;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace graft
