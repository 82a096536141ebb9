// A Llama-style decoder-only transformer with a hand-written backward pass.
//
//   x0 = embed(tokens)
//   for each layer:  a = x + Wo · attn(rope(Wqkv · rmsnorm(x)))
//                    x = a + Wdown · swiglu(Wgu · rmsnorm(a))
//   hidden = rmsnorm(x);  logits = hidden · lm_head^T
//
// Master weights are f32 (ParamTable layout); with compute dtype bf16 every
// GEMM runs on bf16 copies of the weights and of its input activations, with
// f32 accumulation, and everything else (norms, softmax, residuals) stays f32.
//
// The interface is what every objective needs: a forward pass that saves
// activations, the final hidden states (for extra heads: reward, value,
// classifier), per-token log-probs of given targets, and a backward pass
// started either from dL/dlogp per token (cross-entropy, SFT, DPO, PPO, GRPO)
// or from a gradient on the hidden states written by another head.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "model/kv_cache.h"
#include "model/lora.h"
#include "model/model_config.h"
#include "model/parameters.h"
#include "ops/output_head.h"

namespace shog {

class Transformer {
 public:
  explicit Transformer(const ModelConfig& cfg, DType compute = DType::f32);
  ~Transformer();

  const ModelConfig& config() const { return cfg_; }
  DType compute_dtype() const { return compute_; }
  void set_compute_dtype(DType dt);

  ParamTable& table() { return table_; }
  const ParamTable& table() const { return table_; }
  float* params() { return params_.data<float>(); }
  const float* params() const { return params_.data<float>(); }
  float* grads() { return grads_.data<float>(); }
  const float* grads() const { return grads_.data<float>(); }
  int64_t num_floats() const { return table_.total(); }

  // Normal(0, std) matrices, the residual output projections (o_proj,
  // down_proj) scaled by 1/sqrt(2 n_layer) as in GPT-2; norms at 1; a smear
  // gain at 0. embed_std > 0 gives the token embedding its own std (a
  // pre-norm model reads it through RMSNorm, so its scale only sets how much
  // it weighs against what the layers add to the residual).
  void init_weights(uint64_t seed, float std = 0.02f, float embed_std = 0.0f);
  // Must be called after parameters change (optimizer step, load): refreshes
  // the bf16 copies the GEMMs read. A no-op in f32.
  void sync_compute_weights();
  void zero_grad();
  // Frozen parameters get no gradient (their GEMM weight-gradient is skipped).
  void set_frozen(const std::string& name, bool frozen);

  // LoRA (model/lora.h). With an adapter attached, forward() and backward()
  // add its path  y += (alpha/r) B A dropout(x)  to each targeted projection
  // (in f32 whatever the compute dtype: the factors are small, and the
  // adapter then needs no bf16 copy refreshed after each step); backward()
  // accumulates into adapter->grads() and passes the adapter's share of the
  // input gradient on, while the base parameters get no gradient at all
  // (their gradient block is not touched and their weight-gradient GEMMs are
  // skipped, as if every one were frozen). nullptr detaches. The adapter must
  // fit this model's shape and outlive its attachment.
  void attach_lora(LoraAdapter* adapter);
  LoraAdapter* lora() const { return lora_; }
  // Training mode turns on the adapter's dropout (on the LoRA input path
  // only; off by default, and never in forward_cached). Each training
  // forward() draws new masks from a counter-based hash of (seed, call,
  // layer, target, element), so backward() regenerates the forward's mask
  // instead of storing it, and a run is reproducible from the seed.
  void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }
  void set_dropout_seed(uint64_t seed) { dropout_seed_ = seed, dropout_calls_ = 0; }
  // NEFTune (Jain et al., 2023): in training mode each forward() adds
  // uniform noise in [-m, m), m = alpha / sqrt(T * d_model), to the token
  // embeddings (T: the row length), a new draw per call from a hash of
  // (seed, call, element); the backward is unchanged. alpha 0 (the default)
  // turns it off. The seed also restarts the call count, so setting it again
  // repeats the same draws.
  void set_embedding_noise(float alpha, uint64_t seed) {
    noise_alpha_ = alpha, noise_seed_ = seed, noise_calls_ = 0;
  }
  // Residual dropout (GPT-2's resid_pdrop): in training mode each forward()
  // drops a share p of every attention and MLP block's output before it
  // joins the residual stream, scaling the rest by 1/(1-p) (ops/dropout.h).
  // The masks come from a hash of (seed, call, layer, block, element), so
  // backward() regenerates them instead of storing them; setting the seed
  // again restarts the call count and repeats the masks. p 0 (the default)
  // turns it off. Throws invalid_argument for p outside [0, 1).
  void set_residual_dropout(float p, uint64_t seed);

