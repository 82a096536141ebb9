// File helpers with the guarantees the rest of the stack relies on: errors
// that name the file, and writes that are atomic (a reader sees the old file
// or the complete new one, never half of one).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shog {

std::string read_file(const std::string& path);
bool file_exists(const std::string& path);

// Writes to `path.tmp.<pid>`, fsyncs, renames over `path`, fsyncs the directory.
// On any failure the temporary is removed and `path` is untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // discards the temporary unless commit() ran
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  uint64_t bytes_written() const { return written_; }
  void commit();

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool committed_ = false;
};

void write_file_atomic(const std::string& path, std::string_view contents);

// Read-only memory map of a whole file.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// fsync a directory so a rename inside it is durable.
void fsync_dir(const std::string& dir);
// mkdir -p; throws shog::Error naming the path.
void make_dirs(const std::string& dir);

}  // namespace shog
