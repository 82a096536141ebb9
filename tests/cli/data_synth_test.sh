#!/usr/bin/env bash
# End to end: `shoggoth data synth` is deterministic by seed (same seed,
# byte-identical files; another seed, other files), writes every file the
# manifest lists, its outputs pass the trainers' readers (`data check`) and
# the moderation / refusal lines have their fields; bad flags fail with a
# message and a non-zero exit; `data check` names the bad line.
#   bash tests/cli/data_synth_test.sh <shoggoth binary> <source dir>
set -uo pipefail
SHOG=$(realpath "${1:?usage: data_synth_test.sh SHOGGOTH SOURCE_DIR}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect_fail NEEDLE CMD...: CMD exits non-zero and its stderr contains NEEDLE.
expect_fail() {
  local needle=$1
  shift
  "$@" >out.txt 2>err.txt
  local rc=$?
  [ "$rc" -ne 0 ] || fail "$* succeeded, expected a failure"
  grep -qF -- "$needle" err.txt || fail "$*: stderr lacks '$needle': $(cat err.txt)"
}

sizes=(--train 600 --val 120 --test 120)
"$SHOG" data synth --out a --seed 5 "${sizes[@]}" >a.txt 2>&1 || fail "synth: $(cat a.txt)"
"$SHOG" data synth --out b --seed 5 "${sizes[@]}" >/dev/null 2>&1 || fail "synth (second run)"
"$SHOG" data synth --out c --seed 6 "${sizes[@]}" >/dev/null 2>&1 || fail "synth (other seed)"
grep -q "train    600 prompts" a.txt || fail "summary: $(cat a.txt)"

files=()
for f in sft prefs rl moderation refusal comply; do
  for s in train val test; do files+=("${f}_${s}.jsonl"); done
done
for f in "${files[@]}" manifest.json; do
  [ -s "a/$f" ] || fail "missing or empty a/$f"
  cmp -s "a/$f" "b/$f" || fail "$f differs between two runs with seed 5"
done
for f in "${files[@]}"; do cmp -s "a/$f" "c/$f" && fail "$f is the same for seeds 5 and 6"; done
[ "$(ls a | wc -l)" -eq 19 ] || fail "expected 18 JSONL files and manifest.json: $(ls a)"
grep -q '"seed": 5' a/manifest.json || fail "manifest lacks the seed"
grep -q '"sft_train.jsonl": 600' a/manifest.json || fail "manifest count for sft_train.jsonl"
[ "$(wc -l <a/sft_train.jsonl)" -eq 600 ] || fail "sft_train.jsonl should have 600 lines"

# The trainers' readers accept the files.
for s in train val test; do
  "$SHOG" data check --form conversations "a/sft_$s.jsonl" >chk.txt 2>&1 || fail "check sft_$s: $(cat chk.txt)"
  "$SHOG" data check --form preferences "a/prefs_$s.jsonl" >chk.txt 2>&1 || fail "check prefs_$s: $(cat chk.txt)"
  "$SHOG" data check --form prompts "a/rl_$s.jsonl" >chk.txt 2>&1 || fail "check rl_$s: $(cat chk.txt)"
done
"$SHOG" data check --form conversations a/sft_val.jsonl | grep -q "a/sft_val.jsonl: ok, 120 conversations" \
  || fail "check output"

# Moderation and refusal lines: their fields, with python3's json module.
if command -v python3 >/dev/null; then
  python3 - a <<'PY' || fail "moderation/refusal fields"
import json, sys, pathlib
d = pathlib.Path(sys.argv[1])
for s in ("train", "val", "test"):
    for line in (d / f"moderation_{s}.jsonl").read_text().splitlines():
        j = json.loads(line)
        assert isinstance(j["text"], str) and j["text"], line
        assert j["direction"] in ("input", "output"), line
        assert len(j["labels"]) == 13 and set(j["labels"].values()) <= {0, 1}, line
    n = pos = 0
    for line in (d / f"refusal_{s}.jsonl").read_text().splitlines():
        j = json.loads(line)
        assert isinstance(j["reply"], str) and isinstance(j["is_refusal"], bool), line
        n += 1
        pos += j["is_refusal"]
    assert 0 < pos < n, (s, pos, n)
PY
fi

# Bad flags: a message and a non-zero exit.
expect_fail "--out is required" "$SHOG" data synth --seed 1
expect_fail "--seed" "$SHOG" data synth --out x --seed banana
expect_fail "--train" "$SHOG" data synth --out x --train -3
expect_fail "no prompts to generate" "$SHOG" data synth --out x --train 0 --val 0 --test 0
[ ! -e x ] || fail "a failed synth left x/ behind"
touch plain_file
expect_fail "plain_file" "$SHOG" data synth --out plain_file/sub --train 5 --val 1 --test 1

# data check names the bad line.
printf '{"prompt": "q", "chosen": "a", "rejected": "b"}\n{"prompt": "q", "chosen": "same", "rejected": "same"}\n' >bad.jsonl
"$SHOG" data check --form preferences bad.jsonl >out.txt 2>err.txt
[ $? -eq 3 ] || fail "data check on a bad file should exit 3"
grep -qF "bad.jsonl:2: chosen and rejected are identical" err.txt || fail "data check message: $(cat err.txt)"

if [ "$fails" -ne 0 ]; then echo "data_synth_test: $fails failure(s)" >&2; exit 1; fi
echo "data_synth_test: ok"