  // Body forward: embeddings through the final norm, saving activations.
  // T <= max_seq. Allocates the activation arena when (B, T) changes.
  // seg_lens (optional) packs several samples into each row: their lengths,
  // row after row, each row summing to T. Each sample then gets positions
  // from 0 and attends only to itself (ops::attention_forward_packed), so a
  // packed sample computes exactly what it would alone.
  void forward(const int32_t* tokens, int64_t B, int64_t T, std::span<const int32_t> seg_lens = {});
  int64_t batch() const { return B_; }
  int64_t seq() const { return T_; }
  const float* hidden() const;   // [B*T, C], after the final norm
  float* hidden_grad();          // [B*T, C], zeroed by forward(); heads add into it

  // Head: per-token log-probs of targets (target < 0: ignored, logp 0).
  void token_logprobs(const int32_t* targets, float* logp);
  // Full logits [B*T, V] (tests and inference; B*T*V floats).
  void logits(float* out);
  // Weighted cross-entropy: loss = -sum w_t logp_t. Head forward + backward
  // and then backward(); gradients accumulate. Returns the loss.
  double cross_entropy_backward(const int32_t* targets, const float* weights, float* logp_out = nullptr);
  // Backward from g_t = dL/dlogp_t, then backward().
  void logprob_backward(const int32_t* targets, const float* g);
  // Backward from hidden_grad() through the body; accumulates parameter grads.
  void backward();
  // Called by backward() each time a stretch [offset, offset + n) of the
  // gradient block is final for this backward, in the order they finish: the
  // final norm and untied head first, then each layer from the last, then the
  // embedding; together they cover the block once. Data parallelism starts
  // summing a stretch over ranks while the layers below it are still being
  // differentiated. Empty (the default): no calls.
  using GradReadyHook = std::function<void(int64_t offset, int64_t n)>;
  void set_grad_ready_hook(GradReadyHook hook) { grad_ready_ = std::move(hook); }

  // Inference over a paged KV cache (src/model/transformer_decode.cpp). Each
  // entry brings n new tokens of one sequence of `kv`, at positions
  // kv.length(seq) ... + n - 1: a prompt chunk or one decode token. Their K/V
  // are appended to the cache and they attend to everything cached before
  // them; all rows of the batch go through each GEMM together. Logits
  // [rows, V] are written for the last new token of each entry, or for all of
  // them when all_logits (rows in entry order). Throws shog::Error when a
  // token is outside the vocabulary, a sequence would pass max_seq, or the
  // cache has no room (then nothing is written and no length changes).
  // Reads no saved activations: it may interleave with forward().
  // `adapter` (optional) is a LoRA adapter of this base applied to this
  // entry's rows only, so requests for different adapters share one batch.
  struct CachedTokens {
    KvSeqId seq;
    std::span<const int32_t> tokens;
    bool all_logits = false;
    const LoraAdapter* adapter = nullptr;
  };
  void forward_cached(KvBlockPool& kv, std::span<const CachedTokens> batch, float* logits);
  // Makes now what forward_cached would make on its first call (in bf16, the
  // panel-packed weights: ~1 s for d12), so that a server's first request
  // does not wait for it.
  void prepare_cached();
  static int64_t cached_logit_rows(std::span<const CachedTokens> batch);
  // The bf16 copy of all parameters (ParamTable layout), or nullptr in f32.
  // Writing through the mutable one (an optimizer step does) also marks the
  // panel-packed copy forward_cached reads as stale.
  const bf16* params16() const { return compute_ == DType::bf16 ? params16_.data<bf16>() : nullptr; }
  bf16* params16() {
    panels_stale_ = true;
    return compute_ == DType::bf16 ? params16_.data<bf16>() : nullptr;
  }

