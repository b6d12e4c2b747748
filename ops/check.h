// Errors and invariant checks shared by every layer.
//
// Two kinds of failure: InputError is the user's (bad config, missing file,
// bad shape from a config) and maps to exit status 2 at the CLI; Error is any
// other failure, including a broken invariant caught by GRAFT_CHECK.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace graft {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InputError : public Error {
 public:
  using Error::Error;
};

[[noreturn]] void fail_check(const char* condition, const std::string& message, const char* file,
                             int line);

}  // namespace graft

// GRAFT_CHECK(cond, msg): throws graft::Error with msg (a stream expression,
// e.g. "got " << n) and the failed condition's location.
#define GRAFT_CHECK(cond, msg)                                                   \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::ostringstream graft_check_stream_;                                    \
      graft_check_stream_ << msg;                                                \
      ::graft::fail_check(#cond, graft_check_stream_.str(), __FILE__, __LINE__); \
    }                                                                            \
  } while (0)

// GRAFT_INPUT_CHECK: like GRAFT_CHECK but the fault is the caller's input,
// so it throws InputError and says nothing about source locations.
#define GRAFT_INPUT_CHECK(cond, msg)                        \
  do {                                                      \
    if (!(cond)) {                                          \
      std::ostringstream graft_check_stream_;               \
      graft_check_stream_ << msg;                           \
      throw ::graft::InputError(graft_check_stream_.str()); \
    }                                                       \
  } while (0)
