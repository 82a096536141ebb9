#include "data/prepare.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "core/progress.h"
#include "data/token_shard.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace fs = std::filesystem;

namespace shog {

namespace {

constexpr uint32_t kMetaVersion = 1;
// Text handed to the tokenizer per encode_batch call: large enough to keep
// every thread busy, small enough to bound memory and keep the bar moving.
constexpr size_t kBatchBytes = 8u << 20;

bool is_blank_line(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; });
}

// Refuses non-UTF-8 input up front, before any tokenizing, naming where.
void check_utf8(const MappedFile& f) {
  size_t ok = utf8::valid_prefix(f.data(), f.size());
  if (ok == f.size()) return;
  uint64_t line = 1 + uint64_t(std::count(f.data(), f.data() + ok, uint8_t('\n')));
  throw Error(ErrorKind::bad_input, f.path(),
              fmt::format("byte offset {} (line {}): invalid UTF-8 (byte 0x{:02x}); convert the file to UTF-8 first",
                          ok, line, f.data()[ok]));
}

// Collects one split's tokens and writes them as numbered shards into the
// staging directory, starting a new shard at a document boundary once the
// current one holds shard_tokens tokens.
class ShardSink {
 public:
  ShardSink(std::string split, std::string staging, uint32_t vocab, uint64_t shard_tokens)
      : split_(std::move(split)), staging_(std::move(staging)), vocab_(vocab), shard_tokens_(shard_tokens) {}

  void add_document(std::optional<int32_t> bos, const std::vector<int32_t>& ids) {
    size_t n = ids.size() + (bos ? 1 : 0);
    if (!buf_.empty() && buf_.size() + n > shard_tokens_) flush();
    if (bos) buf_.push_back(*bos);
    buf_.insert(buf_.end(), ids.begin(), ids.end());
    summary_.documents++;
    summary_.tokens += n;
  }

  void flush() {
    if (buf_.empty()) return;
    auto name = fmt::format("{}_{:03d}.bin", split_, files_.size());
    uint64_t sum = write_token_shard(staging_ + "/" + name, buf_, vocab_);
    files_.push_back({{"file", name}, {"tokens", buf_.size()}, {"checksum", fmt::format("{:016x}", sum)}});
    buf_.clear();
  }

  const SplitSummary& summary() const { return summary_; }
  const nlohmann::json& files() const { return files_; }

 private:
  std::string split_, staging_;
  uint32_t vocab_;
  uint64_t shard_tokens_;
  std::vector<int32_t> buf_;
  SplitSummary summary_;
  nlohmann::json files_ = nlohmann::json::array();
};

// Removes the staging directory unless the preparation was published, and
// the output directory too if this run created it and left it empty.
struct StagingGuard {
  std::string staging, out;
  bool created_out = false, published = false;
  ~StagingGuard() {
    std::error_code ec;
    fs::remove_all(staging, ec);
    if (!published && created_out) fs::remove(out, ec);  // only succeeds if empty
  }
};

// Documents of one file, as views into its mapping.
std::vector<std::string_view> file_documents(const MappedFile& f, CorpusFormat format, const std::string& field,
                                             std::vector<std::string>& owned) {
  std::string_view text(reinterpret_cast<const char*>(f.data()), f.size());
  if (format == CorpusFormat::text) return split_paragraphs(text);
  std::vector<std::string_view> docs;
  uint64_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (is_blank_line(line)) continue;
    auto where = fmt::format("{}:{}", f.path(), line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(ErrorKind::bad_input, where, fmt::format("not valid JSON: {}", e.what()));
    }
    SHOG_CHECK(j.is_object(), ErrorKind::bad_input, where, "expected a JSON object, got {}", j.type_name());
    auto it = j.find(field);
    SHOG_CHECK(it != j.end(), ErrorKind::bad_input, where, "no \"{}\" field", field);
    SHOG_CHECK(it->is_string(), ErrorKind::bad_input, where, "field \"{}\" is a {}, not a string", field,
               it->type_name());
    owned.push_back(it->get<std::string>());
  }
  for (const auto& s : owned) docs.push_back(s);
  return docs;
}

}  // namespace

std::vector<std::string_view> split_paragraphs(std::string_view text) {
  std::vector<std::string_view> docs;
  size_t start = std::string_view::npos, end = 0;  // the open paragraph, if any
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    size_t line_end = nl == std::string_view::npos ? text.size() : nl + 1;
    if (is_blank_line(text.substr(pos, (nl == std::string_view::npos ? text.size() : nl) - pos))) {
      if (start != std::string_view::npos) docs.push_back(text.substr(start, end - start));
      start = std::string_view::npos;
    } else {
      if (start == std::string_view::npos) start = pos;
      end = line_end;
    }
    pos = line_end;
  }
  if (start != std::string_view::npos) docs.push_back(text.substr(start, end - start));
  return docs;
}

