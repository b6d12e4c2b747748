#include "train/checkpoint.h"

#include <cstdio>
#include <set>
#include <sstream>

#include "data/hdf5_file.h"
#include "model/model.h"
#include "ops/tensor_math.h"
#include "train/checksum.h"

namespace graft {

namespace {

constexpr const char* kCrcKey = "crc32";
constexpr const char* kDtypeKey = "dtype";

std::string param_path(const std::string& name) {
  return "/params/" + name;
}
std::string m_path(const std::string& name) {
  return "/optimizer/m/" + name;
}
std::string v_path(const std::string& name) {
  return "/optimizer/v/" + name;
}

int64_t count_of(const hdf5::Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

std::string hex32(uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "0x%08x", value);
  return buffer;
}

// HDF5 link names cannot hold '/', and the name index is newline-separated.
bool valid_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of("/\n") == std::string::npos;
}

std::vector<uint8_t> bytes_of(const std::string& text) {
  return {text.begin(), text.end()};
}
std::string text_of(const std::vector<uint8_t>& bytes) {
  return {bytes.begin(), bytes.end()};
}

std::string join_lines(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names)
    out += n + "\n";
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

std::vector<double> ledger_values(const FlopsLedger& l) {
  const FlopsCounts &f = l.forward(), &b = l.backward();
  return {f.matmul, f.attention, f.other, b.matmul, b.attention, b.other};
}

FlopsLedger ledger_from(const std::vector<double>& v) {
  FlopsLedger l;
  const FlopsKind kinds[] = {FlopsKind::matmul, FlopsKind::attention, FlopsKind::other};
  for (int i = 0; i < 6; ++i)
    l.add(i < 3 ? Phase::forward : Phase::backward, kinds[i % 3], v[static_cast<size_t>(i)]);
  return l;
}

// "'a', 'b', 'c' and 4 more"
std::string name_list(const std::vector<std::string>& names) {
  std::ostringstream out;
  const size_t shown = std::min<size_t>(names.size(), 5);
  for (size_t i = 0; i < shown; ++i)
    out << (i ? ", '" : "'") << names[i] << "'";
  if (names.size() > shown) out << " and " << names.size() - shown << " more";
  return out.str();
}

template <class T>
void write_checked(hdf5::File& file, const std::string& name, const T* data, const hdf5::Dims& dims,
                   const std::string& dtype) {
  file.write(name, data, dims);
  const size_t bytes = static_cast<size_t>(count_of(dims)) * sizeof(T);
  file.set_attribute(name, kCrcKey, static_cast<int64_t>(crc32(data, bytes)));
  file.set_attribute(name, kDtypeKey, dtype);
}

template <class T>
void write_checked(hdf5::File& file, const std::string& name, const std::vector<T>& values,
                   const std::string& dtype) {
  write_checked(file, name, values.data(), hdf5::Dims{static_cast<int64_t>(values.size())}, dtype);
}

void write_tensor(hdf5::File& file, const std::string& name, const Tensor& t) {
  if (t.device() != Device::cpu) return write_tensor(file, name, t.to(Device::cpu));
  switch (t.dtype()) {
    case DType::f32:
      return write_checked(file, name, t.data<float>(), t.shape(), "f32");
    case DType::f64:
      return write_checked(file, name, t.data<double>(), t.shape(), "f64");
    case DType::i32:
      return write_checked(file, name, t.data<int32_t>(), t.shape(), "i32");
    case DType::bf16: {
      const Tensor wide = t.to(DType::f32);
      return write_checked(file, name, wide.data<float>(), t.shape(), "bf16");
    }
  }
}

// Reads datasets and checks their CRCs. Strict (no report): a mismatch
// throws. With a report: every dataset is recorded, a mismatch or a tensor
// that cannot be read is noted there and reading goes on.
class Reader {
 public:
  Reader(const std::string& path, std::vector<DatasetCheck>* report)
      : file_(hdf5::File::open(path)), report_(report) {}
  const hdf5::File& file() const { return file_; }

