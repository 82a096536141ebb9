// Bits per byte: how many bits a model needs, on average, to encode each
// byte of a text, given everything before it:
//
//   bpb = (sum over scored tokens of -ln p(token | context)) / ln 2 / bytes
//
// where `bytes` counts the UTF-8 bytes those tokens spell. Unlike loss per
// token it does not depend on the tokenizer, so models with different
// vocabularies compare on the same text. Two kinds of text:
//
//   plain  a text file, as one document: <|bos|> (when the tokenizer has
//          it, as `data prepare` starts documents) then the text's tokens,
//          cut into windows of the context length. Every token but the
//          first is scored exactly once; each window restarts the context
//          (its first token is conditioned on nothing before the window),
//          which costs a little more than a sliding window would.
//   chat   conversations (sft_*.jsonl): each rendered with the chat
//          template, and only the assistant replies scored: their content
//          tokens and the <|end|> that closes each (knowing when to stop is
//          part of the reply), conditioned on the prompt. bytes = the
//          replies' content bytes. This measures how likely a model finds
//          good replies, the quantity SFT optimises.
//
// Samples go through Transformer::forward in packed rows (align/packing.h)
// and Transformer::token_logprobs, several rows per call. A conversation
// longer than the context is skipped and counted.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "align/packing.h"
#include "data/records.h"
#include "eval/eval_model.h"
#include "model/transformer.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace shog {

// The text, independent of any tokenizer.
struct BpbText {
  std::string source;                  // the file, for the report
  bool chat = false;
  std::string plain;                   // !chat: the whole text
  std::vector<Messages> conversations; // chat
};
// Throw shog::Error naming the file: missing (io), empty or malformed (bad_input).
BpbText read_plain_text(const std::string& path);
BpbText read_chat_text(const std::string& path);

struct BitsPerByte {
  double nats = 0;       // -sum ln p over the scored tokens
  int64_t tokens = 0;    // scored tokens
  int64_t bytes = 0;     // UTF-8 bytes they spell
  int64_t skipped = 0;   // conversations longer than the context
  double value() const;           // nats / ln 2 / bytes; NaN when bytes == 0
  double nats_per_token() const;  // NaN when tokens == 0
};

struct BpbOptions {
  int64_t seq_len = 0;     // row length; 0: the model's context
  int64_t batch_rows = 8;  // rows per forward call
};

BitsPerByte bits_per_byte(EvalModel& m, const BpbText& text, const BpbOptions& opt = {});

// The pieces, for tests: the samples a text becomes for one tokenizer
// (mask = 1 on the scored tokens, which never include a sample's first),
// the bytes they spell, and the conversations that did not fit.
struct ScoredSamples {
  std::vector<TokenizedSample> samples;
  int64_t bytes = 0, skipped = 0;
};
ScoredSamples plain_text_windows(const Tokenizer& tok, std::string_view text, int64_t T);
ScoredSamples chat_reply_samples(const ChatTemplate& chat, const std::vector<Messages>& conversations, int64_t T);

// -sum ln p of the masked tokens of all samples (each at most T + 1 tokens)
// and how many there are, with whatever adapter is attached to `m`.
struct NllSum {
  double nats = 0;
  int64_t tokens = 0;
};
NllSum sum_nll(Transformer& m, const std::vector<TokenizedSample>& samples, int64_t T, int64_t batch_rows,
               int32_t pad_id);
// The same per sample, in the order of `samples` (the knowledge probe's).
std::vector<NllSum> sample_nll(Transformer& m, const std::vector<TokenizedSample>& samples, int64_t T,
                               int64_t batch_rows, int32_t pad_id);
// -ln p of each masked token of each sample, in the samples' and the
// tokens' order (the copy probe's); not checked for finiteness.
std::vector<std::vector<double>> token_nll(Transformer& m, const std::vector<TokenizedSample>& samples, int64_t T,
                                           int64_t batch_rows, int32_t pad_id);

}  // namespace shog