std::vector<std::string> corpus_files(const std::vector<std::string>& inputs, CorpusFormat format) {
  SHOG_CHECK(!inputs.empty(), ErrorKind::invalid_argument, "", "no input files given");
  const std::string ext = format == CorpusFormat::text ? ".txt" : ".jsonl";
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    auto st = fs::status(in, ec);
    SHOG_CHECK(fs::exists(st), ErrorKind::io, in, "no such file or directory");
    if (!fs::is_directory(st)) {
      files.push_back(in);
      continue;
    }
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::follow_directory_symlink, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file() && it->path().extension() == ext) found.push_back(it->path().string());
    SHOG_CHECK(!ec, ErrorKind::io, in, "cannot list directory: {}", ec.message());
    SHOG_CHECK(!found.empty(), ErrorKind::bad_input, in, "directory holds no *{} files", ext);
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

PrepareSummary prepare_shards(const PrepareOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  SHOG_CHECK(opt.val_fraction >= 0 && opt.val_fraction < 1, ErrorKind::invalid_argument, "--val-fraction",
             "{} is not in [0, 1)", opt.val_fraction);
  SHOG_CHECK(opt.shard_tokens > 0, ErrorKind::invalid_argument, "--shard-tokens", "must be positive");
  SHOG_CHECK(!opt.out_dir.empty(), ErrorKind::invalid_argument, "--out", "no output directory given");
  SHOG_CHECK(!opt.jsonl_field.empty(), ErrorKind::invalid_argument, "--jsonl-field", "empty field name");

  // Everything that can be checked before any work: inputs exist and are
  // UTF-8, the tokenizer loads.
  auto files = corpus_files(opt.inputs, opt.format);
  std::vector<std::unique_ptr<MappedFile>> maps;
  uint64_t total_bytes = 0;
  for (const auto& f : files) {
    maps.push_back(std::make_unique<MappedFile>(f));
    check_utf8(*maps.back());
    total_bytes += maps.back()->size();
  }
  const Tokenizer tok = Tokenizer::load(opt.tokenizer);
  const std::string tok_bytes = read_file(opt.tokenizer);
  const uint32_t vocab = uint32_t(tok.vocab_size());
  const std::optional<int32_t> bos = tok.special_id("<|bos|>");

  StagingGuard guard;
  guard.out = opt.out_dir;
  guard.created_out = !fs::exists(opt.out_dir);
  make_dirs(opt.out_dir);
  guard.staging = opt.out_dir + "/.prepare.tmp." + std::to_string(::getpid());
  {
    std::error_code ec;
    fs::remove_all(guard.staging, ec);
  }
  make_dirs(guard.staging);

  ShardSink train("train", guard.staging, vocab, opt.shard_tokens), val("val", guard.staging, vocab, opt.shard_tokens);
  const double f = opt.val_fraction;
  uint64_t doc_index = 0;
  std::optional<ProgressBar> bar;
  if (opt.progress) bar.emplace("prepare", total_bytes, "MB", 1e6);
  uint64_t bytes_done = 0;

  std::vector<std::string> batch;
  size_t batch_bytes = 0;
  auto encode_pending = [&] {
    if (batch.empty()) return;
    auto ids = tok.encode_batch(batch, opt.threads);
    for (const auto& d : ids) {
      bool to_val = std::floor(double(doc_index + 1) * f) > std::floor(double(doc_index) * f);
      (to_val ? val : train).add_document(bos, d);
      ++doc_index;
    }
    bytes_done += batch_bytes;
    if (bar) bar->update(bytes_done);
    batch.clear();
    batch_bytes = 0;
  };
  for (const auto& m : maps) {
    std::vector<std::string> owned;  // JSONL documents, unescaped
    uint64_t doc_bytes = 0;
    for (std::string_view d : file_documents(*m, opt.format, opt.jsonl_field, owned)) {
      if (d.empty()) continue;
      batch.emplace_back(d);
      batch_bytes += d.size();
      doc_bytes += d.size();
      if (batch_bytes >= kBatchBytes) encode_pending();
    }
    // Bytes between documents (blank lines, JSON syntax) count as done once
    // the file is queued, so the bar ends at the total.
    bytes_done += m->size() > doc_bytes ? m->size() - doc_bytes : 0;
  }
  encode_pending();
  if (bar) {
    bar->update(total_bytes);
    bar->finish();
  }

  SHOG_CHECK(doc_index > 0, ErrorKind::bad_input, files.size() == 1 ? files[0] : opt.inputs.front(),
             "empty corpus: no documents in {} input file(s) ({} bytes)", files.size(), total_bytes);
  SHOG_CHECK(train.summary().tokens > 0, ErrorKind::bad_input, opt.inputs.front(),
             "the training split is empty ({} documents)", doc_index);
  SHOG_CHECK(f == 0 || val.summary().documents > 0, ErrorKind::bad_input, opt.inputs.front(),
             "the validation split is empty: {} documents x --val-fraction {} selects none; raise the fraction, "
             "or pass --val-fraction 0 for no validation split",
             doc_index, f);
  train.flush();
  val.flush();

  // Publish: drop the old meta.json first so that a crash midway leaves a
  // directory that readers refuse, then move the shards in, delete shards of
  // an earlier preparation that this one did not replace, and write meta.json.
  const std::string meta_path = opt.out_dir + "/meta.json";
  std::error_code ec;
  fs::remove(meta_path, ec);
  SHOG_CHECK(!ec, ErrorKind::io, meta_path, "cannot remove: {}", ec.message());
  PrepareSummary out;
  out.vocab_size = vocab;
  out.input_files = files.size();
  out.input_bytes = total_bytes;
  out.train = train.summary();
  out.val = val.summary();
  std::vector<std::string> published;
  for (auto* split : {&train, &val})
    for (const auto& fj : split->files()) {
      auto name = fj["file"].get<std::string>();
      fs::rename(guard.staging + "/" + name, opt.out_dir + "/" + name, ec);
      SHOG_CHECK(!ec, ErrorKind::io, opt.out_dir + "/" + name, "cannot move into place: {}", ec.message());
      published.push_back(name);
      (split == &train ? out.train : out.val).shards.push_back(opt.out_dir + "/" + name);
    }
  for (const auto& e : fs::directory_iterator(opt.out_dir, ec)) {
    auto name = e.path().filename().string();
    bool ours = (name.starts_with("train_") || name.starts_with("val_")) && name.ends_with(".bin");
    if (ours && std::find(published.begin(), published.end(), name) == published.end()) {
      fs::remove(e.path(), ec);
      SHOG_CHECK(!ec, ErrorKind::io, e.path().string(), "cannot remove stale shard: {}", ec.message());
    }
  }
  fsync_dir(opt.out_dir);

  nlohmann::json inputs = nlohmann::json::array();
  for (size_t i = 0; i < files.size(); ++i) inputs.push_back({{"path", files[i]}, {"bytes", maps[i]->size()}});
  nlohmann::json meta = {
      {"format", "shoggoth-token-shards"},
      {"version", kMetaVersion},
      {"tokenizer",
       {{"path", opt.tokenizer},
        {"fnv1a64", fmt::format("{:016x}", fnv1a64(tok_bytes.data(), tok_bytes.size()))},
        {"vocab_size", vocab},
        {"bos_id", bos ? nlohmann::json(*bos) : nlohmann::json(nullptr)}}},
      {"token_width", shard_token_width(vocab)},
      {"input_format", opt.format == CorpusFormat::text ? "text" : "jsonl"},
      {"document_split", opt.format == CorpusFormat::text ? "paragraph" : "jsonl field \"" + opt.jsonl_field + "\""},
      {"val_fraction", f},
      {"inputs", inputs},
      {"train", {{"documents", out.train.documents}, {"tokens", out.train.tokens}, {"shards", train.files()}}},
      {"val", {{"documents", out.val.documents}, {"tokens", out.val.tokens}, {"shards", val.files()}}},
  };
  write_file_atomic(meta_path, meta.dump(2) + "\n");
  guard.published = true;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

std::vector<std::string> prepared_shards(const std::string& dir, const std::string& split) {
  const std::string meta_path = dir + "/meta.json";
  SHOG_CHECK(file_exists(meta_path), ErrorKind::bad_input, dir,
             "no meta.json: not a prepared shard directory, or its preparation did not finish");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(read_file(meta_path));
    SHOG_CHECK(meta.at("format") == "shoggoth-token-shards", ErrorKind::bad_input, meta_path,
               "not a shoggoth shard index");
    SHOG_CHECK(meta.at("version") == kMetaVersion, ErrorKind::bad_input, meta_path, "unsupported version {}",
               meta.at("version").dump());
    std::vector<std::string> paths;
    for (const auto& s : meta.at(split).at("shards")) paths.push_back(dir + "/" + s.at("file").get<std::string>());
    return paths;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::bad_input, meta_path, e.what());
  }
}

}  // namespace shog
