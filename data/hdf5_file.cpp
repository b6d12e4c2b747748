#include "data/hdf5_file.h"

#include <hdf5.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <type_traits>

#include "ops/check.h"

namespace graft::hdf5 {

namespace {

// HDF5 prints its error stack to stderr by default; graft reports errors
// itself, once, with the file's name.
//
// And no exit-time cleanup: when closing a file being written fails (a full
// disk, a file size limit), HDF5 1.10 frees the file but leaves its id
// registered, and the cleanup it runs from atexit closes that id again and
// segfaults (exit 139 after the right error message). graft closes every
// file itself (File is RAII), so the cleanup has nothing to do.
// H5dont_atexit must come before the library initializes: every File entry
// point calls this first, and nothing else in graft calls HDF5. (Parallel
// HDF5 also runs the cleanup from MPI_Finalize; after a failed save graft
// ends MPI runs with abort_job, which skips it.)
void silence_hdf5() {
  static const bool done = [] {
    H5dont_atexit();
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

// The operating system's reason for the HDF5 call that just failed ("No
// space left on device", "File too large"), read from the innermost entry of
// HDF5's error stack that has one; "" when none does.
std::string system_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
        auto* out = static_cast<std::string*>(data);
        const std::string key = "error message = '";
        const std::string desc = error->desc ? error->desc : "";
        const size_t at = desc.find(key);
        if (!out->empty() || at == std::string::npos) return 0;
        const size_t begin = at + key.size();
        *out = desc.substr(begin, desc.find('\'', begin) - begin);
        return 0;
      },
      &reason);
  return reason;
}

template <class T>
hid_t native_type() {
  if constexpr (std::is_same_v<T, int32_t>) return H5T_NATIVE_INT32;
  if constexpr (std::is_same_v<T, int64_t>) return H5T_NATIVE_INT64;
  if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
  if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
  if constexpr (std::is_same_v<T, uint8_t>) return H5T_NATIVE_UINT8;
}

template <class T>
constexpr bool is_float_type = std::is_floating_point_v<T>;

// Closes an HDF5 handle of any kind when it goes out of scope.
class Handle {
 public:
  Handle(hid_t id, herr_t (*closer)(hid_t)) : id_(id), closer_(closer) {}
  ~Handle() {
    if (id_ >= 0) closer_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*closer_)(hid_t);
};

std::string object_path(const std::string& object) {
  return object.empty() ? "/" : object;
}

}  // namespace

File::File(int64_t id, std::string path, std::string temp_path, bool writable)
    : id_(id), path_(std::move(path)), temp_path_(std::move(temp_path)), writable_(writable) {}

File::File(File&& other) noexcept
    : id_(other.id_),
      path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      writable_(other.writable_) {
  other.id_ = -1;
  other.temp_path_.clear();
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    close();
    id_ = other.id_;
    path_ = std::move(other.path_);
    temp_path_ = std::move(other.temp_path_);
    writable_ = other.writable_;
    other.id_ = -1;
    other.temp_path_.clear();
  }
  return *this;
}

File::~File() {
  close();
}

void File::close() noexcept {
  std::error_code ignored;
  // An uncommitted temp file is being thrown away (a failed or abandoned
  // write). Emptying it first gives a full disk its space back, so what HDF5
  // still writes while closing fits and the close succeeds; and the space
  // is freed even should HDF5 keep its descriptor (a failed close).
  if (!temp_path_.empty()) std::filesystem::resize_file(temp_path_, 0, ignored);
  // A failed close has nothing left to report: the write that failed threw.
  if (id_ >= 0) H5Fclose(id_);
  id_ = -1;
  if (!temp_path_.empty()) {
    std::filesystem::remove(temp_path_, ignored);
    temp_path_.clear();
  }
}

void File::fail(const std::string& message) const {
  const std::string reason = system_reason();
  const std::string text = path_ + ": " + message + (reason.empty() ? "" : " (" + reason + ")");
  if (writable_) throw Error(text);
  throw InputError(text);
}

File File::create(const std::string& path) {
  silence_hdf5();
  const std::string temp = path + ".tmp";
  const hid_t id = H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  GRAFT_INPUT_CHECK(id >= 0, "cannot create HDF5 file " << temp << " (is the folder writable?)");
  return File(id, path, temp, true);
}

File File::open(const std::string& path) {
  silence_hdf5();
  GRAFT_INPUT_CHECK(std::filesystem::is_regular_file(path), "file " << path << " not found");
  {
    std::ifstream probe(path);
    GRAFT_INPUT_CHECK(probe, "cannot read " << path);
  }
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  GRAFT_INPUT_CHECK(is_hdf5 > 0, path << " is not an HDF5 file");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  GRAFT_INPUT_CHECK(id >= 0, path << " is not a readable HDF5 file (truncated or corrupt)");
  return File(id, path, "", false);
}

