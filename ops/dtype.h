// Element types and devices.
//
// f64 exists for checking: every CPU kernel is instantiated for double so that
// gradient tests compare against float64 finite differences. bf16 is a storage
// type (GPU compute, checkpoints); CPU compute kernels take f32 or f64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace graft {

enum class DType : uint8_t { f32, bf16, i32, f64 };
enum class Device : uint8_t { cpu, cuda };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
const char* device_name(Device device);
DType parse_dtype(const std::string& name);  // "f32", "bf16", "i32", "f64"

inline bool is_floating(DType dtype) {
  return dtype != DType::i32;
}

// Brain float: the top 16 bits of an IEEE float32.
struct bf16 {
  uint16_t bits = 0;
};

inline float bf16_to_float(bf16 value) {
  uint32_t bits = static_cast<uint32_t>(value.bits) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

// Round to nearest even; NaN stays NaN (quietened).
inline bf16 float_to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0) {
    return bf16{static_cast<uint16_t>((bits >> 16) | 0x0040u)};
  }
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return bf16{static_cast<uint16_t>((bits + rounding) >> 16)};
}

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::i32;
}
template <>
constexpr DType dtype_of<bf16>() {
  return DType::bf16;
}

}  // namespace graft
