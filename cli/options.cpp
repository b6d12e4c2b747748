#include "cli/options.h"

#include <iostream>

namespace graft::cli {

bool parse_options(const char* command, const char* description, po::options_description& options,
                   const Args& args, po::variables_map& vm) {
  options.add_options()("help,h", "show this help and exit");
  po::store(po::command_line_parser(args).options(options).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: graft " << command << " [options]\n\n"
              << description << "\n\n"
              << options << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace graft::cli
