#include "cli/stopped.h"

#include <cstdio>
#include <iostream>

namespace graft::cli {

int stopped_by_signal(const std::string& command, const Preempted& stop, bool print) {
  if (print) {
    std::fflush(stdout);
    std::cerr << "graft " << command << ": " << stop.what() << "; "
              << (command == "train" ? "rerun with --resume to continue"
                                     : "rerun the same command to continue")
              << std::endl;
  }
  return kPreemptedExitStatus;
}

}  // namespace graft::cli
