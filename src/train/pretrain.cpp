// Pretraining loop. Reads top to bottom as the run goes: configure, open the
// data, build the model (random, or model.init_from's weights) or resume it,
// then per step: micro-batches of forward + cross-entropy backward, the
// gradient sum over data-parallel ranks, one
// clipped AdamW update, logging, validation, checkpoints. Determinism: given
// the same thread count (and rank count), every kernel and collective is
// deterministic and all state that changes (weights, moments, data position)
// is in the checkpoint, so a resumed run reproduces the uninterrupted loss
// curve bit for bit (tests/cli/pretrain_test.sh, tests/cli/mpi/pretrain_dp_test.sh).
//
// Data parallel (W ranks, a Communicator): every rank holds the whole model
// and optimizer, trains on its own B of each micro-batch's W*B sequences,
// and adds its gradients to the others' before the update, which is then the
// same on every rank; rank 0 alone reads the starting checkpoint and writes
// the output directory (checkpoints, metrics, plots) and the progress line.
#include "train/pretrain.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "data/batch_loader.h"
#include "data/token_shard.h"
#include "model/model_io.h"
#include "model/transformer.h"
#include "ops/gemm_peak.h"
#include "train/adamw_optimizer.h"
#include "train/muon_optimizer.h"
#include "train/checkpoint.h"
#include "train/lr_schedule.h"
#include "train/run_log.h"
#include "train/zero1_optimizer.h"

namespace fs = std::filesystem;

