// `shoggoth import hf|gguf`: a Hugging Face Llama directory or a GGUF file
// to a shoggoth model directory (docs/interop.md).
#include <cstdio>

#include "cli/command.h"
#include "interop/gguf_llama.h"
#include "interop/hf_model.h"

namespace {

void setup(CLI::App& app) {
  app.require_subcommand(1);
  static std::string from, out;

  auto* hf = app.add_subcommand("hf", "Read a Hugging Face Llama directory (F32/BF16/F16, sharded or not)");
  hf->add_option("--from", from, "Hugging Face model directory")->required();
  hf->add_option("--out", out, "output shoggoth model directory (created)")->required();
  hf->callback([] {
    auto m = shog::import_hf(from);
    shog::save_model_dir(out, m);
    std::printf("import hf: %s -> %s (%s)\n", from.c_str(), out.c_str(),
                m.tokenizer ? "with tokenizer" : "no tokenizer.json found");
  });

  auto* gguf = app.add_subcommand("gguf", "Read a llama-architecture GGUF file (F32/F16/BF16 tensors)");
  gguf->add_option("--from", from, "GGUF file")->required();
  gguf->add_option("--out", out, "output shoggoth model directory (created)")->required();
  gguf->callback([] {
    shog::save_model_dir(out, shog::import_gguf(from));
    std::printf("import gguf: %s -> %s\n", from.c_str(), out.c_str());
  });
}

shog::cli::Registration reg{"import", "Import a Hugging Face (hf) or GGUF (gguf) model as a shoggoth model", setup};

}  // namespace
