// The graft executable's subcommands. Each lives in its own cmd_<name>.cpp and
// is listed in kCommands (main.cpp); a command receives the arguments after its
// name and returns the process exit status. Errors are thrown, not printed:
// main() turns graft::InputError into exit status 2 and anything else into 1.
#pragma once

#include <string>
#include <vector>

namespace graft::cli {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};

int run_info(const Args& args);
int run_quickstart(const Args& args);
int run_train_stage(const Args& args);  // "train" (cmd_tokenizer.cpp has its own run_train)
int run_tokenizer(const Args& args);
int run_data(const Args& args);
int run_ckpt(const Args& args);
int run_recipe(const Args& args);  // cmd_recipe.cpp: "recipe run"
int run_suite(const Args& args);   // cmd_suite.cpp: "suite run", "suite report"

}  // namespace graft::cli
