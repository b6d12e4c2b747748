#include "ops/check.h"

namespace graft {

void fail_check(const char* condition, const std::string& message, const char* file, int line) {
  std::ostringstream out;
  out << message << " (check `" << condition << "` failed at " << file << ":" << line << ")";
  throw Error(out.str());
}

}  // namespace graft
