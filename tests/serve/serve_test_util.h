// Shared by the serve tests: a tiny model directory (random weights, a
// small BPE tokenizer with the chat markers) made in a temporary directory,
// a platform config around it, and a raw HTTP client for the cases a
// library client hides (streams read by hand, connections dropped mid-way).
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "model/model_io.h"
#include "model/transformer.h"
#include "tokenizer/bpe_trainer.h"

namespace shog::serve_test {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/shog-serve-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// <dir>/model.safetensors, config.json, tokenizer.json: a 2-layer model
// whose context is `max_seq` tokens.
inline void make_tiny_model_dir(const std::string& dir, int64_t max_seq = 256, uint64_t seed = 3) {
  std::filesystem::create_directories(dir);
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "the quick brown fox jumps over the lazy dog; hello there, how are you? " + std::to_string(i) + "\n";
  BpeTrainOptions o;
  o.vocab_size = 320;
  o.threads = 1;
  Tokenizer tok = train_bpe_on_texts({text}, {"text"}, o);
  tok.save(dir + "/tokenizer.json");
  ModelConfig c = model_preset("tiny");
  c.max_seq = max_seq;
  Transformer m(c);
  m.init_weights(seed, 0.1f);
  save_model_weights(dir, m);
}

struct HttpReply {
  int status = 0;
  std::string head, body;
};

// One request over a fresh connection; reads to the end (Connection: close).
inline HttpReply raw_request(int port, const std::string& method, const std::string& path, const std::string& body,
                             const std::string& key = "", const std::string& extra_headers = "") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  HttpReply r;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return r;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!key.empty()) req += "Authorization: Bearer " + key + "\r\n";
  req += extra_headers;
  req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  size_t off = 0;
  while (off < req.size()) {
    ssize_t n = send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += size_t(n);
  }
  std::string all;
  char buf[65536];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) all.append(buf, size_t(n));
  close(fd);
  auto cut = all.find("\r\n\r\n");
  if (cut == std::string::npos) return r;
  r.head = all.substr(0, cut);
  r.body = all.substr(cut + 4);
  if (r.head.size() > 12) r.status = std::atoi(r.head.c_str() + 9);
  // De-chunk a chunked body.
  if (r.head.find("Transfer-Encoding: chunked") != std::string::npos) {
    std::string out;
    size_t p = 0;
    while (p < r.body.size()) {
      size_t eol = r.body.find("\r\n", p);
      if (eol == std::string::npos) break;
      size_t n = std::stoul(r.body.substr(p, eol - p), nullptr, 16);
      if (n == 0) break;
      out += r.body.substr(eol + 2, n);
      p = eol + 2 + n + 2;
    }
    r.body = out;
  }
  return r;
}

// Sends a request, reads until `until` appears in the response (or
// `max_bytes` arrive), then closes the connection without reading the rest.
// Returns what was read.
inline std::string request_then_hang_up(int port, const std::string& path, const std::string& body,
                                        const std::string& key, const std::string& until, size_t max_bytes = 1 << 20) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string got;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key +
                      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\n\r\n" + body;
    send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    char buf[4096];
    while (got.find(until) == std::string::npos && got.size() < max_bytes) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, size_t(n));
    }
  }
  close(fd);
  return got;
}

// Polls `pred` every 20 ms for up to `seconds`.
template <class F>
bool eventually(F pred, double seconds = 10) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace shog::serve_test