namespace shog {

void PretrainConfig::register_fields(ConfigFields& f) {
  f.add("model.preset", "model size preset: tiny, small, d12, d24", &preset);
  f.add("model.n_layer", "transformer layers (0: preset)", &n_layer);
  f.add("model.d_model", "model width (0: preset)", &d_model);
  f.add("model.n_head", "attention heads (0: preset)", &n_head);
  f.add("model.n_kv_head", "key/value heads for grouped-query attention (0: preset)", &n_kv_head);
  f.add("model.ffn_hidden", "SwiGLU hidden width (0: preset)", &ffn_hidden);
  f.add("model.vocab", "vocabulary size (0: preset; must cover the shards' vocabulary)", &vocab);
  f.add("model.max_seq", "maximum sequence length (0: preset)", &max_seq);
  f.add("model.rope_theta", "RoPE base (0: preset)", &rope_theta);
  f.add("model.norm_eps", "RMSNorm epsilon (0: preset)", &norm_eps);
  f.add("model.tie_embeddings", "share embedding and output head: true, false, preset", &tie_embeddings);
  f.add("model.smear",
        "add a learnt multiple of the previous token's embedding to each position's, which lets one attention layer "
        "copy from the context (not exportable to GGUF or HF Llama)",
        &smear);
  f.add("model.init_std", "std of the normal weight init", &init_std);
  f.add("model.embed_init_std", "std of the token embedding's init (0: init_std)", &embed_init_std);
  f.add("model.init_from",
        "start from the weights of this checkpoint or model directory (fresh optimizer, schedule and data order; "
        "the shape must match)",
        &init_from);
  f.add("data.train", "training token shards (list or comma-separated)", &train_shards);
  f.add("data.val", "validation token shards", &val_shards);
  f.add("data.tokenizer", "tokenizer file, copied next to checkpoints", &tokenizer);
  f.add("train.batch_size", "sequences per micro-batch", &batch_size);
  f.add("train.seq_len", "tokens per sequence", &seq_len);
  f.add("train.grad_accum", "micro-batches per optimizer step", &grad_accum);
  f.add("train.steps", "optimizer steps in the whole run", &steps);
  f.add("train.seed", "seed for init and data order", &seed);
  f.add("train.dtype", "compute dtype: f32 or bf16", &dtype);
  f.add("train.lr", "peak learning rate", &lr);
  f.add("train.min_lr_ratio", "final lr as a fraction of the peak", &min_lr_ratio);
  f.add("train.warmup_steps", "linear warmup steps", &warmup_steps);
  f.add("train.schedule", "lr schedule: cosine, wsd, constant", &schedule);
  f.add("train.decay_fraction", "wsd: fraction of steps spent decaying", &decay_fraction);
  f.add("train.weight_decay", "AdamW decoupled weight decay (matrices only)", &weight_decay);
  f.add("train.beta1", "AdamW beta1", &beta1);
  f.add("train.beta2", "AdamW beta2", &beta2);
  f.add("train.eps", "AdamW epsilon", &eps);
  f.add("train.grad_clip", "global gradient-norm clip (0: off)", &grad_clip);
  f.add("train.val_every", "validate every N steps (0: never)", &val_every);
  f.add("train.val_batches", "batches per validation", &val_batches);
  f.add("train.ckpt_every", "checkpoint every N steps (and at the end)", &ckpt_every);
  f.add("train.log_every", "print a progress line every N steps when stderr is not a terminal", &log_every);
  f.add("train.out_dir", "directory for checkpoints, metrics and plots", &out_dir);
  f.add("train.threads", "OpenMP threads (0: all cores)", &threads);
  f.add("train.stop_after", "stop after this step with a checkpoint (0: off)", &stop_after);
  f.add("train.progress", "show the progress bar", &progress);
  f.add("train.zero1", "data parallel: shard the AdamW moments over the ranks (ZeRO-1)", &zero1);
  f.add("train.overlap_grad_sum",
        "data parallel: start summing each layer's gradient over the ranks as soon as backward has finished it "
        "(false: one sum after the whole backward; ZeRO-1 always sums after)",
        &overlap_grad_sum);
  f.add("train.optimizer",
        "adamw, or muon: Muon (orthogonalised momentum) on the layers' weight matrices and AdamW on the embedding, "
        "head and norms",
        &optimizer);
  f.add("train.muon_lr", "muon: peak learning rate of the layers' matrices (the schedule scales it as train.lr)",
        &muon_lr);
  f.add("train.muon_momentum", "muon: momentum (Nesterov)", &muon_momentum);
  f.add("train.muon_weight_decay", "muon: decoupled weight decay of the layers' matrices", &muon_weight_decay);
  f.add("train.muon_ns_steps", "muon: Newton-Schulz iterations per update", &muon_ns_steps);
}

ModelConfig PretrainConfig::model_config() const {
  ModelConfig m = model_preset(preset);
  if (n_layer) m.n_layer = n_layer;
  if (d_model) m.d_model = d_model;
  if (n_head) m.n_head = n_head;
  if (n_kv_head) m.n_kv_head = n_kv_head;
  else if (n_head) m.n_kv_head = n_head;
  if (ffn_hidden) m.ffn_hidden = ffn_hidden;
  if (vocab) m.vocab = vocab;
  if (max_seq) m.max_seq = max_seq;
  if (rope_theta) m.rope_theta = float(rope_theta);
  if (norm_eps) m.norm_eps = float(norm_eps);
  if (tie_embeddings == "true") m.tie_embeddings = true;
  if (tie_embeddings == "false") m.tie_embeddings = false;
  m.smear = smear;
  if (!max_seq && m.max_seq < seq_len) m.max_seq = seq_len;
  m.validate("[model]");
  return m;
}

void PretrainConfig::validate() const {
  auto need = [](bool ok, const char* key, const std::string& why) {
    if (!ok) throw Error(ErrorKind::invalid_argument, key, why);
  };
  need(!train_shards.empty(), "data.train", "no training shards given (set data.train or --train)");
  need(batch_size >= 1, "train.batch_size", "must be >= 1");
  need(seq_len >= 1, "train.seq_len", "must be >= 1");
  need(grad_accum >= 1, "train.grad_accum", "must be >= 1");
  need(steps >= 1, "train.steps", "must be >= 1");
  need(lr > 0 && std::isfinite(lr), "train.lr", "must be a positive number");
  need(min_lr_ratio >= 0 && min_lr_ratio <= 1, "train.min_lr_ratio", "must be in [0, 1]");
  need(warmup_steps >= 0, "train.warmup_steps", "must be >= 0");
  need(decay_fraction > 0 && decay_fraction <= 1, "train.decay_fraction", "must be in (0, 1]");
  need(weight_decay >= 0, "train.weight_decay", "must be >= 0");
  need(beta1 >= 0 && beta1 < 1, "train.beta1", "must be in [0, 1)");
  need(beta2 >= 0 && beta2 < 1, "train.beta2", "must be in [0, 1)");
  need(eps > 0, "train.eps", "must be > 0");
  need(grad_clip >= 0, "train.grad_clip", "must be >= 0");
  need(optimizer == "adamw" || optimizer == "muon", "train.optimizer", "must be adamw or muon");
  need(muon_lr > 0 && std::isfinite(muon_lr), "train.muon_lr", "must be a positive number");
  need(muon_momentum >= 0 && muon_momentum < 1, "train.muon_momentum", "must be in [0, 1)");
  need(muon_weight_decay >= 0, "train.muon_weight_decay", "must be >= 0");
  need(muon_ns_steps >= 1 && muon_ns_steps <= 20, "train.muon_ns_steps", "must be in [1, 20]");
  need(optimizer != "muon" || !zero1, "train.zero1",
       "ZeRO-1 shards AdamW's elementwise state across tensors; Muon needs whole matrices (set one of them off)");
  need(val_every >= 0 && val_batches >= 1, "train.val_every", "val_every must be >= 0 and val_batches >= 1");
  need(ckpt_every >= 1, "train.ckpt_every", "must be >= 1");
  need(log_every >= 1, "train.log_every", "must be >= 1");
  need(threads >= 0, "train.threads", "must be >= 0");
  need(stop_after >= 0, "train.stop_after", "must be >= 0");
  need(tie_embeddings == "true" || tie_embeddings == "false" || tie_embeddings == "preset", "model.tie_embeddings",
       "must be true, false or preset");
  need(init_std > 0, "model.init_std", "must be > 0");
  need(embed_init_std >= 0, "model.embed_init_std", "must be >= 0 (0: init_std)");
  parse_dtype(dtype, "train.dtype");
  parse_lr_schedule(schedule, "train.schedule");
  ModelConfig m = model_config();
  need(seq_len <= m.max_seq, "train.seq_len", fmt::format("{} exceeds model.max_seq {}", seq_len, m.max_seq));
}

static void write_plot(const std::string& out_dir, const std::vector<nlohmann::json>& rows) {
  plot_metrics(out_dir + "/loss.svg", "shoggoth pretrain", "cross-entropy (nats/token)", rows,
               {{"loss", "train loss", "#1f77b4"}, {"val_loss", "validation loss", "#d62728"}});
}

namespace {

// Rank 0 alone builds or reads the starting point (a checkpoint may sit on a
// disk only rank 0 sees); every other rank receives its weights and trainer
// state (the optimizer's moments: share_moments_from_root). Fresh runs
// broadcast too: the same seed would give the same weights, but a copy needs
// no argument.
void share_start_from_root(Communicator& comm, Transformer& model, nlohmann::json& state) {
  if (comm.size() == 1) return;
  comm.broadcast(model.params(), model.num_floats() * int64_t(sizeof(float)), 0);
  std::string text = state.dump();
  int64_t len = int64_t(text.size());
  comm.broadcast(&len, sizeof len, 0);
  text.resize(size_t(len));
  comm.broadcast(text.data(), len, 0);
  state = nlohmann::json::parse(text);
  model.sync_compute_weights();
}

// Moments and step count of the resumed optimizer: rank 0's `loaded` (its
// own `whole`, or a temporary under ZeRO-1) to every rank's optimizer.
void share_moments_from_root(Communicator& comm, const AdamWOptimizer* loaded, AdamWOptimizer* whole,
                             Zero1AdamW* sharded) {
  if (sharded) {
    sharded->scatter(loaded);
    return;
  }
  if (comm.size() == 1) return;
  const int64_t bytes = int64_t(whole->m().size() * sizeof(float));
  comm.broadcast(whole->m().data(), bytes, 0);
  comm.broadcast(whole->v().data(), bytes, 0);
  int64_t t = whole->steps_taken();
  comm.broadcast(&t, sizeof t, 0);
  whole->set_steps_taken(t);
}

// Ranks apply the same update to the same weights, so they stay identical as
// long as every all-reduce gives every rank the same bits. Checked before each
// checkpoint (a 64-bit hash of the weights, compared with rank 0's), so that a
// checkpoint never stands for weights that only rank 0 had.
void check_ranks_agree(Communicator& comm, const Transformer& model, int64_t step) {
  if (comm.size() == 1) return;
  const auto* words = reinterpret_cast<const uint64_t*>(model.params());
  const int64_t n = model.num_floats() / 2;  // whole 8-byte words; a trailing float is covered below
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (int64_t i = 0; i < n; ++i) h = (h ^ words[i]) * 0x100000001b3ull;
  h = fnv1a64(model.params() + 2 * n, size_t(model.num_floats() - 2 * n) * sizeof(float), h);
  uint64_t root_h = h;
  comm.broadcast(&root_h, sizeof root_h, 0);
  double differ = root_h == h ? 0 : 1;
  comm.all_reduce_sum(&differ, 1);
  SHOG_CHECK(differ == 0, ErrorKind::internal, fmt::format("step {}", step),
             "the weights of {} of {} data-parallel ranks differ from rank 0's (an all-reduce gave ranks "
             "different sums); stopping without saving",
             int64_t(differ), comm.size());
}

// model.init_from: the weights of another run as the starting point. The
// shape is compared key by key first, so that a mismatch names the key
// rather than failing inside the tensor loader.
void load_init_weights(const std::string& dir, const ModelConfig& mc, Transformer& model) {
  const nlohmann::json want = mc.to_hf_json(), have = load_model_config(dir).to_hf_json();
  for (const auto& [key, value] : want.items()) {
    SHOG_CHECK(have.contains(key) && have[key] == value, ErrorKind::invalid_argument, "model.init_from",
               "{} has {} = {}, but this run's [model] gives {}", dir, key,
               have.contains(key) ? have[key].dump() : std::string("nothing"), value.dump());
  }
  load_model_weights(dir, model);
}

}  // namespace

PretrainResult run_pretrain(const PretrainConfig& cfg, bool resume) {
  SingleProcess one;
  return run_pretrain(cfg, resume, one);
}

PretrainResult run_pretrain(const PretrainConfig& cfg, bool resume, Communicator& comm) {
  cfg.validate();
  if (cfg.threads > 0) omp_set_num_threads(int(cfg.threads));
  const ModelConfig mc = cfg.model_config();
  const DType dt = parse_dtype(cfg.dtype, "train.dtype");
  const int64_t B = cfg.batch_size, T = cfg.seq_len, A = cfg.grad_accum;
  const int64_t W = comm.size(), rank = comm.rank(), GB = W * B;  // GB: sequences per micro-batch, all ranks
  const bool root = comm.is_root();

  // Every rank walks the same order of micro-batches of W*B windows and takes
  // rows [rank*B, (rank+1)*B) of each, so W ranks of batch B see exactly the
  // windows, in the same steps, that one process of batch W*B sees, and the
  // loader position in a checkpoint is the same for both.
  BatchLoader train(cfg.train_shards, GB, T, uint64_t(cfg.seed), LoaderOrder::shuffled);
  SHOG_CHECK(int64_t(train.vocab_size()) <= mc.vocab, ErrorKind::invalid_argument, "model.vocab",
             "the shards use a vocabulary of {} tokens but the model has only {}", train.vocab_size(), mc.vocab);
  std::unique_ptr<BatchLoader> val;
  if (!cfg.val_shards.empty() && cfg.val_every > 0)
    val = std::make_unique<BatchLoader>(cfg.val_shards, GB, T, uint64_t(cfg.seed), LoaderOrder::sequential);

  Transformer model(mc, dt);
  model.init_weights(uint64_t(cfg.seed), float(cfg.init_std), float(cfg.embed_init_std));
  ops::AdamWHyper hyper{float(cfg.lr), float(cfg.beta1), float(cfg.beta2), float(cfg.eps), float(cfg.weight_decay)};
  // The optimizer: whole AdamW state on every rank, or under ZeRO-1 each
  // rank's shard of it (a whole one then exists only on rank 0, briefly, to
  // read or write a checkpoint).
  const bool zero1 = cfg.zero1 && W > 1;
  std::unique_ptr<AdamWOptimizer> whole;
  std::unique_ptr<Zero1AdamW> sharded;
  if (zero1) sharded = std::make_unique<Zero1AdamW>(model.table(), hyper, comm);
  else whole = std::make_unique<AdamWOptimizer>(model.table(), hyper);
  std::unique_ptr<MuonOptimizer> muon;  // over whole's blocks
  if (cfg.optimizer == "muon")
    muon = std::make_unique<MuonOptimizer>(
        *whole, MuonHyper{float(cfg.muon_lr), float(cfg.muon_momentum), true, int(cfg.muon_ns_steps),
                          float(cfg.muon_weight_decay), DType::bf16});
  // Gradients summed over ranks layer by layer during backward (ZeRO-1 sums
  // its shards after the whole backward, in Zero1AdamW::step).
  const bool overlap = cfg.overlap_grad_sum && W > 1 && !zero1;
  auto whole_on_root = [&]() -> std::unique_ptr<AdamWOptimizer> {
    return root && zero1 ? std::make_unique<AdamWOptimizer>(model.table(), hyper) : nullptr;
  };
  LrSchedule sched{parse_lr_schedule(cfg.schedule, "train.schedule"), cfg.lr, cfg.warmup_steps, cfg.steps,
                   cfg.min_lr_ratio, cfg.decay_fraction};

  // Only rank 0 touches the output directory: checkpoints, metrics, plots.
  const std::string metrics_path = cfg.out_dir + "/metrics.jsonl";
  nlohmann::json state;  // trainer_state.json of the checkpoint resumed from
  std::unique_ptr<AdamWOptimizer> loaded = resume ? whole_on_root() : nullptr;  // ZeRO-1: rank 0 reads into it
  if (root) {
    make_dirs(cfg.out_dir);
    if (resume) {
      std::string dir = latest_checkpoint(cfg.out_dir);
      SHOG_CHECK(!dir.empty(), ErrorKind::invalid_argument, cfg.out_dir,
                 "--resume given but there is no checkpoint here");
      state = load_checkpoint(dir, model, loaded ? *loaded : *whole);
      state["dir"] = dir;
    } else {
      SHOG_CHECK(latest_checkpoint(cfg.out_dir).empty(), ErrorKind::invalid_argument, cfg.out_dir,
                 "already holds a checkpoint; pass --resume to continue it, or choose another train.out_dir");
      if (!cfg.init_from.empty()) load_init_weights(cfg.init_from, mc, model);
    }
  }
  share_start_from_root(comm, model, state);
  if (resume) share_moments_from_root(comm, loaded ? loaded.get() : whole.get(), whole.get(), sharded.get());
  loaded.reset();
  int64_t start = 0;
  if (resume) {
    const std::string dir = state.value("dir", cfg.out_dir);
    LoaderPosition pos;
    try {
      start = state.at("step").get<int64_t>();
      pos = state.at("loader").get<LoaderPosition>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::bad_input, dir + "/trainer_state.json", e.what());
    }
    SHOG_CHECK(pos.batch == GB, ErrorKind::invalid_argument, "train.batch_size",
               "the checkpoint was trained with {} sequences per micro-batch over all ranks; this run has {} ({} "
               "rank(s) x batch_size {})",
               pos.batch, GB, W, B);
    train.restore(pos);
    SHOG_CHECK(state.value("dtype", cfg.dtype) == cfg.dtype, ErrorKind::invalid_argument, "train.dtype",
               "the checkpoint was trained with {}, not {}", state.value("dtype", ""), cfg.dtype);
    // The moments block means different things to the two optimizers.
    SHOG_CHECK(state.value("optimizer", std::string("adamw")) == cfg.optimizer, ErrorKind::invalid_argument,
               "train.optimizer", "the checkpoint was trained with {}, not {}",
               state.value("optimizer", std::string("adamw")), cfg.optimizer);
    if (root) std::fprintf(stderr, "resuming from %s at step %lld\n", dir.c_str(), (long long)start);
  }
  std::unique_ptr<MetricsLog> metrics;
  if (root) metrics = std::make_unique<MetricsLog>(metrics_path, resume ? start : -1);
  if (root && !cfg.tokenizer.empty()) {
    std::error_code ec;
    fs::copy_file(cfg.tokenizer, cfg.out_dir + "/tokenizer" + fs::path(cfg.tokenizer).extension().string(),
                  fs::copy_options::overwrite_existing, ec);
    SHOG_CHECK(!ec, ErrorKind::io, cfg.tokenizer, "cannot copy tokenizer: {}", ec.message());
  }
  ConfigFields fields;
  PretrainConfig copy = cfg;
  copy.register_fields(fields);
  const std::string config_toml = fields.to_toml();

