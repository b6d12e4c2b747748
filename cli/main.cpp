#include <boost/program_options/errors.hpp>
#include <cstring>
#include <exception>
#include <iomanip>
#include <iostream>

#include "cli/commands.h"
#include "cli/stopped.h"
#include "ops/check.h"

namespace {

using graft::cli::Command;

const Command kCommands[] = {
    {"quickstart", "train a tiny decoder on real text (the README's main job today)",
     graft::cli::run_quickstart},
    {"train", "train one stage from a TOML stage config", graft::cli::run_train_stage},
    {"recipe", "run a recipe's stages (recipe run FILE): resumable, FLOPs carried",
     graft::cli::run_recipe},
    {"suite", "run recipes against baselines and print the compute-savings table",
     graft::cli::run_suite},
    {"info", "print build and machine facts (BLAS, threads, version)", graft::cli::run_info},
    {"tokenizer", "train a SentencePiece tokenizer with graft's special ids",
     graft::cli::run_tokenizer},
    {"data", "tokenize corpora into HDF5 token stores, inspect stores", graft::cli::run_data},
    {"ckpt", "inspect and verify HDF5 checkpoints", graft::cli::run_ckpt},
};

void print_usage(std::ostream& out) {
  out << "usage: graft <command> [options]\n\n"
         "graft trains transformer language models and measures how much compute\n"
         "reusing one model to start another saves. Commands:\n\n";
  for (const Command& c : kCommands) {
    out << "  " << std::left << std::setw(12) << c.name << " " << c.summary << "\n";
  }
  out << "\n'graft <command> --help' describes a command's options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    print_usage(std::cout);
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (const Command& c : kCommands) {
    if (name != c.name) continue;
    graft::cli::Args args(argv + 2, argv + argc);
    try {
      return c.run(args);
    } catch (const graft::Preempted& e) {
      // Not an error: the checkpoint is written and --resume continues.
      return graft::cli::stopped_by_signal(name, e);
    } catch (const graft::InputError& e) {
      std::cerr << "graft " << name << ": error: " << e.what() << "\n";
      return 2;
    } catch (const boost::program_options::error& e) {
      std::cerr << "graft " << name << ": error: " << e.what() << " (see 'graft " << name
                << " --help')\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "graft " << name << ": error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "graft: unknown command '" << name << "'\n\n";
  print_usage(std::cerr);
  return 2;
}