void File::commit() {
  GRAFT_CHECK(writable_ && !temp_path_.empty(), path_ << ": commit() on a file not being written");
  // A failed flush (disk full) leaves the file open for close() to discard.
  if (H5Fflush(id_, H5F_SCOPE_GLOBAL) < 0) fail("cannot write " + temp_path_);
  const herr_t closed = H5Fclose(id_);
  id_ = -1;  // HDF5 has let go of the id, closed or not: never close it twice
  if (closed < 0) fail("cannot close " + temp_path_);
  std::error_code ec;
  std::filesystem::rename(temp_path_, path_, ec);
  if (ec) fail("cannot rename " + temp_path_ + ": " + ec.message());
  temp_path_.clear();
}

template <class T>
void File::write(const std::string& name, const T* data, const Dims& dims) {
  GRAFT_CHECK(writable_ && id_ >= 0, path_ << ": not open for writing");
  std::vector<hsize_t> hdims(dims.begin(), dims.end());
  Handle space(H5Screate_simple(static_cast<int>(hdims.size()), hdims.data(), nullptr), H5Sclose);
  if (!space.ok()) fail("cannot create dataspace for '" + name + "'");
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  if (!lcpl.ok() || H5Pset_create_intermediate_group(lcpl.get(), 1) < 0) {
    fail("cannot create link properties for '" + name + "'");
  }
  Handle dset(H5Dcreate2(id_, name.c_str(), native_type<T>(), space.get(), lcpl.get(), H5P_DEFAULT,
                         H5P_DEFAULT),
              H5Dclose);
  if (!dset.ok()) fail("cannot create dataset '" + name + "' (does it exist already?)");
  int64_t count = 1;
  for (int64_t d : dims)
    count *= d;
  if (count > 0 &&
      H5Dwrite(dset.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    fail("cannot write dataset '" + name + "'");
  }
}

bool File::has(const std::string& name) const {
  if (id_ < 0) return false;
  if (name == "/" || name.empty()) return true;
  // H5Lexists fails if an intermediate group is missing: check each prefix.
  size_t pos = 0;
  while (true) {
    pos = name.find('/', pos + 1);
    const std::string prefix = name.substr(0, pos);
    if (!prefix.empty() && prefix != "/" && H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) {
      return false;
    }
    if (pos == std::string::npos) return true;
  }
}

Dims File::dims(const std::string& name) const {
  if (!has(name)) fail("has no dataset '" + name + "'");
  Handle dset(H5Dopen2(id_, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) fail("cannot open dataset '" + name + "'");
  Handle space(H5Dget_space(dset.get()), H5Sclose);
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) fail("cannot read the shape of '" + name + "'");
  std::vector<hsize_t> hdims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), hdims.data(), nullptr) < 0) {
    fail("cannot read the shape of '" + name + "'");
  }
  return Dims(hdims.begin(), hdims.end());
}

template <class T>
std::vector<T> File::read(const std::string& name, Dims* dims_out) const {
  const Dims shape = dims(name);
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  std::vector<T> values(static_cast<size_t>(count));
  Handle dset(H5Dopen2(id_, name.c_str(), H5P_DEFAULT), H5Dclose);
  Handle type(dset.ok() ? H5Dget_type(dset.get()) : -1, H5Tclose);
  if (!type.ok()) fail("cannot open dataset '" + name + "'");
  const H5T_class_t cls = H5Tget_class(type.get());
  const bool want_float = is_float_type<T>;
  if (cls != (want_float ? H5T_FLOAT : H5T_INTEGER)) {
    fail("dataset '" + name + "' has the wrong element type (expected " +
         (want_float ? "floating point" : "integer") + ")");
  }
  if (count > 0 &&
      H5Dread(dset.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
    fail("cannot read dataset '" + name + "' (truncated or corrupt file?)");
  }
  if (dims_out) *dims_out = shape;
  return values;
}

template <class T>
std::vector<T> File::read_range(const std::string& name, int64_t offset, int64_t count) const {
  const Dims shape = dims(name);
  if (shape.size() != 1) fail("dataset '" + name + "' is not one-dimensional");
  if (offset < 0 || count < 0 || offset + count > shape[0]) {
    fail("range [" + std::to_string(offset) + ", " + std::to_string(offset + count) +
         ") is outside dataset '" + name + "' of " + std::to_string(shape[0]) + " elements");
  }
  std::vector<T> values(static_cast<size_t>(count));
  if (count == 0) return values;
  Handle dset(H5Dopen2(id_, name.c_str(), H5P_DEFAULT), H5Dclose);
  Handle space(dset.ok() ? H5Dget_space(dset.get()) : -1, H5Sclose);
  const hsize_t start = static_cast<hsize_t>(offset), n = static_cast<hsize_t>(count);
  Handle memspace(H5Screate_simple(1, &n, nullptr), H5Sclose);
  if (!space.ok() || !memspace.ok() ||
      H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &n, nullptr) < 0 ||
      H5Dread(dset.get(), native_type<T>(), memspace.get(), space.get(), H5P_DEFAULT,
              values.data()) < 0) {
    fail("cannot read dataset '" + name + "' (truncated or corrupt file?)");
  }
  return values;
}

