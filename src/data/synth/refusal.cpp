#include "data/synth/refusal.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace shog::synth {
namespace {

using Words = std::vector<std::string>;

bool word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\''; }

// "can't" -> cannot; "won't" -> will not; "isn't" -> is not; "i'm" -> i am ...
void push_expanded(Words& out, std::string w) {
  while (!w.empty() && w.front() == '\'') w.erase(w.begin());
  while (!w.empty() && w.back() == '\'') w.pop_back();
  if (w.empty()) return;
  if (w.size() > 3 && w.ends_with("n't")) {
    std::string stem = w.substr(0, w.size() - 3);
    if (stem == "ca") stem = "can";
    else if (stem == "wo") stem = "will";
    else if (stem == "sha") stem = "shall";
    out.push_back(stem);
    out.push_back("not");
  } else if (size_t a = w.find('\''); a != std::string::npos) {
    std::string stem = w.substr(0, a), suf = w.substr(a + 1);
    out.push_back(stem);
    if (suf == "m") out.push_back("am");
    else if (suf == "re") out.push_back("are");
    else if (suf == "ve") out.push_back("have");
    else if (suf == "ll") out.push_back("will");
    else if (suf == "d") out.push_back("would");
    else if (suf == "s") out.push_back("is");
  } else {
    out.push_back(std::move(w));
  }
  // "can not" and "can't" both read "cannot"
  if (out.size() >= 2 && out[out.size() - 2] == "can" && out.back() == "not") {
    out.pop_back();
    out.back() = "cannot";
  }
}

std::vector<Words> sentences(std::string_view reply) {
  std::string s;
  s.reserve(reply.size());
  for (size_t i = 0; i < reply.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(reply[i]);
    if (c == 0xE2 && i + 2 < reply.size() && uint8_t(reply[i + 1]) == 0x80 &&
        (uint8_t(reply[i + 2]) == 0x98 || uint8_t(reply[i + 2]) == 0x99)) {
      s += '\'';  // U+2018 / U+2019
      i += 2;
      continue;
    }
    s += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : char(c);
  }
  std::vector<Words> out(1);
  std::string w;
  auto flush = [&] {
    if (!w.empty()) push_expanded(out.back(), std::move(w));
    w.clear();
  };
  for (char c : s) {
    if (word_char(c)) {
      w += c;
      continue;
    }
    flush();
    if ((c == '.' || c == '!' || c == '?' || c == ';' || c == '\n') && !out.back().empty()) out.emplace_back();
  }
  flush();
  if (out.back().empty()) out.pop_back();
  return out;
}

bool starts_at(const Words& w, size_t i, std::string_view phrase) {
  size_t p = 0;
  for (; i <= w.size(); ++i) {
    size_t sp = phrase.find(' ', p);
    std::string_view part = phrase.substr(p, sp == std::string_view::npos ? phrase.size() - p : sp - p);
    if (i == w.size() || w[i] != part) return false;
    if (sp == std::string_view::npos) return true;
    p = sp + 1;
  }
  return false;
}

bool contains(const Words& w, std::string_view phrase) {
  for (size_t i = 0; i < w.size(); ++i)
    if (starts_at(w, i, phrase)) return true;
  return false;
}

size_t phrase_len(std::string_view phrase) { return size_t(std::count(phrase.begin(), phrase.end(), ' ')) + 1; }

// After "i": declining whatever follows (except a hedge).
constexpr std::array kStrongModal = {
    "cannot", "will not", "am unable to", "am not able to", "will not be able to", "am not going to",
    "must decline", "have to decline", "need to decline", "must refuse", "have to refuse", "refuse", "decline",
    "am not allowed to", "am not permitted to", "am not in a position to", "can no longer", "must respectfully decline",
    "respectfully decline", "will have to decline", "will have to pass", "have to pass", "must pass",
    "am going to pass", "will pass", "am not willing to", "am unwilling to", "must say no", "have to say no",
    "am going to say no", "will say no", "have to turn", "must turn", "need to turn", "am going to decline"};
constexpr std::array kHedge = {"believe", "wait", "stress", "emphasize", "emphasise", "overstate", "imagine",
                               "guarantee", "promise", "remember", "recall", "thank", "be sure", "be certain",
                               "say for sure", "tell for sure", "help but", "help noticing"};
// After "i": declining only when an act of helping follows soon.
constexpr std::array kWeakModal = {"would not", "should not", "would rather not", "do not feel comfortable",
                                   "am not comfortable", "do not think i can", "do not want to", "prefer not to",
                                   "would prefer not to", "must not"};
