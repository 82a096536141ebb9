// A load generator for `shoggoth serve`: C concurrent streams, each sending
// streaming /v1/completions requests back to back over loopback, for C in
// a list (default 1, 4, 16, 64). Per level: aggregate generated tokens per
// second (all streams, wall clock), time to first token and request latency
// percentiles (p50, p90, p99), as a Markdown table for docs/benchmarks.md.
// bench/serve_bench.sh starts a server and runs this against it.
//
//   serve_bench --port 8080 --key shog-... --model bench [--concurrency 1,4,16,64]
//               [--requests-per-stream 4] [--max-tokens 128] [--prompt "..."]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  int port = 8080;
  std::string key, model = "bench", prompt = "The history of the printing press begins";
  std::vector<int> levels = {1, 4, 16, 64};
  int per_stream = 4, max_tokens = 128;
};

struct Sample {
  double ttft = 0, latency = 0;
  int64_t tokens = 0;
  bool ok = false;
};

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// One streaming completion over a fresh connection; times the first token
// (the first event carrying text) and the end ([DONE]).
Sample one_request(const Args& a, int seed) {
  Sample s;
  nlohmann::json body = {{"model", a.model},      {"prompt", a.prompt},  {"max_tokens", a.max_tokens},
                         {"ignore_eos", true},     {"stream", true},      {"seed", seed},
                         {"stream_options", {{"include_usage", true}}}};
  const std::string b = body.dump();
  const std::string req = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                          "Authorization: Bearer " + a.key + "\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(b.size()) + "\r\n\r\n" + b;
  const auto t0 = Clock::now();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(a.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return s;
  }
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string all;
  char buf[16384];
  bool first = false;
  size_t scanned = 0;
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) {
    all.append(buf, size_t(n));
    if (!first && all.find("\"text\":\"", scanned > 8 ? scanned - 8 : 0) != std::string::npos) {
      first = true;
      s.ttft = seconds(t0, Clock::now());
    }
    scanned = all.size();
    if (all.find("data: [DONE]") != std::string::npos) break;
  }
  s.latency = seconds(t0, Clock::now());
  close(fd);
  const size_t u = all.rfind("\"usage\":{");
  if (u != std::string::npos && all.find("data: [DONE]") != std::string::npos && all.find(" 200 ") < 16) {
    const size_t c = all.find("\"completion_tokens\":", u);
    s.tokens = std::atoll(all.c_str() + c + 20);
    s.ok = first && s.tokens > 0;
  }
  return s;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double idx = p * double(v.size() - 1);
  const size_t lo = size_t(idx), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (idx - double(lo));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A load generator for `shoggoth serve`: C concurrent streams, each sending streaming /v1/completions "
               "requests back to back over loopback, for each C in a list. Per level: aggregate generated tokens per "
               "second, time to first token and request latency percentiles, as a Markdown table. "
               "bench/serve_bench.sh starts a server and runs this against it.",
               "serve_bench"};
  Args a;
  app.add_option("--port", a.port, "Server port on 127.0.0.1")->capture_default_str();
  app.add_option("--key", a.key, "API key (sent as Authorization: Bearer)")->required();
  app.add_option("--model", a.model, "Model (deployment) name in the requests")->capture_default_str();
  app.add_option("--concurrency", a.levels, "Concurrent streams per level, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--requests-per-stream", a.per_stream, "Requests each stream sends, one after the other")
      ->capture_default_str();
  app.add_option("--max-tokens", a.max_tokens, "Tokens generated per request (ignore_eos)")->capture_default_str();
  app.add_option("--prompt", a.prompt, "Prompt of every request")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (a.key.empty()) {  // `--key ""`, e.g. from a script whose key creation failed: every request would be refused
    std::fprintf(stderr, "serve_bench: --key is empty\n");
    return 2;
  }
  // Warm up (first-call allocations, page faults of the weights).
  for (int i = 0; i < 2; ++i) one_request(a, 1000 + i);

  std::printf("| streams | requests | tokens/s (all streams) | tokens/s per stream | vs 1 stream | TTFT p50 / p90 / p99 (ms) "
              "| latency p50 / p90 / p99 (s) |\n|---|---|---|---|---|---|---|\n");
  double single = 0;
  for (int c : a.levels) {
    std::vector<Sample> samples;
    std::mutex mu;
    std::atomic<int> failures{0};
    const auto t0 = Clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < c; ++t)
      ts.emplace_back([&, t] {
        for (int r = 0; r < a.per_stream; ++r) {
          Sample s = one_request(a, t * 1000 + r);
          if (!s.ok) failures++;
          std::lock_guard lk(mu);
          samples.push_back(s);
        }
      });
    for (auto& t : ts) t.join();
    const double wall = seconds(t0, Clock::now());
    int64_t tokens = 0;
    std::vector<double> ttft, lat;
    for (auto& s : samples)
      if (s.ok) tokens += s.tokens, ttft.push_back(s.ttft * 1000), lat.push_back(s.latency);
    const double tps = double(tokens) / wall;
    if (c == a.levels.front()) single = tps / c;
    std::printf("| %d | %zu%s | %.0f | %.1f | %.1fx | %.0f / %.0f / %.0f | %.2f / %.2f / %.2f |\n", c, samples.size(),
                failures ? (" (" + std::to_string(failures.load()) + " failed)").c_str() : "", tps, tps / c,
                single > 0 ? tps / single : 0.0, pct(ttft, .5), pct(ttft, .9), pct(ttft, .99), pct(lat, .5),
                pct(lat, .9), pct(lat, .99));
    std::fflush(stdout);
  }
  return 0;
}
