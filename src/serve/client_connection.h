// Noticing that a client went away while its request runs.
//
// cpp-httplib (0.11, as Debian ships it) gives a handler no handle on its
// socket, and a waiting request writes nothing that could fail. So we find
// the connection's socket ourselves: the accepted socket whose local and
// peer addresses are the request's (one scan of /proc/self/fd per request),
// and poll it for the peer's hang-up (POLLRDHUP) without reading a byte.
// A streaming response also stops at the first failed write; this covers
// the time before it has anything to write (in the queue, prefilling) and
// non-streaming requests.
//
// Linux only; where the socket cannot be found, gone() is always false and
// only a failed write notices a disconnect.
#pragma once
#include <string>

namespace shog::serve {

class ClientConnection {
 public:
  ClientConnection() = default;
  ClientConnection(const std::string& local_addr, int local_port, const std::string& remote_addr, int remote_port);

  // The peer closed its end (or the connection broke).
  bool gone() const;
  bool found() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace shog::serve