  template <class T>
  std::vector<T> read(const std::string& name, const std::string& dtype,
                      hdf5::Dims* dims_out = nullptr) {
    hdf5::Dims dims;
    std::vector<T> values = file_.read<T>(name, &dims);
    const auto stored = static_cast<uint32_t>(file_.int_attribute(name, kCrcKey));
    const uint32_t computed = crc32(values.data(), values.size() * sizeof(T));
    std::string problem;
    if (stored != computed) {
      problem = "dataset '" + name + "' fails its CRC-32 check (stored " + hex32(stored) +
                ", computed " + hex32(computed) + "): the file is corrupt";
    }
    if (report_) {
      report_->push_back({name, dims, dtype, stored, computed, problem});
    } else if (!problem.empty()) {
      file_.fail(problem);
    }
    if (dims_out) *dims_out = dims;
    return values;
  }

  Tensor tensor(const std::string& name) {
    try {
      return read_tensor(name);
    } catch (const InputError& e) {
      if (!report_) throw;
      report_->push_back({name, {}, "?", 0, 0, e.what()});
      return Tensor();
    }
  }

 private:
  Tensor read_tensor(const std::string& name) {
    if (!file_.has(name)) file_.fail("has no dataset '" + name + "' (an incomplete checkpoint)");
    const std::string dtype = file_.string_attribute(name, kDtypeKey);
    hdf5::Dims dims;
    if (dtype == "f32") return Tensor::from_vector(read<float>(name, dtype, &dims), dims);
    if (dtype == "f64") return Tensor::from_vector(read<double>(name, dtype, &dims), dims);
    if (dtype == "i32") return Tensor::from_vector(read<int32_t>(name, dtype, &dims), dims);
    if (dtype == "bf16") {
      const std::vector<float> wide = read<float>(name, dtype, &dims);
      std::vector<bf16> narrow(wide.size());
      for (size_t i = 0; i < wide.size(); ++i)
        narrow[i] = float_to_bf16(wide[i]);
      return Tensor::from_vector(narrow, dims);
    }
    file_.fail("dataset '" + name + "' has unknown dtype '" + dtype + "'");
  }

