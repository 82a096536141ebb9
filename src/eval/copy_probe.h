// Whether a model copies from its context (in-context induction): the loss
// it pays on a run of random tokens the first time it reads it, against the
// second time, in samples <|bos|> r r. A model that can look up what came
// after the current token earlier in the context and continue it pays almost
// nothing for the repeat; one that cannot pays the same twice. This is the
// "repeated random tokens" measure of the induction-head literature.
//
// Why: a chat model that cannot copy cannot restate a held-out request or
// check an answer against its question, and answers the nearest request it
// was trained on instead (docs/demo.md, "Session 22"). Whether a base model
// copies is a property of pretraining alone and takes a second to measure.
//
// Only the tokens of each run after its first are scored (the first token of
// either run cannot be predicted), so the two losses are over the same number
// of tokens; with no copying at all they are equal in expectation.
//
// Blind spot: the repeat always starts run_length tokens after the run, so a
// head that attends that fixed distance back saves it too, without induction
// (copying at any distance). A model trained on natural text has no reason to
// learn one distance, so for those it measures induction in practice; a model
// trained on runs of one length (as the unit test's is) shows only that the
// probe sees copying (docs/demo.md, "Session 24").
#pragma once
#include <cstdint>
#include <vector>

#include "eval/eval_model.h"

namespace shog {

struct CopyProbeOptions {
  int64_t runs = 64;        // samples
  int64_t run_length = 24;  // random tokens per run (each sample is 1 + 2 * run_length tokens)
  uint64_t seed = 1;
  int64_t batch_rows = 8;   // samples per forward pass
};

struct CopyProbeResult {
  double first_nats = 0;   // mean -ln p per scored token of the first run
  double repeat_nats = 0;  // the same for the second run
  int64_t runs = 0, scored_per_run = 0;  // samples, and tokens scored in each run of one
  // Nats per token the model saves on the repeat (0: no copying).
  double saved() const { return first_nats - repeat_nats; }
  // The share of the first run's loss the repeat saves (1: perfect copying).
  double copy_share() const { return first_nats > 0 ? saved() / first_nats : 0.0; }
};

// The runs' tokens are drawn uniformly from `pool` (with repeats), each
// sample starting with `bos`. Throws shog::Error (invalid_argument) when the
// pool is empty, run_length < 2, or a sample does not fit the model's context.
CopyProbeResult probe_copying(Transformer& m, const std::vector<int32_t>& pool, int32_t bos, int32_t pad_id,
                              const CopyProbeOptions& opt = {});

// With an evaluated model: its adapter attached, the pool every ordinary
// (non-special) token of its tokenizer, bos its <|bos|> (or the first pool
// token when it has none).
CopyProbeResult probe_copying(EvalModel& m, const CopyProbeOptions& opt = {});

}  // namespace shog