  // MFU: the FLOPs of all ranks against W times rank 0's measured peak (ranks
  // are assumed alike); rank 0 alone measures, the others wait for step 1.
  const int64_t step_tokens = GB * T * A;  // over all ranks
  const double peak = root ? ops::measure_gemm_peak_flops(dt, 0.3) * double(W) : 1;
  const double step_flops = mc.train_flops_per_token(T) * double(step_tokens);
  if (root) {
    std::fprintf(stderr,
                 "model: %lld layers, d_model %lld, %lld heads (%lld kv), ffn %lld, vocab %lld: %.2fM parameters; "
                 "%s compute, %lld tokens/step; measured %s GEMM peak %.1f GFLOP/s\n",
                 (long long)mc.n_layer, (long long)mc.d_model, (long long)mc.n_head, (long long)mc.n_kv_head,
                 (long long)mc.ffn_hidden, (long long)mc.vocab, double(mc.num_params()) / 1e6, cfg.dtype.c_str(),
                 (long long)step_tokens, cfg.dtype.c_str(), peak / double(W) / 1e9);
    if (W > 1)
      std::fprintf(stderr, "data parallel: %lld ranks (%s), each %lld x %lld tokens per micro-batch%s\n",
                   (long long)W, comm.backend(), (long long)B, (long long)T,
                   zero1 ? "; ZeRO-1: AdamW moments sharded"
                   : overlap ? "; gradients summed per layer during backward"
                             : "");
  }

