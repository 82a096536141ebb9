#include "serve/http_server.h"

#include <httplib.h>

#include <strings.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include <omp.h>

#include "core/error.h"
#include "serve/api_error.h"
#include "serve/client_connection.h"
#include "serve/openai_protocol.h"
#include "serve/prompt_builder.h"
#include "serve/scheduler.h"
#include "serve/web_assets.h"

namespace shog::serve {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// How often a waiting handler looks at its client's socket.
constexpr auto kPoll = std::chrono::milliseconds(50);

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The one writer of error responses.
void write_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(json_body(to_json(e)), "application/json");
  if (e.retry_after_s > 0) res.set_header("Retry-After", std::to_string(e.retry_after_s));
  if (e.status == 401) res.set_header("WWW-Authenticate", "Bearer");
}

const char* action_name(ModerationVerdict::Action a) {
  switch (a) {
    case ModerationVerdict::Action::allow: return "allow";
    case ModerationVerdict::Action::flag: return "flag";
    case ModerationVerdict::Action::refuse: return "refuse";
    case ModerationVerdict::Action::redact: return "redact";
    case ModerationVerdict::Action::block: return "block";
  }
  return "?";
}

constexpr const char* kDefaultRefusal = "I can't help with that.";

}  // namespace

// One generation request from admission to its last byte. Shared by the
// handler and, for a stream, the content provider that outlives it.
struct Generation {
  Metrics* metrics = nullptr;
  const std::atomic<bool>* stopping = nullptr;
  bool chat = false, stream = false, include_usage = false;
  ResponseHead head;
  std::shared_ptr<RequestChannel> ch;
  std::unique_ptr<OutputFilter> filter;
  ClientConnection conn;
  RequestChannel::Progress p;
  Usage usage;
  std::optional<ModerationNote> note;
  Clock::time_point t0, last_check;
  bool first_token_seen = false, content_filtered = false, accounted = false;
  std::string replacement;  // appended after an output violation (refuse)

  // Waits for news; false if the client went away (the request is then
  // cancelled). The socket is looked at every kPoll, also while tokens flow.
  bool next() {
    for (;;) {
      const bool news = ch->wait(p, kPoll);
      const auto now = Clock::now();
      if (!news || now - last_check >= kPoll) {
        last_check = now;
        if (conn.gone() || stopping->load()) {
          ch->cancel();
          return false;
        }
      }
      if (news) break;
    }
    if (!first_token_seen && p.tokens > 0) {
      first_token_seen = true;
      metrics->time_to_first_token(head.model, seconds_since(t0));
    }
    usage.completion_tokens = p.tokens;
    return true;
  }

  // New text through the moderation filter: what the client may see now, a
  // piece per delta (a token's text, or what the filter released at once).
  // Sets content_filtered (and cancels generation) on a violation.
  std::vector<std::string> release() {
    std::vector<std::string> pieces = std::move(p.pieces);
    p.pieces.clear();
    if (!filter) return pieces;
    std::vector<std::string> out;
    auto apply = [&](OutputFilter::Step s) {
      if (!s.release.empty()) out.push_back(std::move(s.release));
      if (s.violation && !content_filtered) {
        content_filtered = true;
        ch->cancel();
        const auto& v = s.verdict;
        note = ModerationNote{"output", action_name(v.action), v.categories};
        metrics->moderation(head.model, "output", action_name(v.action));
        if (v.action == ModerationVerdict::Action::refuse) replacement = v.replacement;
      }
    };
    for (const auto& piece : pieces)
      if (!content_filtered) apply(filter->feed(piece));
    if (p.done && !content_filtered && !ch->error()) apply(filter->finish());
    return out;
  }

  bool ended() const { return content_filtered || p.done; }

  const char* finish_reason() const { return api_finish_reason(ch->result().finish, content_filtered); }

  void account(bool cancelled) {
    if (accounted) return;
    accounted = true;
    if (cancelled) metrics->cancelled(head.model);
    metrics->tokens(head.model, usage.prompt_tokens, usage.completion_tokens);
    metrics->latency(head.model, seconds_since(t0));
  }

