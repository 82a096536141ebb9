// Helpful tasks with program-checkable answers: arithmetic, unit
// conversion, counting, spelling, string manipulation and look-ups in a
// small fact table. Every task is a prompt frame, an entity and an answer
// phrasing, each from the split's own part of its pool; the checker holds
// the answer and how to match it (checker.h).
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/error.h"
#include "data/synth/families.h"
#include "data/synth/replies.h"

namespace shog::synth {
namespace {

// Common English nouns for counting, spelling and string tasks: lower-case
// ASCII, 3 to 10 letters, none of them a fact-table subject.
const Pool& words() {
  static const Pool p("word", {
      "anchor", "angle", "ankle", "arrow", "attic", "autumn", "bakery", "balcony", "bamboo", "banner",
      "barrel", "basket", "beacon", "bench", "blanket", "bottle", "bracelet", "breeze", "brick", "bridge",
      "bucket", "button", "cabin", "cable", "camera", "candle", "canvas", "canyon", "carpet", "castle",
      "cellar", "chain", "chapter", "cherry", "chimney", "circle", "cliff", "clock", "cloud", "coffee",
      "collar", "comet", "copper", "cotton", "cradle", "crystal", "cushion", "desert", "diamond", "drawer",
      "engine", "fabric", "feather", "fence", "festival", "fiddle", "finger", "flame", "flute", "folder",
      "fountain", "fossil", "galaxy", "gadget", "glacier", "glove", "granite", "gravel", "guitar", "hammer",
      "harbor", "harvest", "helmet", "hollow", "honey", "horizon", "island", "ivory", "jacket", "jigsaw",
      "jungle", "kettle", "ladder", "lantern", "laptop", "leather", "locket", "magnet", "maple", "marble",
      "meadow", "melody", "mirror", "mitten", "mosaic", "muffin", "museum", "napkin", "needle", "noodle",
      "notebook", "oasis", "ocean", "olive", "orbit", "oven", "paddle", "palace", "panel", "parcel",
      "pebble", "pencil", "pepper", "piano", "pillow", "pirate", "planet", "pocket", "pottery", "puzzle",
      "pyramid", "quilt", "radio", "rainbow", "raisin", "ribbon", "riddle", "river", "rocket", "saddle",
      "sailor", "salad", "sandal", "satchel", "saucer", "shadow", "shovel", "silver", "sketch", "sleeve",
      "spoon", "statue", "stove", "summit", "sunset", "sweater", "table", "teapot", "temple", "thimble",
      "thunder", "ticket", "timber", "tower", "tractor", "tunnel", "turnip", "umbrella", "valley",
      "velvet", "village", "violin", "volcano", "wagon", "wallet", "walnut", "whistle", "window", "winter",
      "wizard", "wool", "yogurt", "zipper", "acorn", "almond", "apron", "atlas", "badge", "ballet",
      "biscuit", "blossom", "bonnet", "branch", "bubble", "cinema", "compass", "cookie", "cupboard", "dentist",
      "doorbell", "eraser", "fireplace", "flannel", "garage", "goblet", "gutter", "hammock", "hedge", "icicle",
      "jelly", "journal", "kitchen", "lettuce", "library", "mailbox", "meteor", "morning", "mustard",
      "orchard", "orchestra", "paint", "pasta", "pavement", "pendant", "picnic", "pillar", "plaster", "poster",
      "pretzel", "printer", "pudding", "quarry", "railway", "recipe", "robot", "rooftop", "sandbox", "sausage",
      "scissors", "seashell", "sofa", "sponge", "stadium", "staple", "sunflower", "tablet", "tent", "thread",
      "toaster", "towel", "trolley", "tulip", "vase", "vessel", "waffle", "wardrobe", "wheel", "workshop",
  });
  return p;
}

struct Task {
  std::string family, task, prompt, right, wrong;
  const Pool* answers;      // answer phrasings, filled with `vars` and {r}
  std::vector<std::pair<std::string, std::string>> vars;
  nlohmann::ordered_json checker;
};

std::string answer_text(const Task& t, size_t tmpl, const std::string& value) {
  Vars v;
  for (const auto& [k, x] : t.vars) v.push_back({k, x});
  v.push_back({"r", value});
  return capitalize(fill(t.answers->item(tmpl), v));
}

nlohmann::ordered_json checker(const std::string& task, const char* match, const std::string& answer) {
  return {{"kind", "helpful"}, {"task", task}, {"match", match}, {"answer", answer}};
}

// --- arithmetic ---------------------------------------------------------------

const Pool& arith_frames() {
  static const Pool p("arith_frame", {
      "What is {expr}?", "Calculate {expr}.", "How much is {expr}?", "Work out {expr} for me.",
      "Please compute {expr}.", "Tell me what {expr} equals.", "Quick maths: what is {expr}?",
      "Can you solve {expr}?", "What does {expr} come to?", "Find the value of {expr}.",
  });
  return p;
}

const Pool& arith_forms(int op) {
  static const Pool add("arith_form.add", {"{a} plus {b}", "{a} + {b}", "the sum of {a} and {b}", "{a} added to {b}"});
  static const Pool sub("arith_form.sub",
                        {"{a} minus {b}", "{a} - {b}", "{b} subtracted from {a}", "{a} take away {b}"});
  static const Pool mul("arith_form.mul",
                        {"{a} times {b}", "{a} * {b}", "{a} multiplied by {b}", "the product of {a} and {b}"});
  return op == 0 ? add : op == 1 ? sub : mul;
}

const Pool& arith_answers() {
  static const Pool p("arith_answer", {
      "{expr} is {r}.", "{a} {sym} {b} = {r}.", "The answer is {r}.", "That comes to {r}.", "It is {r}.",
      "The result is {r}.", "That makes {r}.", "You get {r}.", "It equals {r}.",
  });
  return p;
}

Task arithmetic(Rng& rng, Split s, Provenance& prov) {
  static const char* kTask[3] = {"add", "subtract", "multiply"};
  static const char* kSym[3] = {"+", "-", "*"};
  int op = int(rng.below(3));
  long a = 0, b = 0;
  std::string key;
  do {  // operands: a key of the open space "arith", held out by hash
    if (op == 0) a = long(rng.below(21)), b = long(rng.below(21));
    if (op == 1) a = 1 + long(rng.below(20)), b = long(rng.below(uint64_t(a) + 1));
    if (op == 2) a = 2 + long(rng.below(11)), b = 2 + long(rng.below(11));
    key = fmt::format("{}{}{}", a, kSym[op], b);
  } while (split_of_key("arith", key) != s);
  prov.push_back("arith#" + key);
  long r = op == 0 ? a + b : op == 1 ? a - b : a * b;
  long d = 1 + long(rng.below(3));
  long wrong = rng.below(2) == 0 && r - d >= 0 ? r - d : r + d;
  std::string sa = std::to_string(a), sb = std::to_string(b);
  std::string expr = fill(arith_forms(op).pick(rng, s, prov), {{"a", sa}, {"b", sb}});
  Task t{"arithmetic", kTask[op], capitalize(fill(arith_frames().pick(rng, s, prov), {{"expr", expr}})),
         std::to_string(r), std::to_string(wrong), &arith_answers(),
         {{"expr", expr}, {"a", sa}, {"b", sb}, {"sym", kSym[op]}}, {}};
  t.checker = checker(t.task, "number", t.right);
  return t;
}

// --- unit conversion ------------------------------------------------------------

struct Conversion {
  const char *big, *bigs, *small, *smalls;
  long factor;
};
constexpr Conversion kConversions[] = {
    {"kilometre", "kilometres", "metre", "metres", 1000},     {"metre", "metres", "centimetre", "centimetres", 100},
    {"centimetre", "centimetres", "millimetre", "millimetres", 10}, {"kilogram", "kilograms", "gram", "grams", 1000},
    {"litre", "litres", "millilitre", "millilitres", 1000},   {"hour", "hours", "minute", "minutes", 60},
    {"minute", "minutes", "second", "seconds", 60},          {"day", "days", "hour", "hours", 24},
    {"week", "weeks", "day", "days", 7},                     {"year", "years", "month", "months", 12},
    {"foot", "feet", "inch", "inches", 12},                  {"yard", "yards", "foot", "feet", 3},
    {"tonne", "tonnes", "kilogram", "kilograms", 1000},      {"decade", "decades", "year", "years", 10},
    {"century", "centuries", "year", "years", 100},
};

const Pool& unit_frames() {
  static const Pool p("unit_frame", {
      "How many {to} are in {q} {from}?", "Convert {q} {from} to {to}.", "What is {q} {from} in {to}?",
      "{q} {from} is how many {to}?", "Express {q} {from} in {to}.", "How many {to} make {q} {from}?",
      "Change {q} {from} into {to}.", "Tell me {q} {from} in {to}.",
  });
  return p;
}

const Pool& unit_answers() {
  static const Pool p("unit_answer", {
      "{q} {from} is {r} {tor}.", "That is {r} {tor}.", "It comes to {r} {tor}.", "{q} {from} equals {r} {tor}.",
      "The answer is {r} {tor}.", "You get {r} {tor}.",
  });
  return p;
}

Task units(Rng& rng, Split s, Provenance& prov) {
  size_t ci;
  bool down;
  long q;
  std::string key;
  do {
    ci = size_t(rng.below(std::size(kConversions)));
    down = rng.below(2) == 0;
    q = 1 + long(rng.below(12));
    key = fmt::format("{}{}{}", q, down ? ">" : "<", kConversions[ci].big);
  } while (split_of_key("units", key) != s);
  prov.push_back("units#" + key);
  const Conversion& c = kConversions[ci];
  long amount = down ? q : q * c.factor, r = down ? q * c.factor : q;
  auto unit = [](long n, const char* one, const char* many) { return std::string(n == 1 ? one : many); };
  std::string from = down ? unit(amount, c.big, c.bigs) : unit(amount, c.small, c.smalls);
  std::string to = down ? c.smalls : c.bigs;
  long d = down ? c.factor / 10 + 1 : 1 + long(rng.below(2));
  long wrong = rng.below(2) == 0 && r - d > 0 ? r - d : r + d;
  std::string tor = down ? unit(r, c.small, c.smalls) : unit(r, c.big, c.bigs);
  Task t{"units", "convert", capitalize(fill(unit_frames().pick(rng, s, prov),
                                             {{"q", std::to_string(amount)}, {"from", from}, {"to", to}})),
         std::to_string(r), std::to_string(wrong), &unit_answers(),
         {{"q", std::to_string(amount)}, {"from", from}, {"tor", tor}}, {}};
  t.checker = checker(t.task, "number", t.right);
  return t;
}

// --- counting, spelling, strings --------------------------------------------------

Task letter_count(Rng& rng, Split s, Provenance& prov) {
  static const Pool frames("letter_count_frame", {
      "How many letters are in the word {w}?", "How many letters does {w} have?", "Count the letters in {w}.",
      "What is the number of letters in \"{w}\"?", "How long is the word {w}, in letters?",
      "Tell me how many letters {w} has.",
  });
  static const Pool answers("letter_count_answer", {
      "The word {w} has {r} letters.", "\"{w}\" has {r} letters.", "There are {r} letters in {w}.",
      "{w} is {r} letters long.", "It has {r} letters.",
  });
  const std::string& w = words().pick(rng, s, prov);
  long r = long(w.size());
  Task t{"counting", "letter_count", capitalize(fill(frames.pick(rng, s, prov), {{"w", w}})), std::to_string(r),
         std::to_string(r + (rng.below(2) ? 1 : -1)), &answers, {{"w", w}}, {}};
  t.checker = checker(t.task, "number", t.right);
  return t;
}

Task letter_occurrence(Rng& rng, Split s, Provenance& prov) {
  static const Pool frames("letter_occurrence_frame", {
      "How many times does the letter {c} appear in {w}?", "Count the letter {c} in the word {w}.",
      "How many {c}'s are in {w}?", "In the word {w}, how often does {c} occur?",
      "How often does the letter {c} show up in {w}?", "Tell me how many times {c} appears in \"{w}\".",
  });
  static const Pool answers("letter_occurrence_answer", {
      "The letter {c} appears in {w} {r} {times}.", "I count {r} of the letter {c} in {w}.",
      "{w} contains the letter {c} {r} {times}.", "The count is {r}.", "In {w}, {c} shows up {r} {times}.",
  });
  const std::string& w = words().pick(rng, s, prov);
  char c;
  if (rng.below(4) != 0) {
    c = w[rng.below(w.size())];
  } else {
    std::string absent;
    for (char x = 'a'; x <= 'z'; ++x)
      if (w.find(x) == std::string::npos) absent += x;
    c = absent[rng.below(absent.size())];
  }
  long r = long(std::count(w.begin(), w.end(), c));
  long wrong = r == 0 ? 1 : rng.below(2) ? r + 1 : r - 1;
  std::string sc(1, c);
  Task t{"counting", "letter_occurrence", capitalize(fill(frames.pick(rng, s, prov), {{"w", w}, {"c", sc}})),
         std::to_string(r), std::to_string(wrong), &answers, {{"w", w}, {"c", sc}, {"times", r == 1 ? "time" : "times"}},
         {}};
  t.checker = checker(t.task, "number", t.right);
  return t;
}

Task spell_backwards(Rng& rng, Split s, Provenance& prov) {
  static const Pool frames("backwards_frame", {
      "Spell {w} backwards.", "How do you spell {w} backwards?", "Write the word {w} in reverse.",
      "Reverse the letters of {w}.", "What is {w} spelled backwards?",
      "Spell the word {w} from the last letter to the first.",
  });
  static const Pool answers("backwards_answer", {
      "{w} spelled backwards is {r}.", "Backwards, {w} is {r}.", "Reversed, it reads {r}.", "The reversed word is {r}.",
      "In reverse: {r}.",
  });
  const std::string& w = words().pick(rng, s, prov);
  std::string r(w.rbegin(), w.rend()), wrong = r;
  size_t i = rng.below(r.size() - 1);
  while (wrong[i] == wrong[i + 1]) i = (i + 1) % (r.size() - 1);  // every word has two different neighbours
  std::swap(wrong[i], wrong[i + 1]);
  Task t{"spelling", "spell_backwards", capitalize(fill(frames.pick(rng, s, prov), {{"w", w}})), r, wrong, &answers,
         {{"w", w}}, {}};
  t.checker = checker(t.task, "word", t.right);
  return t;
}

std::string upper(std::string w) {
  for (char& c : w)
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  return w;
}

Task uppercase(Rng& rng, Split s, Provenance& prov) {
  static const Pool frames("uppercase_frame", {
      "Write {w} in capital letters.", "Convert {w} to uppercase.", "What is {w} in all caps?",
      "Make the word {w} uppercase.", "Give me {w} in upper case.", "Change {w} to capital letters.",
  });
  static const Pool answers("uppercase_answer", {
      "In capital letters: {r}.", "{w} in all caps is {r}.", "Here it is in uppercase: {r}.", "That would be {r}.",
      "Uppercase: {r}.",
  });
  const std::string& w = words().pick(rng, s, prov);
  std::string r = upper(w), wrong = r;
  wrong[rng.below(wrong.size())] += 'a' - 'A';  // one letter left lower-case
  Task t{"strings", "uppercase", capitalize(fill(frames.pick(rng, s, prov), {{"w", w}})), r, wrong, &answers,
         {{"w", w}}, {}};
  t.checker = checker(t.task, "word_case", t.right);
  return t;
}

Task reverse_words(Rng& rng, Split s, Provenance& prov) {
  static const Pool frames("reverse_words_frame", {
      "Reverse the order of the words in: {p}", "Put these words in reverse order: {p}",
      "Write the words \"{p}\" backwards, word by word.", "Say these words in the opposite order: {p}",
      "Flip the word order of: {p}", "Rearrange \"{p}\" so the last word comes first.",
  });
  static const Pool answers("reverse_words_answer", {
      "Reversed, that is: {r}.", "The words in reverse order: {r}.", "That gives: {r}.", "Here you go: {r}.",
      "In the opposite order: {r}.",
  });
  size_t n = 3 + rng.below(2);
  std::vector<std::string> ws;
  while (ws.size() < n) {
    Provenance p1;
    const std::string& w = words().pick(rng, s, p1);
    if (std::find(ws.begin(), ws.end(), w) != ws.end()) continue;
    ws.push_back(w);
    prov.push_back(p1[0]);
  }
  std::string p, r, wrong;
  for (size_t i = 0; i < n; ++i) {
    p += (i ? " " : "") + ws[i];
    r += (i ? " " : "") + ws[n - 1 - i];
  }
  wrong = p;  // left as it was
  Task t{"strings", "reverse_words", capitalize(fill(frames.pick(rng, s, prov), {{"p", p}})), r, wrong, &answers,
         {}, {}};
  t.checker = checker(t.task, "word", t.right);
  return t;
}

Task edge_letter(Rng& rng, Split s, Provenance& prov, bool first) {
  static const Pool first_frames("first_letter_frame", {
      "What is the first letter of {w}?", "Which letter does {w} start with?", "What letter begins the word {w}?",
      "Tell me the first letter of \"{w}\".", "{w} starts with which letter?", "Name the first letter in {w}.",
  });
  static const Pool first_answers("first_letter_answer", {
      "The first letter of {w} is {r}.", "{w} starts with {r}.", "It begins with the letter {r}.",
      "The word starts with {r}.", "Its first letter is {r}.",
  });
  static const Pool last_frames("last_letter_frame", {
      "What is the last letter of {w}?", "Which letter does {w} end with?", "What letter ends the word {w}?",
      "Tell me the last letter of \"{w}\".", "{w} ends with which letter?", "Name the final letter in {w}.",
  });
  static const Pool last_answers("last_letter_answer", {
      "The last letter of {w} is {r}.", "{w} ends with {r}.", "It ends with the letter {r}.",
      "The word ends with {r}.", "Its final letter is {r}.",
  });
  const std::string& w = words().pick(rng, s, prov);
  char c = first ? w.front() : w.back();
  char wrong = char('a' + (c - 'a' + 1 + int(rng.below(25))) % 26);
  Task t{"strings", first ? "first_letter" : "last_letter",
         capitalize(fill((first ? first_frames : last_frames).pick(rng, s, prov), {{"w", w}})), std::string(1, c),
         std::string(1, wrong), first ? &first_answers : &last_answers, {{"w", w}}, {}};
  t.checker = checker(t.task, "letter", t.right);
  return t;
}

// --- facts ------------------------------------------------------------------------

struct Relation {
  const char* name;
  bool numeric;
  std::vector<std::pair<std::string, std::string>> facts;  // subject -> object
  std::vector<std::string> frames, answers;
  std::map<std::string, std::vector<std::string>> also;    // accepted alternatives
};

const std::vector<Relation>& relations() {
  static const std::vector<Relation> r = {
      {"capital", false,
       {{"France", "Paris"}, {"Germany", "Berlin"}, {"Italy", "Rome"}, {"Spain", "Madrid"}, {"Portugal", "Lisbon"},
        {"Japan", "Tokyo"}, {"China", "Beijing"}, {"Egypt", "Cairo"}, {"Kenya", "Nairobi"}, {"Canada", "Ottawa"},
        {"Mexico", "Mexico City"}, {"Brazil", "Brasilia"}, {"Argentina", "Buenos Aires"}, {"Peru", "Lima"},
        {"Chile", "Santiago"}, {"Russia", "Moscow"}, {"Norway", "Oslo"}, {"Sweden", "Stockholm"},
        {"Finland", "Helsinki"}, {"Denmark", "Copenhagen"}, {"Poland", "Warsaw"}, {"Greece", "Athens"},
        {"Turkey", "Ankara"}, {"India", "New Delhi"}, {"Thailand", "Bangkok"}, {"Vietnam", "Hanoi"},
        {"Indonesia", "Jakarta"}, {"Australia", "Canberra"}, {"Ireland", "Dublin"}, {"Austria", "Vienna"},
        {"Hungary", "Budapest"}, {"Cuba", "Havana"}, {"Iran", "Tehran"}, {"Ghana", "Accra"}, {"Nigeria", "Abuja"},
        {"Morocco", "Rabat"}, {"Belgium", "Brussels"}, {"the Netherlands", "Amsterdam"}, {"Switzerland", "Bern"},
        {"Colombia", "Bogota"}, {"South Korea", "Seoul"}, {"the Philippines", "Manila"}, {"Iceland", "Reykjavik"},
        {"Czechia", "Prague"}, {"Ukraine", "Kyiv"}},
       {"What is the capital of {s}?", "Which city is the capital of {s}?", "Name the capital city of {s}.",
        "What city is the capital of {s}?", "Tell me the capital of {s}.", "The capital of {s} is which city?"},
       {"The capital of {s} is {r}.", "{r} is the capital of {s}.", "Its capital is {r}.", "{s} has {r} as its capital.",
        "The capital city is {r}."},
       {}},
      {"animal_sound", false,
       {{"cow", "moo"}, {"dog", "woof"}, {"cat", "meow"}, {"sheep", "baa"}, {"duck", "quack"}, {"pig", "oink"},
        {"horse", "neigh"}, {"lion", "roar"}, {"owl", "hoot"}, {"snake", "hiss"}, {"bee", "buzz"}, {"frog", "croak"},
        {"mouse", "squeak"}, {"wolf", "howl"}, {"donkey", "hee-haw"}, {"crow", "caw"}, {"goose", "honk"},
        {"rooster", "cock-a-doodle-doo"}, {"turkey", "gobble"}, {"dove", "coo"}, {"chick", "cheep"},
        {"bear", "growl"}, {"elephant", "trumpet"}},
       {"What sound does {an} {s} make?", "What noise does {an} {s} make?", "How does {an} {s} sound?",
        "Which sound do you hear from {an} {s}?", "What does {an} {s} say?", "{An} {s} makes what noise?"},
       {"{an} {s} says {r}.", "It goes {r}.", "{an} {s} makes a {r} sound.", "The sound is {r}.", "You hear {r}."},
       {{"woof", {"bark"}}, {"meow", {"miaow"}}, {"hee-haw", {"bray"}}, {"cheep", {"peep", "tweet"}}}},
      {"legs", true,
       {{"spider", "8"}, {"ant", "6"}, {"bird", "2"}, {"crab", "10"}, {"chicken", "2"}, {"beetle", "6"},
        {"kangaroo", "2"}, {"butterfly", "6"}, {"lobster", "10"}, {"goat", "4"}, {"penguin", "2"}, {"worm", "0"},
        {"scorpion", "8"}, {"ostrich", "2"}, {"camel", "4"}, {"mosquito", "6"}, {"tick", "8"}, {"grasshopper", "6"},
        {"squirrel", "4"}, {"lizard", "4"}, {"pigeon", "2"}, {"parrot", "2"}, {"shrimp", "10"}, {"zebra", "4"},
        {"giraffe", "4"}, {"tortoise", "4"}, {"moth", "6"}, {"eagle", "2"}, {"slug", "0"}},
       {"How many legs does {an} {s} have?", "How many legs has {an} {s} got?", "Count the legs on {an} {s}.",
        "What is the number of legs of {an} {s}?", "{An} {s} has how many legs?",
        "Tell me how many legs {an} {s} has."},
       {"{an} {s} has {r} legs.", "It has {r} legs.", "The number of legs is {r}.", "There are {r} legs on {an} {s}.",
        "Altogether, {r} legs."},
       {}},
      {"colour", false,
       {{"a ripe banana", "yellow"}, {"fresh grass", "green"}, {"a clear daytime sky", "blue"}, {"fresh snow", "white"},
        {"coal", "black"}, {"a ripe tomato", "red"}, {"a carrot", "orange"}, {"a lemon", "yellow"},
        {"a ripe strawberry", "red"}, {"milk", "white"}, {"dark chocolate", "brown"}, {"a lime", "green"},
        {"a pumpkin", "orange"}, {"a polar bear", "white"}, {"a raven", "black"}, {"a flamingo", "pink"},
        {"an eggplant", "purple"}, {"a fire truck", "red"}, {"a cucumber", "green"}, {"a blueberry", "blue"},
        {"ketchup", "red"}, {"a pine tree", "green"}, {"a storm cloud", "grey"}, {"a school bus", "yellow"},
        {"a ripe plum", "purple"}, {"cinnamon", "brown"}, {"chalk", "white"},
        {"an emerald", "green"}, {"a ruby", "red"}, {"a sapphire", "blue"}, {"the ocean", "blue"},
        {"a tangerine", "orange"}, {"a lavender flower", "purple"}},
       {"What colour is {s}?", "What is the colour of {s}?", "Which colour is {s}?", "What color is {s}?",
        "Tell me the colour of {s}.", "{s} is usually what colour?"},
       {"{s} is {r}.", "Its colour is {r}.", "The colour is {r}.", "{s} is usually {r}.", "Mostly {r}."},
       {{"grey", {"gray"}}}},
      {"opposite", false,
       {{"hot", "cold"}, {"big", "small"}, {"up", "down"}, {"fast", "slow"}, {"happy", "sad"}, {"open", "closed"},
        {"early", "late"}, {"full", "empty"}, {"wet", "dry"}, {"loud", "quiet"}, {"rich", "poor"},
        {"strong", "weak"}, {"thick", "thin"}, {"tall", "short"}, {"heavy", "light"}, {"push", "pull"},
        {"win", "lose"}, {"buy", "sell"}, {"day", "night"}, {"north", "south"}, {"east", "west"},
        {"inside", "outside"}, {"above", "below"}, {"first", "last"}, {"clean", "dirty"}, {"true", "false"},
        {"always", "never"}, {"before", "after"}, {"remember", "forget"}, {"arrive", "leave"}, {"begin", "end"},
        {"cheap", "expensive"}, {"question", "answer"}, {"friend", "enemy"}, {"laugh", "cry"}, {"give", "take"},
        {"minimum", "maximum"}, {"entrance", "exit"}, {"sharp", "blunt"}, {"ancient", "modern"},
        {"awake", "asleep"}, {"increase", "decrease"}, {"success", "failure"}, {"wide", "narrow"},
        {"deep", "shallow"}, {"smooth", "rough"}},
       {"What is the opposite of {s}?", "Give me the opposite of the word {s}.",
        "What word means the opposite of {s}?", "Name the antonym of {s}.", "What is the antonym of {s}?",
        "Which word is the opposite of {s}?"},
       {"The opposite of {s} is {r}.", "Its opposite is {r}.", "{r} is the opposite of {s}.", "The antonym of {s} is {r}.",
        "The opposite word is {r}."},
       {{"small", {"little"}}, {"quiet", {"soft"}}, {"closed", {"shut"}}, {"begin", {"start"}}}},
      {"plural", false,
       {{"child", "children"}, {"foot", "feet"}, {"tooth", "teeth"},
        {"man", "men"}, {"woman", "women"}, {"person", "people"}, {"ox", "oxen"}, {"cactus", "cacti"},
        {"knife", "knives"}, {"leaf", "leaves"}, {"half", "halves"}, {"life", "lives"},
        {"potato", "potatoes"}, {"hero", "heroes"}, {"louse", "lice"}, {"die", "dice"}, {"criterion", "criteria"},
        {"phenomenon", "phenomena"}, {"crisis", "crises"}, {"thesis", "theses"}, {"wife", "wives"},
        {"loaf", "loaves"}, {"shelf", "shelves"}, {"calf", "calves"}, {"elf", "elves"}, {"scarf", "scarves"},
        {"echo", "echoes"}, {"tomato", "tomatoes"}, {"fungus", "fungi"}, {"nucleus", "nuclei"}, {"radius", "radii"}},
       {"What is the plural of {s}?", "What is the plural form of the word {s}?",
        "How do you say more than one {s}?", "One {s}, two what?", "Give me the plural of {s}.",
        "What do you call more than one {s}?"},
       {"The plural of {s} is {r}.", "Its plural is {r}.", "One {s}, two {r}.", "More than one {s} are called {r}.",
        "You say {r} for more than one."},
       {{"cacti", {"cactuses"}}, {"fungi", {"funguses"}}}},
  };
  return r;
}

// The pools of one relation, built once: subjects, frames, answers.
struct RelationPools {
  Pool subjects, frames, answers;
};

const RelationPools& relation_pools(size_t ri) {
  static const std::vector<RelationPools> pools = [] {
    std::vector<RelationPools> out;
    for (const Relation& r : relations()) {
      std::vector<std::string> subjects;
      for (const auto& f : r.facts) subjects.push_back(f.first);
      std::string n = r.name;
      // two facts held out per split at least, so a wrong answer can come from the same split
      out.push_back({Pool("fact." + n, subjects, 0.15, 2), Pool("fact_frame." + n, r.frames),
                     Pool("fact_answer." + n, r.answers)});
    }
    return out;
  }();
  return pools[ri];
}

std::string article(const std::string& noun) {
  return std::string("aeiou").find(noun[0]) != std::string::npos ? "an" : "a";
}

Task fact(Rng& rng, Split s, Provenance& prov) {
  size_t ri = rng.below(relations().size());
  const Relation& rel = relations()[ri];
  const RelationPools& rp = relation_pools(ri);
  size_t fi = rp.subjects.pick_index(rng, s, prov);
  const auto& [subject, object] = rel.facts[fi];
  // a wrong answer: another object among the same split's facts (numbers: off by two)
  std::string wrong;
  if (rel.numeric) {
    wrong = std::to_string(std::stol(object) + 2);
  } else {
    std::vector<std::string> others;
    for (size_t i : rp.subjects.partition().part(s))
      if (rel.facts[i].second != object) others.push_back(rel.facts[i].second);
    SHOG_ASSERT(!others.empty());
    wrong = others[rng.below(others.size())];
  }
  std::string an = article(subject);
  std::string prompt = capitalize(fill(rp.frames.pick(rng, s, prov), {{"s", subject}, {"an", an}, {"An", capitalize(an)}}));
  Task t{"facts", rel.name, prompt, object, wrong, &rp.answers, {{"s", subject}, {"an", an}}, {}};
  t.checker = checker(t.task, rel.numeric ? "number" : "word", object);
  if (auto it = rel.also.find(object); it != rel.also.end()) t.checker["also"] = it->second;
  return t;
}

}  // namespace

WorldItem make_helpful(Rng& rng, Split s) {
  WorldItem item;
  Provenance& prov = item.provenance;
  // family weights: arithmetic 25%, units 15%, counting 15%, spelling 10%, strings 15%, facts 20%
  uint64_t f = rng.below(100);
  Task t = f < 25   ? arithmetic(rng, s, prov)
           : f < 40 ? units(rng, s, prov)
           : f < 55 ? (rng.below(2) ? letter_count(rng, s, prov) : letter_occurrence(rng, s, prov))
           : f < 65 ? spell_backwards(rng, s, prov)
           : f < 80 ? [&] {
               switch (rng.below(4)) {
                 case 0: return uppercase(rng, s, prov);
                 case 1: return reverse_words(rng, s, prov);
                 case 2: return edge_letter(rng, s, prov, true);
                 default: return edge_letter(rng, s, prov, false);
               }
             }()
                    : fact(rng, s, prov);
  item.kind = Kind::helpful;
  item.family = t.family;
  item.task = t.task;
  item.category = "none";
  item.prompt = t.prompt;
  size_t a0 = t.answers->pick_index(rng, s, prov), a1 = t.answers->pick_index(rng, s, prov);
  item.good = {answer_text(t, a0, t.right), answer_text(t, a1, t.right)};
  item.refusal = over_refusal_reply(rng, s, prov);
  std::string rude = rude_answer(rng, s, item.good[0], prov);
  std::string lazy = lazy_reply(rng, s, prov);
  item.bad = {{kWrongAnswer, answer_text(t, a0, t.wrong)}, {kOverRefusal, item.refusal}, {kRude, rude}, {kLazy, lazy}};
  item.checker = std::move(t.checker);
  return item;
}

}  // namespace shog::synth