 private:
  struct Activations;
  void ensure_activations(int64_t B, int64_t T);
  void linear_forward(const float* x, const bf16* x16, const float* W, float* y, int64_t N, int64_t in, int64_t out,
                      bool accumulate);
  void linear_backward(const float* dy, const float* x, const bf16* x16, const float* W, float* dx, float* dW,
                       int64_t N, int64_t in, int64_t out);
  const bf16* w16(const float* w) const;  // bf16 copy of a weight, same offset
  const void* head_weight() const;
  bool frozen_at(const float* grad_ptr, int64_t n) const;
  // The LoRA path (src/model/transformer_lora.cpp). y and dy are the fused
  // projection outputs (q|k|v, gate|up) or plain ones, ld their row stride;
  // the target's column block is found inside.
  struct LoraActs;
  void lora_begin_forward();
  void lora_forward(int64_t layer, LoraTarget t, const float* x, float* y, int64_t ld);
  void lora_backward(int64_t layer, LoraTarget t, const float* dy, int64_t ld, const float* x, float* dx);

  ModelConfig cfg_;
  DType compute_;
  ParamTable table_;
  GradReadyHook grad_ready_;
  // Clears the frozen entries inside [begin, end) of the gradient block (a
  // frozen part of a fused GEMM got a gradient with its siblings) and hands
  // the stretch to grad_ready_.
  void grads_final(int64_t begin, int64_t end);
  Tensor params_, grads_, params16_;
  ParamViews w_, g_;
  std::vector<float> rope_cos_, rope_sin_;
  std::unique_ptr<Activations> acts_;
  std::unique_ptr<ops::OutputHeadWorkspace> head_ws_;
  int64_t B_ = 0, T_ = 0;
  const int32_t* tokens_ = nullptr;
  std::vector<int32_t> tokens_copy_;
  std::vector<int32_t> seg_lens_, positions_;  // packed rows of the last forward()
  std::vector<int32_t> prev_tokens_;            // the smear's previous token per row (-1 at a sample's start)
  LoraAdapter* lora_ = nullptr;
  bool training_ = false;
  uint64_t dropout_seed_ = 0, dropout_calls_ = 0;
  float noise_alpha_ = 0.0f;
  uint64_t noise_seed_ = 0, noise_calls_ = 0;
  float resid_p_ = 0.0f;
  uint64_t resid_seed_ = 0, resid_calls_ = 0;
  uint64_t fwd_resid_seed_ = 0;  // the last forward's mask seed; 0: it applied no residual dropout
  uint64_t resid_site_seed(int64_t layer, int64_t block) const;  // block 0: attention, 1: MLP
  LoraAdapter* forward_lora_ = nullptr;   // the adapter the last forward() used
  std::shared_ptr<LoraActs> lora_acts_;  // its saved LoRA activations
  struct DecodeScratch;  // buffers of forward_cached, grown to the largest batch seen
  std::shared_ptr<DecodeScratch> decode_;
  // bf16 forward_cached multiplies by its weights packed in panels
  // (ops/panel_gemm.h): made on first use and again after the weights change.
  struct PanelWeights;
  std::shared_ptr<PanelWeights> panels_;
  bool panels_stale_ = true;
  const PanelWeights& panel_weights();
};

}  // namespace shog