  hdf5::File file_;
  std::vector<DatasetCheck>* report_;
};

template <class T>
std::vector<T> read_sized(Reader& r, const std::string& name, const std::string& dtype,
                          size_t size) {
  std::vector<T> values = r.read<T>(name, dtype);
  if (values.size() != size) {
    r.file().fail("dataset '" + name + "' holds " + std::to_string(values.size()) +
                  " values, expected " + std::to_string(size));
  }
  return values;
}

CheckpointContents read_checkpoint(const std::string& path, std::vector<DatasetCheck>* report,
                                   int64_t* version_out) {
  Reader r(path, report);
  const hdf5::File& f = r.file();
  if (!f.has_attribute("/", "format") || f.string_attribute("/", "format") != kCheckpointFormat) {
    f.fail(std::string("is an HDF5 file but not a graft checkpoint (no root attribute format = '") +
           kCheckpointFormat + "')");
  }
  const int64_t version = f.int_attribute("/", "format_version");
  if (version < 1 || version > kCheckpointVersion) {
    f.fail("checkpoint format version " + std::to_string(version) +
           " is not supported (this build reads up to " + std::to_string(kCheckpointVersion) + ")");
  }
  if (version_out) *version_out = version;

  CheckpointContents c;
  c.source = path;
  const auto counters = read_sized<int64_t>(r, "/state/counters", "i64", 3);
  c.step = counters[0];
  c.tokens = counters[1];
  c.seed = static_cast<uint64_t>(counters[2]);
  c.flops = ledger_from(read_sized<double>(r, "/state/flops", "f64", 6));
  c.carried_flops = ledger_from(read_sized<double>(r, "/state/flops_carried", "f64", 6));
  c.loader_state = r.read<int64_t>("/state/loader", "i64");
  c.config = text_of(r.read<uint8_t>("/run/config", "u8"));
  c.tokenizer = text_of(r.read<uint8_t>("/run/tokenizer", "u8"));

  for (const std::string& name : split_lines(text_of(r.read<uint8_t>("/index/params", "u8")))) {
    c.parameters.push_back({name, r.tensor(param_path(name))});
  }
  const auto names = split_lines(text_of(r.read<uint8_t>("/index/optimizer", "u8")));
  const auto steps = read_sized<int64_t>(r, "/optimizer/steps", "i64", names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    ParameterState s;
    s.m = r.tensor(m_path(names[i]));
    s.v = r.tensor(v_path(names[i]));
    s.step = steps[i];
    c.optimizer.emplace(names[i], std::move(s));
  }
  return c;
}

// Programming errors in what the caller captured: Error, before any file.
void validate(const CheckpointContents& c) {
  std::map<std::string, Shape> shapes;
  for (const NamedParameter& p : c.parameters) {
    GRAFT_CHECK(valid_name(p.name), "checkpoint: invalid parameter name '" << p.name << "'");
    GRAFT_CHECK(p.tensor.defined() && p.tensor.device() == Device::cpu && p.tensor.ndim() >= 1,
                "checkpoint: parameter '" << p.name << "' is " << p.tensor.describe()
                                          << " (needs a CPU tensor of rank >= 1)");
    GRAFT_CHECK(shapes.emplace(p.name, p.tensor.shape()).second,
                "checkpoint: parameter '" << p.name << "' appears twice");
  }
  for (const auto& [name, s] : c.optimizer) {
    const auto it = shapes.find(name);
    GRAFT_CHECK(it != shapes.end(),
                "checkpoint: optimizer state for unknown parameter '" << name << "'");
    for (const Tensor* t : {&s.m, &s.v}) {
      GRAFT_CHECK(t->defined() && t->device() == Device::cpu && t->shape() == it->second,
                  "checkpoint: optimizer moment of '" << name << "' is " << t->describe()
                                                      << ", the parameter is "
                                                      << shape_string(it->second));
    }
    GRAFT_CHECK(s.step >= 0, "checkpoint: negative optimizer step for '" << name << "'");
  }
}

bool finite(const Tensor& t) {
  if (t.dtype() == DType::i32) return true;
  return all_finite(t.dtype() == DType::bf16 ? t.to(DType::f32) : t);
}

std::string where(const CheckpointContents& c) {
  return c.source.empty() ? std::string("the checkpoint") : "checkpoint " + c.source;
}

// Missing / extra names and shape mismatches between a checkpoint's tensors
// and the model's, all checked before anything is copied.
void check_match(const CheckpointContents& c, const std::map<std::string, Shape>& model,
                 const std::map<std::string, Shape>& saved, const std::string& what) {
  std::vector<std::string> missing, extra;
  for (const auto& [name, shape] : model) {
    if (!saved.count(name)) missing.push_back(name);
  }
  for (const auto& [name, shape] : saved) {
    if (!model.count(name)) extra.push_back(name);
  }
  GRAFT_INPUT_CHECK(missing.empty(), where(c) << " has no " << what << " for " << name_list(missing)
                                              << ", which the model has");
  GRAFT_INPUT_CHECK(extra.empty(), where(c) << " holds " << what << " for " << name_list(extra)
                                            << ", which the model does not have (another model "
                                               "kind or size? transfer recipes copy by pattern)");
  for (const auto& [name, shape] : model) {
    const Shape& s = saved.at(name);
    GRAFT_INPUT_CHECK(s == shape, where(c) << ": " << what << " '" << name << "' has shape "
                                           << shape_string(s) << " in the checkpoint but "
                                           << shape_string(shape) << " in the model");
  }
}

void check_parameters(const CheckpointContents& c, const Parameters& parameters) {
  std::map<std::string, Shape> model, saved;
  for (const NamedParameter& p : parameters.entries())
    model.emplace(p.name, p.tensor.shape());
  for (const NamedParameter& p : c.parameters)
    saved.emplace(p.name, p.tensor.shape());
  check_match(c, model, saved, "parameter");
}

void check_optimizer(const CheckpointContents& c, const AdamW& optimizer) {
  GRAFT_INPUT_CHECK(!c.optimizer.empty(), where(c) << " holds no optimizer state (weights only)");
  std::map<std::string, Shape> model, saved;
  for (const auto& [name, s] : optimizer.state())
    model.emplace(name, s.m.shape());
  for (const auto& [name, s] : c.optimizer)
    saved.emplace(name, s.m.shape());
  check_match(c, model, saved, "optimizer state");
}

void copy_converted(const Tensor& dst, const Tensor& src) {
  dst.copy_from(src.dtype() == dst.dtype() ? src : src.to(dst.dtype()));
}

}  // namespace

FlopsLedger CheckpointContents::total_flops() const {
  FlopsLedger total = flops;
  total.merge(carried_flops);
  return total;
}

const Tensor& CheckpointContents::parameter(const std::string& name) const {
  for (const NamedParameter& p : parameters) {
    if (p.name == name) return p.tensor;
  }
  throw InputError(where(*this) + " has no parameter '" + name + "'");
}

int64_t CheckpointReport::failures() const {
  int64_t n = 0;
  for (const DatasetCheck& d : datasets)
    n += d.ok() ? 0 : 1;
  return n;
}

