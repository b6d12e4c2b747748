// graft ckpt inspect: what a checkpoint holds (train/checkpoint.h), with
// every dataset's CRC-32 checked; --verify makes a mismatch the exit status.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "train/checkpoint.h"

namespace graft::cli {

namespace {

std::string ledger_line(const FlopsLedger& l) {
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer),
                "forward matmul %.6g attention %.6g other %.6g | backward matmul %.6g "
                "attention %.6g other %.6g",
                l.forward().matmul, l.forward().attention, l.forward().other, l.backward().matmul,
                l.backward().attention, l.backward().other);
  return buffer;
}

std::string verdict(const DatasetCheck* check) {
  if (!check) return "?";
  return check->ok() ? "ok" : "FAILED";
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line = " ";
    for (size_t i = 0; i < row.size(); ++i) {
      line += " " + row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 1, ' ');
    }
    std::cout << line << "\n";
  }
}

int run_inspect(const Args& args) {
  std::string path;
  bool verify = false;
  po::options_description options("options");
  options.add_options()  //
      ("checkpoint", po::value(&path)->required(),
       "the checkpoint file (also the first argument)")  //
      ("verify", po::bool_switch(&verify),
       "exit with status 2 when any dataset fails its checksum or cannot be read")  //
      ("help,h", "show this help and exit");
  po::positional_options_description positional;
  positional.add("checkpoint", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: graft ckpt inspect CHECKPOINT [--verify]\n\n"
                 "Prints a checkpoint's format, step, tokens, FLOPs ledgers, config, tokenizer\n"
                 "size, and every parameter and optimizer moment with its shape, dtype and\n"
                 "whether its CRC-32 matches (every dataset is read and checked).\n\n"
              << options << "\n";
    return 0;
  }
  po::notify(vm);

  const CheckpointReport report = verify_checkpoint(path);
  const CheckpointContents& c = report.contents;
  std::map<std::string, const DatasetCheck*> checks;
  for (const DatasetCheck& d : report.datasets)
    checks[d.dataset] = &d;

  std::cout << path << "\n"
            << "  format: " << kCheckpointFormat << " version " << report.version << "\n"
            << "  step: " << c.step << "\n"
            << "  tokens: " << c.tokens << "\n"
            << "  seed: " << c.seed << "\n"
            << "  flops (this stage): " << ledger_line(c.flops) << "\n"
            << "  flops (carried):    " << ledger_line(c.carried_flops) << "\n"
            << "  flops (total model): " << c.total_flops().model_total() << "\n"
            << "  loader state: " << c.loader_state.size() << " values\n"
            << "  tokenizer: "
            << (c.tokenizer.empty() ? std::string("none")
                                    : std::to_string(c.tokenizer.size()) + " bytes")
            << "\n  config:";
  if (c.config.empty()) std::cout << " none";
  std::istringstream config(c.config);
  for (std::string line; std::getline(config, line);)
    std::cout << "\n    " << line;
  std::cout << "\n\n";

  int64_t elements = 0;
  std::vector<std::vector<std::string>> rows = {{"parameter", "shape", "dtype", "checksum"}};
  for (const NamedParameter& p : c.parameters) {
    const DatasetCheck* d = checks["/params/" + p.name];
    if (p.tensor.defined()) elements += p.tensor.numel();
    rows.push_back({p.name, d ? shape_string(d->shape) : "?", d ? d->dtype : "?", verdict(d)});
  }
  std::cout << "parameters: " << c.parameters.size() << " (" << elements << " elements)\n";
  print_table(rows);

  std::cout << "\noptimizer state (AdamW): ";
  if (c.optimizer.empty()) {
    std::cout << "none (weights only)\n";
  } else {
    std::cout << c.optimizer.size() << " parameters\n";
    rows = {{"parameter", "step", "m", "v"}};
    // In the parameters' order, which is the model's.
    for (const NamedParameter& p : c.parameters) {
      const auto it = c.optimizer.find(p.name);
      if (it == c.optimizer.end()) continue;
      rows.push_back({p.name, std::to_string(it->second.step),
                      verdict(checks["/optimizer/m/" + p.name]),
                      verdict(checks["/optimizer/v/" + p.name])});
    }
    print_table(rows);
  }

  const int64_t failures = report.failures();
  std::cout << "\nchecksums: ";
  if (failures == 0) {
    std::cout << "all " << report.datasets.size() << " datasets ok\n";
    return 0;
  }
  std::cout << failures << " of " << report.datasets.size() << " datasets FAILED\n";
  for (const DatasetCheck& d : report.datasets) {
    if (!d.ok()) std::cout << "  " << d.problem << "\n";
  }
  if (verify) {
    throw InputError(path + ": " + std::to_string(failures) +
                     " dataset(s) fail verification; the checkpoint is corrupt");
  }
  return 0;
}

}  // namespace

int run_ckpt(const Args& args) {
  const std::string sub = args.empty() ? "" : args[0];
  const Args rest = args.empty() ? Args{} : Args(args.begin() + 1, args.end());
  if (sub == "inspect") return run_inspect(rest);
  const bool help = sub == "--help" || sub == "-h";
  (help ? std::cout : std::cerr)
      << "usage: graft ckpt inspect CHECKPOINT [--verify]\n\n"
         "  inspect   describe a checkpoint and check every dataset's CRC-32\n\n"
         "'graft ckpt inspect --help' lists its options. Layout: train/README.md.\n";
  return help ? 0 : 2;
}

}  // namespace graft::cli