namespace {

// Opens an attribute for writing, replacing an existing one.
hid_t create_attribute(const File& file, hid_t fid, const std::string& object,
                       const std::string& key, hid_t type, hid_t space) {
  const std::string obj = object_path(object);
  if (H5Aexists_by_name(fid, obj.c_str(), key.c_str(), H5P_DEFAULT) > 0) {
    H5Adelete_by_name(fid, obj.c_str(), key.c_str(), H5P_DEFAULT);
  }
  const hid_t attr = H5Acreate_by_name(fid, obj.c_str(), key.c_str(), type, space, H5P_DEFAULT,
                                       H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0) file.fail("cannot create attribute '" + key + "' on '" + obj + "'");
  return attr;
}

}  // namespace

void File::set_attribute(const std::string& object, const std::string& key,
                         const std::string& value) {
  GRAFT_CHECK(writable_ && id_ >= 0, path_ << ": not open for writing");
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  // A fixed-size UTF-8 string (at least one byte: HDF5 rejects size 0) reads
  // cleanly in h5dump and every HDF5 binding.
  if (!type.ok() || H5Tset_size(type.get(), value.empty() ? 1 : value.size()) < 0 ||
      H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0 ||
      H5Tset_strpad(type.get(), H5T_STR_NULLPAD) < 0) {
    fail("cannot make a string type for attribute '" + key + "'");
  }
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(create_attribute(*this, id_, object, key, type.get(), space.get()), H5Aclose);
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  if (H5Awrite(attr.get(), type.get(), padded.data()) < 0) fail("cannot write attribute " + key);
}

void File::set_attribute(const std::string& object, const std::string& key, int64_t value) {
  GRAFT_CHECK(writable_ && id_ >= 0, path_ << ": not open for writing");
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(create_attribute(*this, id_, object, key, H5T_NATIVE_INT64, space.get()), H5Aclose);
  if (H5Awrite(attr.get(), H5T_NATIVE_INT64, &value) < 0) fail("cannot write attribute " + key);
}

void File::set_attribute(const std::string& object, const std::string& key, double value) {
  GRAFT_CHECK(writable_ && id_ >= 0, path_ << ": not open for writing");
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(create_attribute(*this, id_, object, key, H5T_NATIVE_DOUBLE, space.get()), H5Aclose);
  if (H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0) fail("cannot write attribute " + key);
}

bool File::has_attribute(const std::string& object, const std::string& key) const {
  const std::string obj = object_path(object);
  return has(obj) && H5Aexists_by_name(id_, obj.c_str(), key.c_str(), H5P_DEFAULT) > 0;
}

namespace {

hid_t open_attribute(const File& file, hid_t fid, const std::string& object,
                     const std::string& key) {
  if (!file.has_attribute(object, key)) {
    file.fail("has no attribute '" + key + "' on '" + object_path(object) + "'");
  }
  const hid_t attr =
      H5Aopen_by_name(fid, object_path(object).c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0) file.fail("cannot open attribute '" + key + "'");
  return attr;
}

}  // namespace

std::string File::string_attribute(const std::string& object, const std::string& key) const {
  Handle attr(open_attribute(*this, id_, object, key), H5Aclose);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  if (!type.ok() || H5Tget_class(type.get()) != H5T_STRING) {
    fail("attribute '" + key + "' is not a string");
  }
  if (H5Tis_variable_str(type.get()) > 0) {
    // Written by other tools (h5py writes variable-length strings).
    char* text = nullptr;
    Handle memtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memtype.get(), H5T_VARIABLE);
    if (H5Aread(attr.get(), memtype.get(), &text) < 0) fail("cannot read attribute " + key);
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  const size_t size = H5Tget_size(type.get());
  std::string value(size, '\0');
  if (H5Aread(attr.get(), type.get(), value.data()) < 0) fail("cannot read attribute " + key);
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  return value;
}

int64_t File::int_attribute(const std::string& object, const std::string& key) const {
  Handle attr(open_attribute(*this, id_, object, key), H5Aclose);
  int64_t value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0) fail("cannot read attribute " + key);
  return value;
}

double File::double_attribute(const std::string& object, const std::string& key) const {
  Handle attr(open_attribute(*this, id_, object, key), H5Aclose);
  double value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0) fail("cannot read attribute " + key);
  return value;
}

#define GRAFT_HDF5_INSTANTIATE(T)                                          \
  template void File::write<T>(const std::string&, const T*, const Dims&); \
  template std::vector<T> File::read<T>(const std::string&, Dims*) const;  \
  template std::vector<T> File::read_range<T>(const std::string&, int64_t, int64_t) const;
GRAFT_HDF5_INSTANTIATE(int32_t)
GRAFT_HDF5_INSTANTIATE(int64_t)
GRAFT_HDF5_INSTANTIATE(float)
GRAFT_HDF5_INSTANTIATE(double)
GRAFT_HDF5_INSTANTIATE(uint8_t)
#undef GRAFT_HDF5_INSTANTIATE

}  // namespace graft::hdf5