  // The loader fills all W*B rows; this rank trains on its B of them.
  std::vector<int32_t> all_inputs(size_t(GB * T)), all_targets(size_t(GB * T));
  const int32_t* inputs = all_inputs.data() + rank * B * T;
  const int32_t* targets = all_targets.data() + rank * B * T;
  // Each token weighs 1/(tokens per step over all ranks), so a rank's loss and
  // gradients are its share of the global mean and their sum over ranks is it.
  const std::vector<float> weights(size_t(B * T), float(1.0 / double(step_tokens)));
  const int64_t end = cfg.stop_after > 0 ? std::min(cfg.stop_after, cfg.steps) : cfg.steps;
  PretrainResult res;
  double sum_time = 0;
  int64_t timed = 0;
  auto checkpoint = [&](int64_t step) {
    check_ranks_agree(comm, model, step);
    std::unique_ptr<AdamWOptimizer> gathered = whole_on_root();
    if (sharded) sharded->gather(gathered.get());
    if (!root) return;
    CheckpointExtras ex;
    ex.trainer_state = {{"loader", train.position()}, {"dtype", cfg.dtype}, {"seed", cfg.seed}, {"ranks", W},
                        {"zero1", zero1}, {"optimizer", cfg.optimizer}};
    ex.config_toml = config_toml;
    res.checkpoint_dir = save_checkpoint(cfg.out_dir, step, model, gathered ? *gathered : *whole, ex);
    write_plot(cfg.out_dir, metrics->rows());
  };

