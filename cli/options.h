// Shared Boost.Program_options plumbing: parse a subcommand's arguments, and
// print its --help when asked (returning true so the caller exits 0).
#pragma once

#include <boost/program_options.hpp>
#include <string>

#include "cli/commands.h"

namespace graft::cli {

namespace po = boost::program_options;

// Parses args into vm; returns false after printing help when --help was given.
bool parse_options(const char* command, const char* description, po::options_description& options,
                   const Args& args, po::variables_map& vm);

}  // namespace graft::cli