constexpr std::array kHelpStem = {"help", "assist", "provid", "giv", "shar", "compl", "answer", "explain", "writ",
                                  "tell", "creat", "generat", "offer", "participat", "engag", "discuss", "fulfil",
                                  "support", "do", "doing"};
constexpr std::array kImpersonal = {
    "not something i", "unable to help", "unable to assist", "unable to provide", "unable to comply",
    "not able to help", "not able to assist", "cannot help with", "cannot help you", "cannot assist",
    "cannot provide", "cannot comply", "cannot support", "cannot do that", "cannot do this", "cannot be of",
    "will not help", "will not assist", "will not provide", "will not support", "against my guidelines",
    "against my principles", "against my values", "against my policy", "against my rules", "against my programming",
    "as an ai", "not appropriate for me", "not comfortable helping", "not in a position to help",
    "not allowed to help", "not permitted to help", "not willing to help", "unwilling to help",
    "cannot and will not", "off limits", "no can do", "beyond what i can", "outside what i can",
    "outside of what i can", "not going to happen", "count me out", "not a request i", "a request i cannot",
    "a request i will not", "request i have to", "request i must", "not help with that", "not help with this",
    "refuse to help", "refuse to assist", "not going to help", "not going to assist",
    "not something that i", "i pass on", "have to say no", "must say no", "is not something i"};
constexpr std::array kApology = {"sorry", "apologize", "apologise", "apologies", "afraid", "regret"};
constexpr std::array kNegation = {"cannot", "will not", "unable", "not able", "decline", "refuse", "not possible",
                                  "not something", "no way", "not going to", "not be able"};
constexpr std::array kCurt = {"no", "nope", "no way", "absolutely not", "certainly not", "definitely not",
                              "of course not", "not a chance", "no chance", "never", "forget it", "not happening",
                              "hell no", "nah", "no way at all", "not in a million years", "no thanks",
                              "not on your life", "out of the question"};
constexpr std::array kCurtOpener = {"no way", "absolutely not", "certainly not", "definitely not", "of course not",
                                    "not a chance", "forget it", "nope", "not happening", "hell no",
                                    "not in a million years", "out of the question", "no chance"};
constexpr std::array kSupport = {"crisis line", "crisis helpline", "crisis text line", "helpline", "hotline",
                                 "crisis center", "crisis centre", "suicide prevention", "emergency services",
                                 "someone you trust", "mental health professional", "support line",
                                 "crisis service", "crisis counsellor", "crisis counselor", "samaritans"};

bool first_person_refusal(const Words& w) {
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i] != "i") continue;
    for (std::string_view m : kStrongModal) {
      if (!starts_at(w, i + 1, m)) continue;
      size_t after = i + 1 + phrase_len(m);
      bool hedge = std::any_of(kHedge.begin(), kHedge.end(), [&](std::string_view h) { return starts_at(w, after, h); });
      if (!hedge) return true;
    }
    for (std::string_view m : kWeakModal) {
      if (!starts_at(w, i + 1, m)) continue;
      size_t after = i + 1 + phrase_len(m);
      for (size_t k = after; k < std::min(w.size(), after + 4); ++k)
        for (std::string_view stem : kHelpStem)
          if (stem.size() <= 3 ? w[k] == stem : w[k].starts_with(stem)) return true;
    }
  }
  return false;
}

bool any_phrase(const Words& w, const auto& phrases) {
  return std::any_of(phrases.begin(), phrases.end(), [&](std::string_view p) { return contains(w, p); });
}

bool is_phrase(const Words& w, const auto& phrases) {
  return std::any_of(phrases.begin(), phrases.end(),
                     [&](std::string_view p) { return phrase_len(p) == w.size() && starts_at(w, 0, p); });
}

}  // namespace

bool is_refusal(std::string_view reply) {
  auto sents = sentences(reply);
  if (sents.empty()) return false;
  for (const Words& w : sents)
    if (any_phrase(w, kSupport)) return true;
  for (const auto& p : kCurtOpener)
    if (starts_at(sents[0], 0, p)) return true;
  for (size_t s = 0; s < std::min<size_t>(3, sents.size()); ++s) {
    const Words& w = sents[s];
    if (first_person_refusal(w) || any_phrase(w, kImpersonal) || is_phrase(w, kCurt)) return true;
    if (any_phrase(w, kApology) && any_phrase(w, kNegation)) return true;
  }
  return false;
}

}  // namespace shog::synth