  json chunk(const std::string* text, const char* finish, bool role = false) const {
    return chat ? chat_chunk_json(head, role, text, finish, include_usage, finish ? note : std::nullopt)
                : completion_chunk_json(head, text ? *text : std::string(), finish, include_usage,
                                        finish ? note : std::nullopt);
  }

  // The SSE body, written as it is produced. Returns false (connection
  // dropped) when the client is gone.
  bool write_stream(httplib::DataSink& sink) {
    bool lost = false;
    auto put = [&](const std::string& s) {
      if (!lost && !sink.write(s.data(), s.size())) lost = true;
    };
    if (chat) put(sse_event(chunk(nullptr, nullptr, true)));
    for (;;) {
      // One event per piece, written at once: a reader that fell behind
      // gets every token's delta in one write.
      std::string events;
      for (const auto& piece : release()) events += sse_event(chunk(&piece, nullptr));
      if (!events.empty()) put(events);
      if (lost) break;
      if (ended()) {
        if (!content_filtered && ch->error()) {
          try {
            std::rethrow_exception(ch->error());
          } catch (const std::exception& e) {
            put(sse_event(to_json(to_api_error(e))));
          }
        } else {
          if (!replacement.empty()) put(sse_event(chunk(&replacement, nullptr)));
          put(sse_event(chunk(nullptr, finish_reason())));
          if (include_usage) put(sse_event(usage_chunk_json(head, chat, usage)));
          put(kSseDone);
        }
        if (lost) break;
        account(false);
        sink.done();
        return true;
      }
      if (!next()) break;
    }
    ch->cancel();
    account(true);
    return false;
  }
};

// cpp-httplib 0.11 listens with a backlog of 5: a burst of new connections
// (64 clients at once) overflows it and the kernel drops SYNs, which clients
// retry only after a second. listen() again on the bound socket raises it.
class HttplibServer : public httplib::Server {
 public:
  void raise_backlog() { ::listen(svr_sock_, SOMAXCONN); }
};

