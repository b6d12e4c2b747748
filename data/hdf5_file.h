// A small RAII wrapper over the HDF5 C API (the parallel HDF5 build has no
// C++ API), shared by the token store and checkpoints.
//
// Every HDF5 return code is checked. Writing goes to "<path>.tmp" and commit()
// renames it over <path>, so a crash or error never leaves a half-written file
// under the real name. Failures while reading are the file's fault and throw
// InputError naming the file (a truncated, corrupt or foreign file is bad
// input); failures while writing throw Error, with the system's reason ("No
// space left on device") when HDF5 reports one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace graft::hdf5 {

using Dims = std::vector<int64_t>;

class File {
 public:
  // Creates "<path>.tmp" (truncating it); commit() moves it to `path`.
  static File create(const std::string& path);
  // Opens an existing file read-only. Not HDF5, truncated or unreadable:
  // InputError naming the path.
  static File open(const std::string& path);

  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  // Closes; an uncommitted created file's temp is emptied (giving a full
  // disk its space back before HDF5 closes it) and removed.
  ~File();

  // Flushes, closes and renames the temp file to its final name. A failed
  // flush leaves the file for the destructor to discard.
  void commit();

  const std::string& path() const { return path_; }
  bool writable() const { return writable_; }

  // Datasets, named by path ("tokenizer/model"); missing groups are created.
  // Supported T: int32_t, int64_t, float, double, uint8_t.
  template <class T>
  void write(const std::string& name, const T* data, const Dims& dims);
  template <class T>
  void write(const std::string& name, const std::vector<T>& values) {
    write(name, values.data(), Dims{static_cast<int64_t>(values.size())});
  }
  // Reads a whole dataset (converted to T); dims receives its shape.
  template <class T>
  std::vector<T> read(const std::string& name, Dims* dims = nullptr) const;
  // Reads count elements starting at `offset` of a 1-D dataset.
  template <class T>
  std::vector<T> read_range(const std::string& name, int64_t offset, int64_t count) const;

  bool has(const std::string& name) const;  // a dataset or group at this path
  Dims dims(const std::string& name) const;

  // Attributes on an object ("/" for the file, or a dataset/group path).
  void set_attribute(const std::string& object, const std::string& key, const std::string& value);
  void set_attribute(const std::string& object, const std::string& key, int64_t value);
  void set_attribute(const std::string& object, const std::string& key, double value);
  bool has_attribute(const std::string& object, const std::string& key) const;
  std::string string_attribute(const std::string& object, const std::string& key) const;
  int64_t int_attribute(const std::string& object, const std::string& key) const;
  double double_attribute(const std::string& object, const std::string& key) const;

  // Throws InputError (reading) or Error (writing), prefixed with the path.
  [[noreturn]] void fail(const std::string& message) const;

 private:
  File(int64_t id, std::string path, std::string temp_path, bool writable);
  void close() noexcept;

  int64_t id_ = -1;  // hid_t
  std::string path_;
  std::string temp_path_;  // empty once committed, and for read-only files
  bool writable_ = false;
};

}  // namespace graft::hdf5