void check_finite(const CheckpointContents& c) {
  for (const NamedParameter& p : c.parameters) {
    GRAFT_CHECK(!p.tensor.defined() || finite(p.tensor),
                "refusing to checkpoint a non-finite state: parameter '"
                    << p.name << "' holds NaN or infinity (step " << c.step << ")");
  }
  for (const auto& [name, s] : c.optimizer) {
    GRAFT_CHECK(!s.m.defined() || finite(s.m),
                "refusing to checkpoint a non-finite state: AdamW first moment (m) of '"
                    << name << "' holds NaN or infinity (step " << c.step << ")");
    GRAFT_CHECK(!s.v.defined() || finite(s.v),
                "refusing to checkpoint a non-finite state: AdamW second moment (v) of '"
                    << name << "' holds NaN or infinity (step " << c.step << ")");
  }
}

void save_checkpoint(const std::string& path, const CheckpointContents& c) {
  validate(c);
  check_finite(c);
  hdf5::File f = hdf5::File::create(path);
  f.set_attribute("/", "format", std::string(kCheckpointFormat));
  f.set_attribute("/", "format_version", kCheckpointVersion);
  // Informational copies for `h5dump -H`; the datasets below are authoritative.
  f.set_attribute("/", "step", c.step);
  f.set_attribute("/", "tokens", c.tokens);

  write_checked(f, "/state/counters",
                std::vector<int64_t>{c.step, c.tokens, static_cast<int64_t>(c.seed)}, "i64");
  write_checked(f, "/state/flops", ledger_values(c.flops).data(), {2, 3}, "f64");
  write_checked(f, "/state/flops_carried", ledger_values(c.carried_flops).data(), {2, 3}, "f64");
  write_checked(f, "/state/loader", c.loader_state, "i64");
  write_checked(f, "/run/config", bytes_of(c.config), "u8");
  write_checked(f, "/run/tokenizer", bytes_of(c.tokenizer), "u8");

  std::vector<std::string> names;
  for (const NamedParameter& p : c.parameters) {
    names.push_back(p.name);
    write_tensor(f, param_path(p.name), p.tensor);
  }
  write_checked(f, "/index/params", bytes_of(join_lines(names)), "u8");

  names.clear();
  std::vector<int64_t> steps;
  for (const auto& [name, s] : c.optimizer) {
    names.push_back(name);
    steps.push_back(s.step);
    write_tensor(f, m_path(name), s.m);
    write_tensor(f, v_path(name), s.v);
  }
  write_checked(f, "/index/optimizer", bytes_of(join_lines(names)), "u8");
  write_checked(f, "/optimizer/steps", steps, "i64");
  f.commit();
}

CheckpointContents load_checkpoint(const std::string& path) {
  return read_checkpoint(path, nullptr, nullptr);
}

CheckpointReport verify_checkpoint(const std::string& path) {
  CheckpointReport report;
  report.contents = read_checkpoint(path, &report.datasets, &report.version);
  return report;
}

CheckpointContents capture(const Parameters& parameters, const AdamW* optimizer) {
  CheckpointContents c;
  c.parameters = parameters.entries();
  if (optimizer) c.optimizer = optimizer->state();
  return c;
}

CheckpointContents capture(const Model& model, const AdamW* optimizer) {
  return capture(model.parameters(), optimizer);
}

void restore_parameters(const CheckpointContents& c, Parameters& parameters) {
  check_parameters(c, parameters);
  for (const NamedParameter& p : parameters.entries())
    copy_converted(p.tensor, c.parameter(p.name));
}

void restore_optimizer(const CheckpointContents& c, AdamW& optimizer) {
  check_optimizer(c, optimizer);
  for (auto& [name, s] : optimizer.state()) {
    const ParameterState& from = c.optimizer.at(name);
    copy_converted(s.m, from.m);
    copy_converted(s.v, from.v);
    s.step = from.step;
  }
  optimizer.refresh_masters();
}

void restore(const CheckpointContents& c, Model& model, AdamW* optimizer) {
  // Everything is checked before anything is copied, so a refused restore
  // leaves model and optimizer as they were.
  check_parameters(c, model.parameters());
  if (optimizer) check_optimizer(c, *optimizer);
  restore_parameters(c, model.parameters());
  if (optimizer) restore_optimizer(c, *optimizer);
}

}  // namespace graft