// HTTP worker threads run their OpenMP work (a moderation classifier's
// forward) on one thread each: a team per worker would put the engine's team
// over the core count, where libgomp stops spinning (see Impl's constructor),
// and the workers already run side by side.
class SerialOmpThreadPool : public httplib::TaskQueue {
 public:
  explicit SerialOmpThreadPool(size_t n) : pool_(n) {}
  void enqueue(std::function<void()> fn) override {
    pool_.enqueue([fn = std::move(fn)] {
      omp_set_num_threads(1);
      fn();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
};

struct HttpServer::Impl {
  ModelRegistry& reg;
  ApiKeyStore& keys;
  ModerationHook* hook;
  Metrics metrics;
  RateLimiter limiter;
  std::vector<std::unique_ptr<ModelScheduler>> schedulers;  // by model index
  HttplibServer svr;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> counter{0};
  uint64_t seed_base = 0, id_base = 0;
  int64_t started_at = 0;
  bool access_log = false;

  static std::vector<std::string> deployment_names(const ModelRegistry& r) {
    std::vector<std::string> v;
    for (auto& d : r.deployments()) v.push_back(d.spec->name);
    return v;
  }

  Impl(ModelRegistry& r, ApiKeyStore& k, ModerationHook* h) : reg(r), keys(k), hook(h), metrics(deployment_names(r)) {
    const PlatformConfig& cfg = reg.config();
    for (auto& d : reg.deployments()) {
      const std::string& pol = d.spec->moderation;
      if (pol == "none") continue;
      const std::string where = fmt::format("{}: deployment {}: moderation", cfg.file.empty() ? "config" : cfg.file,
                                            d.spec->name);
      SHOG_CHECK(hook, ErrorKind::invalid_argument, where,
                 "policy \"{}\" needs a moderation hook, and this server has none (use \"none\", or a build with "
                 "moderation)",
                 pol);
      SHOG_CHECK(hook->has_policy(pol), ErrorKind::invalid_argument, where, "unknown moderation policy \"{}\"", pol);
    }
    // What the engines would make on their first request (bf16 panel-packed
    // weights) is made here, on this thread's OpenMP team, which is released
    // next.
    for (auto& m : reg.models()) m.model->prepare_cached();
    // libgomp spins between parallel regions only while the threads it
    // manages (every team's, idle or not) fit the cores; past that it sleeps
    // on a futex, ~50 us per region and ~100 regions per decode step. The
    // thread that loaded the models keeps an idle team, so it is released
    // here, before the schedulers start theirs (d12 bf16, 16 rows on 2 cores:
    // 27-30 ms per step with it, 22-23 ms without). Nothing below may run an
    // OpenMP region on this thread (the engines' constructors find the
    // weights already packed).
    omp_pause_resource_all(omp_pause_soft);
    std::random_device rd;
    seed_base = (uint64_t(rd()) << 32) | rd();
    id_base = rd();
    started_at = int64_t(std::time(nullptr));
    auto& models = reg.models();
    for (size_t i = 0; i < models.size(); ++i) {
      std::vector<std::string> deps;
      for (auto& d : reg.deployments())
        if (d.model_index == i) deps.push_back(d.spec->name);
      schedulers.push_back(std::make_unique<ModelScheduler>(models[i].spec->name, *models[i].model,
                                                            models[i].tokenizer.get(), models[i].spec->engine,
                                                            models[i].spec->max_queue, deps,
                                                            int(models[i].spec->threads)));
    }
    const ServerSpec& s = cfg.server;
    const size_t threads = size_t(s.http_threads);
    svr.new_task_queue = [threads] { return new SerialOmpThreadPool(threads); };
    svr.set_payload_max_length(size_t(s.max_body_bytes));
    svr.set_read_timeout(time_t(s.read_timeout_s));
    svr.set_keep_alive_max_count(1000);
    svr.set_tcp_nodelay(true);  // a token is a few bytes: send it now
    routes();
  }

  // Runs a handler; any exception becomes the error response, and every
  // request is counted. `deployment` is filled in by handlers that know it.
  template <class F>
  void endpoint(const char* name, const httplib::Request& req, httplib::Response& res, F&& f) {
    std::string deployment;
    try {
      f(req, res, deployment);
    } catch (const std::exception& e) {
      write_error(res, to_api_error(e));
    }
    metrics.request(deployment, name, res.status == -1 ? 200 : res.status);  // -1: the library's 200
  }

  void routes() {
    svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(web::chat_html), "text/html; charset=utf-8");
    });
    svr.Get("/health", [this](const httplib::Request& q, httplib::Response& r) {
      endpoint("health", q, r, [this](auto&, auto& res, auto&) { health(res); });
    });
    svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      std::vector<const ModelScheduler*> s;
      for (auto& p : schedulers) s.push_back(p.get());
      res.set_content(metrics.render(s), "text/plain; version=0.0.4");
    });
    svr.Get("/v1/models", [this](const httplib::Request& q, httplib::Response& r) {
      endpoint("models", q, r, [this](auto& req, auto& res, auto&) { list_models(req, res); });
    });
    svr.Get(R"(/v1/models/([^/]+))", [this](const httplib::Request& q, httplib::Response& r) {
      endpoint("models", q, r, [this](auto& req, auto& res, auto& dep) { get_model(req, res, dep); });
    });
    svr.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& r) {
      endpoint("completions", q, r, [this](auto& req, auto& res, auto& dep) { generate(req, res, false, dep); });
    });
    svr.Post("/v1/chat/completions", [this](const httplib::Request& q, httplib::Response& r) {
      endpoint("chat_completions", q, r, [this](auto& req, auto& res, auto& dep) { generate(req, res, true, dep); });
    });
    svr.Post("/v1/moderations", [this](const httplib::Request& q, httplib::Response& r) {
      endpoint("moderations", q, r, [this](auto& req, auto& res, auto& dep) { moderations(req, res, dep); });
    });
    // Statuses the library sets itself (no route, body too large, a
    // malformed request line) get an error body too.
    svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty() && !res.is_chunked_content_provider_) write_error(res, api_error_for_status(res.status));
    });
    svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        write_error(res, to_api_error(e));
      } catch (...) {
        write_error(res, api_error_for_status(500));
      }
    });
    svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      if (access_log) std::fprintf(stderr, "serve: %s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
  }

  ApiKeyInfo authenticate(const httplib::Request& req) {
    const std::string h = req.get_header_value("Authorization");
    if (h.empty())
      throw_http(401, "authentication_error", "missing_api_key",
                 "no API key: send it as 'Authorization: Bearer <key>'");
    if (h.size() < 8 || strncasecmp(h.c_str(), "Bearer ", 7) != 0)
      throw_http(401, "authentication_error", "invalid_api_key", "the Authorization header must be 'Bearer <key>'");
    auto k = keys.verify(std::string_view(h).substr(7));
    if (!k) throw_http(401, "authentication_error", "invalid_api_key", "invalid or revoked API key");
    return *k;
  }

  const Deployment& deployment_for(const std::string& name, const ApiKeyInfo& key) {
    const Deployment* d = reg.find(name);
    if (!d) throw_http(404, "invalid_request_error", "model_not_found", fmt::format("no model named \"{}\"", name), "model");
    if (!d->allows_tier(key.tier))
      throw_http(403, "permission_error", "model_not_allowed",
                 fmt::format("keys of tier \"{}\" may not call \"{}\"", key.tier, name), "model");
    return *d;
  }

  json model_json(const Deployment& d) const {
    const LoadedModel& m = reg.models()[d.model_index];
    return {{"id", d.spec->name},
            {"object", "model"},
            {"created", started_at},
            {"owned_by", "shoggoth"},
            {"description", d.spec->description},
            {"max_context", d.max_context},
            {"chat", m.chat != nullptr},
            {"moderation", d.spec->moderation}};
  }

  void list_models(const httplib::Request& req, httplib::Response& res) {
    ApiKeyInfo key = authenticate(req);
    json data = json::array();
    for (auto& d : reg.deployments())
      if (d.allows_tier(key.tier)) data.push_back(model_json(d));
    res.set_content(json_body({{"object", "list"}, {"data", data}}), "application/json");
  }

  void get_model(const httplib::Request& req, httplib::Response& res, std::string& dep) {
    ApiKeyInfo key = authenticate(req);
    const Deployment& d = deployment_for(req.matches[1], key);
    dep = d.spec->name;
    res.set_content(json_body(model_json(d)), "application/json");
  }

  void health(httplib::Response& res) {
    json models = json::array();
    for (auto& s : schedulers) {
      SchedulerSnapshot snap = s->snapshot();
      models.push_back({{"name", s->name()},
                        {"queued", snap.queued},
                        {"running", snap.running},
                        {"kv_blocks_used", snap.kv_blocks_used},
                        {"kv_blocks_total", snap.kv_blocks_total},
                        {"generated_tokens", snap.generated_tokens}});
    }
    res.set_content(json_body({{"status", stopping ? "stopping" : "ok"}, {"models", models}}), "application/json");
  }

  // Input moderation: each message the client sent (or the prompt) is
  // checked on its own, so a redaction replaces exactly the text it judged.
  // Returns the refusal text when the policy refuses; throws on block.
  std::optional<std::string> moderate_input(ApiRequest& ar, const Deployment& d, const ModerationContext& ctx,
                                            const LoadedModel& m, std::optional<ModerationNote>& note) {
    auto judge = [&](std::string& text, const char* param) -> std::optional<std::string> {
      ModerationVerdict v = hook->check_input(ctx, text);
      if (v.action == ModerationVerdict::Action::allow) return std::nullopt;
      metrics.moderation(d.spec->name, "input", action_name(v.action));
      note = ModerationNote{"input", action_name(v.action), v.categories};
      switch (v.action) {
        case ModerationVerdict::Action::block:
          throw_http(400, "invalid_request_error", "content_filter",
                     v.message.empty() ? "the request was blocked by the moderation policy" : v.message, param);
        case ModerationVerdict::Action::refuse:
          return v.replacement.empty() ? std::string(kDefaultRefusal) : v.replacement;
        case ModerationVerdict::Action::redact:
          text = v.replacement;
          return std::nullopt;
        default:
          return std::nullopt;  // flag: noted, generation goes on
      }
    };
    if (ar.chat) {
      for (auto& msg : ar.messages)
        if (auto r = judge(msg.content, "messages")) return r;
      return std::nullopt;
    }
    if (ar.prompt_is_ids) {
      std::string text = m.tokenizer->decode(ar.prompt_ids);
      const std::string before = text;
      auto r = judge(text, "prompt");
      if (!r && text != before) {  // redacted: the prompt becomes text
        ar.prompt_is_ids = false;
        ar.prompt = text;
      }
      return r;
    }
    return judge(ar.prompt, "prompt");
  }

  // POST /v1/moderations, OpenAI's shape: {"input": text | [texts], "model"?}
  // -> {"id", "model", "results": [...]}. "model" names a deployment (its
  // policy's thresholds judge; the key's tier must allow it) or is absent
  // (policy "none": scores, flagged at the default thresholds).
  void moderations(const httplib::Request& req, httplib::Response& res, std::string& dep) {
    ApiKeyInfo key = authenticate(req);
    if (int wait = limiter.acquire(key.id, key.rate_limit))
      throw_http(429, "rate_limit_error", "rate_limit_exceeded",
                 fmt::format("key {} is limited to {} requests per minute", key.id, key.rate_limit), "", wait);
    if (!hook) throw_http(404, "invalid_request_error", "moderation_not_configured",
                          "this server has no moderation configured ([moderation] in the platform config)");
    json body = json::parse(req.body);
    if (!body.is_object()) throw_http(400, "invalid_request_error", "invalid_type", "the body must be a JSON object");
    std::string policy = "none", model = "shoggoth-moderation";
    if (body.contains("model")) {
      if (!body["model"].is_string())
        throw_http(400, "invalid_request_error", "invalid_type", "model must be a string", "model");
      const Deployment& d = deployment_for(body["model"].get<std::string>(), key);
      dep = d.spec->name, policy = d.spec->moderation, model = d.spec->name;
    }
    std::vector<std::string> inputs;
    const json* in = body.contains("input") ? &body["input"] : nullptr;
    if (in && in->is_string()) inputs.push_back(in->get<std::string>());
    else if (in && in->is_array() && !in->empty() && in->size() <= 64)
      for (auto& x : *in) {
        if (!x.is_string()) throw_http(400, "invalid_request_error", "invalid_type", "input must hold strings", "input");
        inputs.push_back(x.get<std::string>());
      }
    else
      throw_http(400, "invalid_request_error", "invalid_value", "input must be a string or 1 to 64 strings", "input");
    const std::string id = fmt::format("modr-{:08x}{:08x}", id_base, counter++);
    ModerationContext ctx{id, dep, policy, key.id};
    json results = json::array();
    for (auto& text : inputs) {
      json r = hook->moderations(ctx, text);
      if (r.is_null()) throw_http(404, "invalid_request_error", "moderation_not_configured",
                                  "the moderation hook cannot score text");
      results.push_back(std::move(r));
    }
    res.set_content(json_body({{"id", id}, {"model", model}, {"results", results}}), "application/json");
  }

  void generate(const httplib::Request& req, httplib::Response& res, bool chat, std::string& dep) {
    const auto t0 = Clock::now();
    ApiKeyInfo key = authenticate(req);
    if (int wait = limiter.acquire(key.id, key.rate_limit))
      throw_http(429, "rate_limit_error", "rate_limit_exceeded",
                 fmt::format("key {} is limited to {} requests per minute", key.id, key.rate_limit), "", wait);
    json body = json::parse(req.body);  // syntax and UTF-8 errors -> 400
    ApiRequest ar = chat ? parse_chat_request(body) : parse_completion_request(body);
    const Deployment& d = deployment_for(ar.model, key);
    dep = d.spec->name;
    const LoadedModel& m = reg.models()[d.model_index];
    const uint64_t n = counter++;

    auto g = std::make_shared<Generation>();
    g->metrics = &metrics;
    g->stopping = &stopping;
    g->chat = chat;
    g->stream = ar.stream;
    g->include_usage = ar.include_usage;
    g->head = {fmt::format("{}-{:08x}{:08x}", chat ? "chatcmpl" : "cmpl", id_base, n), int64_t(std::time(nullptr)),
               d.spec->name};
    g->t0 = t0;

    const bool moderated = hook && d.spec->moderation != "none";
    ModerationContext mctx{g->head.id, d.spec->name, d.spec->moderation, key.id};
    std::optional<std::string> refusal;
    if (moderated) refusal = moderate_input(ar, d, mctx, m, g->note);
    PreparedPrompt pp = prepare_prompt(ar, d, m, seed_base + n);
    g->usage.prompt_tokens = int64_t(pp.ids.size());
    if (refusal) return respond_refusal(*g, *refusal, res);

    GenerationRequest gr;
    gr.prompt = std::move(pp.ids);
    gr.params = std::move(pp.params);
    gr.adapter = d.adapter;
    int retry = 1;
    g->ch = schedulers[d.model_index]->submit(std::move(gr), d.spec->name, &retry);
    if (!g->ch)
      throw_http(429, "rate_limit_error", "queue_full",
                 fmt::format("{} is at capacity ({} requests waiting); retry later", d.spec->name,
                             schedulers[d.model_index]->max_queue()),
                 "", retry);
    if (moderated) g->filter = hook->open_output(mctx);
    g->conn = ClientConnection(req.local_addr, req.local_port, req.remote_addr, req.remote_port);

    // Wait for the first news before answering, so that a request the engine
    // refuses still gets its 4xx rather than a 200 stream with an error in it.
    if (!g->next()) {
      g->account(true);
      res.status = 499;  // nobody is listening; the status is for the log and metrics
      return;
    }
    if (g->p.done && g->ch->error()) {
      g->account(false);
      std::rethrow_exception(g->ch->error());
    }

    if (!g->stream) {
      std::string text;
      for (;;) {
        for (const auto& piece : g->release()) text += piece;
        if (g->ended()) break;
        if (!g->next()) {
          g->account(true);
          res.status = 499;
          return;
        }
      }
      if (!g->content_filtered && g->ch->error()) {
        g->account(false);
        std::rethrow_exception(g->ch->error());
      }
      text += g->replacement;
      g->account(false);
      json j = chat ? chat_completion_json(g->head, text, g->finish_reason(), g->usage, g->note)
                    : completion_json(g->head, text, g->finish_reason(), g->usage, g->note);
      res.set_content(json_body(j), "application/json");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream", [g](size_t, httplib::DataSink& sink) { return g->write_stream(sink); },
        [g](bool) {
          // Whatever happened to the connection, the engine must let go.
          if (!g->ended()) {
            g->ch->cancel();
            g->account(true);
          }
        });
  }

  // A reply that moderation wrote instead of the model.
  void respond_refusal(Generation& g, const std::string& text, httplib::Response& res) {
    g.content_filtered = true;
    g.account(false);
    const char* fin = "content_filter";
    if (!g.stream) {
      json j = g.chat ? chat_completion_json(g.head, text, fin, g.usage, g.note)
                      : completion_json(g.head, text, fin, g.usage, g.note);
      res.set_content(json_body(j), "application/json");
      return;
    }
    std::string body;
    if (g.chat) body += sse_event(g.chunk(nullptr, nullptr, true));
    body += sse_event(g.chunk(&text, nullptr));
    body += sse_event(g.chunk(nullptr, fin));
    if (g.include_usage) body += sse_event(usage_chunk_json(g.head, g.chat, g.usage));
    body += kSseDone;
    res.set_header("Cache-Control", "no-cache");
    res.set_content(body, "text/event-stream");
  }
};

HttpServer::HttpServer(ModelRegistry& registry, ApiKeyStore& keys, ModerationHook* hook)
    : impl_(std::make_unique<Impl>(registry, keys, hook)) {}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::bind() {
  const ServerSpec& s = impl_->reg.config().server;
  int port = int(s.port);
  if (port == 0) {
    port = impl_->svr.bind_to_any_port(s.host);
    SHOG_CHECK(port > 0, ErrorKind::io, fmt::format("{}:0", s.host), "cannot listen on any port of this address");
  } else {
    SHOG_CHECK(impl_->svr.bind_to_port(s.host, port), ErrorKind::io, fmt::format("{}:{}", s.host, port),
               "cannot listen here (address in use, or not this machine's)");
  }
  impl_->svr.raise_backlog();
  return port;
}

void HttpServer::listen() { impl_->svr.listen_after_bind(); }

void HttpServer::stop() {
  impl_->stopping = true;
  impl_->svr.stop();
}

void HttpServer::wait_until_listening() {
  while (!impl_->svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

Metrics& HttpServer::metrics() { return impl_->metrics; }

void HttpServer::set_access_log(bool on) { impl_->access_log = on; }

}  // namespace shog::serve
