// `shoggoth export hf|gguf`: a shoggoth model directory to another
// ecosystem's format (docs/interop.md).
#include <cstdio>

#include "cli/command.h"
#include "interop/gguf_llama.h"
#include "interop/hf_model.h"

namespace {

void setup(CLI::App& app) {
  app.require_subcommand(1);
  static std::string model, out, dtype = "f32";

  auto* hf = app.add_subcommand("hf", "Write a Hugging Face Llama directory (safetensors, config, tokenizer.json)");
  hf->add_option("--model", model, "shoggoth model directory (model.safetensors, config.json, tokenizer.json)")
      ->required();
  hf->add_option("--out", out, "output directory (created)")->required();
  hf->add_option("--dtype", dtype, "weight dtype: f32, bf16 or f16")->capture_default_str();
  hf->callback([] {
    auto m = shog::load_model_dir(model);
    auto dt = shog::parse_weight_dtype(dtype, "--dtype");
    shog::export_hf(m, out, dt);
    std::printf("export hf: %s -> %s (%s%s)\n", model.c_str(), out.c_str(), std::string(shog::weight_dtype_name(dt)).c_str(),
                m.tokenizer ? ", with tokenizer" : ", no tokenizer");
  });

  auto* gguf = app.add_subcommand("gguf", "Write a GGUF file that llama.cpp loads (llama architecture)");
  gguf->add_option("--model", model, "shoggoth model directory (model.safetensors, config.json, tokenizer.json)")
      ->required();
  gguf->add_option("--out", out, "output .gguf file (written atomically)")->required();
  gguf->add_option("--dtype", dtype, "matrix dtype: f32, bf16 or f16 (norm weights stay f32)")->capture_default_str();
  gguf->callback([] {
    auto m = shog::load_model_dir(model);
    auto dt = shog::parse_weight_dtype(dtype, "--dtype");
    shog::export_gguf(m, out, dt);
    std::printf("export gguf: %s -> %s (%s)\n", model.c_str(), out.c_str(), std::string(shog::weight_dtype_name(dt)).c_str());
  });
}

shog::cli::Registration reg{"export", "Export a model to Hugging Face (hf) or llama.cpp (gguf) format", setup};

}  // namespace
