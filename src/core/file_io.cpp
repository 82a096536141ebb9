#include "core/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace shog {

static std::string errno_str() { return std::strerror(errno); }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  SHOG_CHECK(f, ErrorKind::io, path, "cannot open for reading: {}", errno_str());
  std::ostringstream ss;
  ss << f.rdbuf();
  SHOG_CHECK(!f.bad(), ErrorKind::io, path, "read failed");
  return ss.str();
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  SHOG_CHECK(fd_ >= 0, ErrorKind::io, tmp_, "cannot create: {}", errno_str());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    SHOG_CHECK(w > 0, ErrorKind::io, tmp_, "write failed: {}", errno_str());
    p += w;
    n -= size_t(w);
    written_ += uint64_t(w);
  }
}

void AtomicFile::commit() {
  SHOG_CHECK(::fsync(fd_) == 0, ErrorKind::io, tmp_, "fsync failed: {}", errno_str());
  SHOG_CHECK(::close(fd_) == 0, ErrorKind::io, tmp_, "close failed: {}", errno_str());
  fd_ = -1;
  SHOG_CHECK(::rename(tmp_.c_str(), path_.c_str()) == 0, ErrorKind::io, path_, "rename from {} failed: {}", tmp_,
             errno_str());
  committed_ = true;
  auto dir = std::filesystem::path(path_).parent_path().string();
  fsync_dir(dir.empty() ? "." : dir);
}

void write_file_atomic(const std::string& path, std::string_view contents) {
  AtomicFile f(path);
  f.write(contents);
  f.commit();
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  SHOG_CHECK(fd >= 0, ErrorKind::io, path, "cannot open: {}", errno_str());
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw Error(ErrorKind::io, path, "fstat failed: " + errno_str());
  }
  size_ = size_t(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    SHOG_CHECK(p != MAP_FAILED, ErrorKind::io, path, "mmap failed: {}", errno_str());
    data_ = static_cast<const uint8_t*>(p);
  } else {
    ::close(fd);
  }
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: some filesystems refuse
  ::fsync(fd);
  ::close(fd);
}

void make_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  SHOG_CHECK(!ec, ErrorKind::io, dir, "cannot create directory: {}", ec.message());
}

}  // namespace shog
