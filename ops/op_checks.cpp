#include "ops/op_checks.h"

namespace graft {

void check_float_arg(const char* op, const char* name, const Tensor& t, const Tensor& like) {
  GRAFT_CHECK(t.defined(), op << ": " << name << " is undefined");
  GRAFT_CHECK(is_floating(t.dtype()),
              op << ": " << name << " must be floating, got " << t.describe());
  if (like.defined()) {
    GRAFT_CHECK(t.dtype() == like.dtype() && t.device() == like.device(),
                op << ": " << name << " is " << t.describe() << " but expected "
                   << dtype_name(like.dtype()) << " on " << device_name(like.device()));
  }
}

void check_index_arg(const char* op, const char* name, const Tensor& t) {
  GRAFT_CHECK(t.defined(), op << ": " << name << " is undefined");
  GRAFT_CHECK(t.dtype() == DType::i32, op << ": " << name << " must be i32, got " << t.describe());
}

void check_shape_arg(const char* op, const char* name, const Tensor& t, const Shape& expected) {
  GRAFT_CHECK(t.shape() == expected, op << ": " << name << " has shape " << shape_string(t.shape())
                                        << ", expected " << shape_string(expected));
}

void fail_unsupported_device(const char* op, const Tensor& t) {
  GRAFT_CHECK(false, op << ": no kernel for " << device_name(t.device()) << " in this build");
}

}  // namespace graft
