#include "serve/model_registry.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/file_io.h"
#include "infer/inference_model.h"
#include "model/lora.h"

namespace shog::serve {

bool Deployment::allows_tier(const std::string& tier) const {
  return std::find(spec->tiers.begin(), spec->tiers.end(), tier) != spec->tiers.end();
}

namespace {

// A pretrain run directory names its newest checkpoint in `latest`: serving
// the run means serving that checkpoint.
std::string model_dir(const std::string& path) {
  if (!file_exists(path + "/model.safetensors") && file_exists(path + "/latest")) {
    std::string step = read_file(path + "/latest");
    while (!step.empty() && std::isspace(static_cast<unsigned char>(step.back()))) step.pop_back();
    return path + "/" + step;
  }
  return path;
}

}  // namespace

ModelRegistry::ModelRegistry(const PlatformConfig& cfg) : cfg_(cfg) {
  const std::string file = cfg.file.empty() ? "config" : cfg.file;
  models_.reserve(cfg.models.size());
  for (const ModelSpec& ms : cfg.models) {
    LoadedModel lm;
    lm.spec = &ms;
    InferenceModel im = load_inference_model(model_dir(ms.path), ms.tokenizer, ms.dtype);
    lm.model = std::move(im.model);
    lm.tokenizer = std::move(im.tokenizer);
    lm.bos = lm.tokenizer->special_id("<|bos|>");
    lm.eos = default_stop_tokens(*lm.tokenizer);
    try {
      lm.chat = std::make_unique<ChatTemplate>(*lm.tokenizer);
    } catch (const Error&) {
      lm.chat = nullptr;  // completions only; /v1/chat/completions says why
    }
    models_.push_back(std::move(lm));
  }
  for (const AdapterSpec& as : cfg.adapters) {
    auto it = std::find_if(cfg.models.begin(), cfg.models.end(), [&](auto& m) { return m.name == as.model; });
    LoadedModel& lm = models_[size_t(it - cfg.models.begin())];
#ifdef SHOG_HAVE_LORA
    lm.adapters[as.name] =
        std::make_unique<LoraAdapter>(LoraAdapter::load(as.path, lm.model->config()));
#else
    (void)lm;
    throw Error(ErrorKind::unsupported, fmt::format("{}: adapter {}", file, as.name),
                "this build has no LoRA support yet (src/model/lora.cpp)");
#endif
  }
  for (const DeploymentSpec& ds : cfg.deployments) {
    Deployment d;
    d.spec = &ds;
    auto it = std::find_if(cfg.models.begin(), cfg.models.end(), [&](auto& m) { return m.name == ds.model; });
    d.model_index = size_t(it - cfg.models.begin());
    LoadedModel& lm = models_[d.model_index];
    if (!ds.adapter.empty()) d.adapter = lm.adapters.at(ds.adapter).get();
    const int64_t max_seq = lm.model->config().max_seq;
    d.max_context = ds.max_context > 0 ? ds.max_context : max_seq;
    SHOG_CHECK(d.max_context <= max_seq, ErrorKind::invalid_argument,
               fmt::format("{}: deployment {}: max_context", file, ds.name),
               "{} is above model {}'s context of {} tokens", d.max_context, ds.model, max_seq);
    deployments_.push_back(d);
  }
}

ModelRegistry::~ModelRegistry() = default;

const Deployment* ModelRegistry::find(const std::string& name) const {
  for (auto& d : deployments_)
    if (d.spec->name == name) return &d;
  return nullptr;
}

}  // namespace shog::serve
