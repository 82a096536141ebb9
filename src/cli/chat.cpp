// `shoggoth chat`: a terminal conversation rendered with the chat template
// (src/tokenizer/chat_template.h), replies streamed as they are generated.
// Lines starting with / are commands: /reset, /save FILE, /quit. Ctrl-D
// (end of input) exits cleanly.
//
//   shoggoth chat --model runs/sft/final --system "You are terse." --temperature 0.7
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/generation_flags.h"
#include "core/error.h"
#include "core/file_io.h"
#include "infer/engine.h"
#include "infer/inference_model.h"
#include "tokenizer/chat_template.h"


namespace {

struct ChatArgs {
  std::string kv_dtype = "f32";
  std::string model, tokenizer, system, dtype = "f32";
  shog::SamplingParams params;
};

void save_conversation(const std::string& path, const std::vector<shog::ChatMessage>& msgs) {
  nlohmann::json j = {{"messages", nlohmann::json::array()}};
  for (auto& m : msgs) j["messages"].push_back({{"role", shog::chat_role_name(m.role)}, {"content", m.content}});
  shog::write_file_atomic(path, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

void run(const ChatArgs& a) {
  auto m = shog::load_inference_model(a.model, a.tokenizer, shog::parse_dtype(a.dtype, "--dtype"));
  const shog::Tokenizer& tok = *m.tokenizer;
  shog::ChatTemplate tmpl(tok);
  shog::SamplingParams p = a.params;
  p.stop_tokens = shog::default_stop_tokens(tok);
  p.stop_tokens.push_back(tmpl.end_id());  // a reply ends with <|end|>
  p.validate("chat");
  shog::EngineOptions opt;
  opt.max_batch = 1;
  opt.kv_dtype = shog::parse_dtype(a.kv_dtype, "--kv-dtype");
  shog::Engine eng(*m.model, &tok, opt);
  const int64_t max_seq = m.model->config().max_seq;
  const bool tty = isatty(0);

  std::vector<shog::ChatMessage> msgs;
  if (!a.system.empty()) msgs.push_back({shog::ChatRole::system, a.system});
  const size_t first_turn = msgs.size();
  if (tty) std::fprintf(stderr, "chat: /reset clears the conversation, /save FILE writes it as JSON, Ctrl-D quits\n");
  std::string line;
  for (uint64_t turn = 0;; ++turn) {
    if (tty) std::fprintf(stderr, "> "), std::fflush(stderr);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line == "/quit" || line == "/exit") break;
    if (line == "/reset") {
      msgs.resize(first_turn);
      std::fprintf(stderr, "(conversation cleared)\n");
      continue;
    }
    if (line == "/save" || line.rfind("/save ", 0) == 0) {
      std::string path = line.size() > 6 ? line.substr(6) : "";
      if (path.empty()) {
        std::fprintf(stderr, "usage: /save FILE\n");
        continue;
      }
      try {
        save_conversation(path, msgs);
        std::fprintf(stderr, "(saved %zu messages to %s)\n", msgs.size(), path.c_str());
      } catch (const shog::Error& e) {
        std::fprintf(stderr, "shoggoth: %s\n", e.what());  // a bad path must not end the conversation
      }
      continue;
    }
    msgs.push_back({shog::ChatRole::user, line});
    // Too long for the context: drop the oldest turns (the system prompt stays),
    // leaving room for at least a short reply.
    auto ids = tmpl.render(msgs, true).ids;
    while (int64_t(ids.size()) + 16 > max_seq && msgs.size() > first_turn + 1) {
      msgs.erase(msgs.begin() + long(first_turn));
      ids = tmpl.render(msgs, true).ids;
    }
    if (int64_t(ids.size()) >= max_seq) {
      std::fprintf(stderr, "shoggoth: that message is too long for the model's context of %lld tokens\n",
                   (long long)max_seq);
      msgs.pop_back();
      continue;
    }
    shog::SamplingParams tp = p;
    tp.seed = p.seed + turn;  // reproducible, yet not the same draw every turn
    shog::GenerationRequest req;
    req.prompt = ids;
    req.params = tp;
    req.on_event = shog::cli::print_stream_event;
    auto id = eng.add(std::move(req));
    eng.run_until_done();
    auto r = eng.take_result(id);
    std::printf("\n");
    std::fflush(stdout);
    if (r.finish == shog::FinishReason::error) std::fprintf(stderr, "shoggoth: %s\n", r.error.c_str());
    msgs.push_back({shog::ChatRole::assistant, r.text});
  }
  if (tty) std::fprintf(stderr, "\n");
}

void setup(CLI::App& sub) {
  auto a = std::make_shared<ChatArgs>();
  a->params.temperature = 0.7f;
  a->params.max_new_tokens = 512;
  sub.add_option("--model,-m", a->model, "Model directory (config.json + model.safetensors)")->required();
  sub.add_option("--tokenizer", a->tokenizer, "Tokenizer file (default: <model>/tokenizer.json)");
  sub.add_option("--system", a->system, "System prompt");
  sub.add_option("--dtype", a->dtype, "Compute dtype: f32 or bf16")->capture_default_str();
  sub.add_option("--kv-dtype", a->kv_dtype, "KV cache dtype: f32 or bf16 (half the memory)")->capture_default_str();
  shog::cli::add_sampling_flags(sub, a->params);
  sub.footer("Commands: /reset (clear the conversation, keep the system prompt), /save FILE (JSON), /quit; Ctrl-D exits.");
  sub.callback([a] { run(*a); });
}

shog::cli::Registration reg{"chat", "Chat with a model in the terminal", setup};

}  // namespace