  ProgressLine progress(cfg.steps, cfg.log_every, cfg.progress && root);
  for (int64_t step = start; step < end; ++step) {
    auto t0 = std::chrono::steady_clock::now();
    const double lr = sched.at(step);
    model.zero_grad();
    double loss = 0;
    for (int64_t micro = 0; micro < A; ++micro) {
      train.next(all_inputs.data(), all_targets.data());
      model.forward(inputs, B, T);
      // In the last micro-batch each stretch of the gradient is final once
      // backward leaves it: its sum over ranks starts then, while the layers
      // below are differentiated (the head's 39 M floats on d12 travel during
      // the whole body's backward).
      if (overlap && micro == A - 1)
        model.set_grad_ready_hook(
            [&](int64_t off, int64_t n) { comm.start_all_reduce_sum(model.grads() + off, n); });
      loss += model.cross_entropy_backward(targets, weights.data());
    }
    if (overlap) {
      model.set_grad_ready_hook({});
      comm.wait_all();
    }
    comm.all_reduce_sum(&loss, 1);
    SHOG_CHECK(std::isfinite(loss), ErrorKind::numeric, fmt::format("step {}", step + 1),
               "loss is {}; stopping without saving (the last checkpoint in {} is intact)", loss, cfg.out_dir);
    double gnorm;
    if (sharded) {
      gnorm = sharded->step(model.params(), model.grads(), lr, float(cfg.grad_clip));
      model.sync_compute_weights();
    } else {
      if (!overlap) comm.all_reduce_sum(model.grads(), model.num_floats());
      gnorm = muon ? muon->step(model.params(), model.grads(), lr, lr / cfg.lr * cfg.muon_lr, float(cfg.grad_clip),
                                model.params16())
                   : whole->step(model.params(), model.grads(), lr, float(cfg.grad_clip), model.params16());
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (step > start) sum_time += secs, ++timed;  // the first step pays one-off allocation
    const double tps = double(step_tokens) / secs, mfu = step_flops / secs / peak;
    res.final_train_loss = loss;

    bool validated = false;
    if (val && ((step + 1) % cfg.val_every == 0 || step + 1 == cfg.steps)) {
      val->rewind();
      const int64_t nb = std::min<int64_t>(cfg.val_batches, int64_t(val->batches_per_epoch()));
      std::vector<float> logp(size_t(B * T));
      double vsum = 0;
      for (int64_t k = 0; k < nb; ++k) {
        val->next(all_inputs.data(), all_targets.data());
        model.forward(inputs, B, T);
        model.token_logprobs(targets, logp.data());
        for (float x : logp) vsum -= x;
      }
      comm.all_reduce_sum(&vsum, 1);
      res.final_val_loss = vsum / double(nb * GB * T);
      validated = true;
    }
    if (root) {
      metrics->append({{"step", step + 1}, {"loss", loss}, {"lr", lr}, {"grad_norm", gnorm},
                       {"tokens_per_s", tps}, {"mfu", mfu}, {"step_s", secs}});
      if (validated) metrics->append({{"step", step + 1}, {"val_loss", res.final_val_loss}});
    }
    std::string line = fmt::format("loss {:.4f} | lr {:.2e} | {:.0f} tok/s | MFU {:.1f}%", loss, lr, tps, 100 * mfu);
    if (validated) line += fmt::format(" | val {:.4f}", res.final_val_loss);
    progress.show(step + 1, line, secs);
    if ((step + 1) % cfg.ckpt_every == 0 || step + 1 == end) checkpoint(step + 1);
    res.steps_done = step + 1;
  }
  if (timed) {
    // The peak is measured again after training and the higher of the two
    // kept: a 0.3 s measurement can land in one of this VM's slow spells
    // (the demo once measured 215 GFLOP/s at the start against its usual
    // ~400 and reported an MFU of 110%).
    double final_peak = peak;
    if (root) {
      const double again = ops::measure_gemm_peak_flops(dt, 0.3) * double(W);
      if (again > 1.2 * peak)
        std::fprintf(stderr, "measured %s GEMM peak again after training: %.1f GFLOP/s (MFU is against this one)\n",
                     cfg.dtype.c_str(), again / double(W) / 1e9);
      final_peak = std::max(peak, again);
    }
    res.tokens_per_second = double(step_tokens) / (sum_time / double(timed));
    res.mfu = step_flops / (sum_time / double(timed)) / final_peak;
  }
  return res;
}

}  // namespace shog
