#!/usr/bin/env bash
# End to end: tokenizer -> shards -> pretrain, and the promises pretrain makes:
#  - a run stopped and resumed gives a loss curve bitwise identical to an
#    uninterrupted run (same thread count);
#  - bad config keys/values and corrupt data are clear errors with non-zero exits;
#  - a NaN loss stops the run and leaves the previous checkpoint intact;
#  - checkpoints are HF-shaped (model.safetensors + config.json) and a loss plot exists;
#  - model.init_from starts from another run's weights, and refuses a shape that differs;
#  - train.optimizer = "muon" trains and resumes bitwise too, and a resume
#    with the other optimizer (whose moments mean something else) is refused.
# Usage: pretrain_test.sh <shoggoth binary> <source dir>
source "$(dirname "$0")/common.sh"

# A small corpus from text that ships with every Debian system.
tiny_data /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0
ls "$W/shards"

common=(--preset tiny --vocab 512 --train "$W/shards/train_000.bin" --val "$W/shards/val_000.bin"
        --batch-size 2 --seq-len 32 --steps 12 --warmup-steps 2 --val-every 4 --ckpt-every 100 --lr 3e-3 --progress false)

for dt in f32 bf16; do
  "$SHOG" pretrain "${common[@]}" --dtype $dt --out-dir "$W/full_$dt" > /dev/null
  "$SHOG" pretrain "${common[@]}" --dtype $dt --out-dir "$W/split_$dt" --stop-after 5 > /dev/null
  [ -f "$W/split_$dt/step_000005/model.safetensors" ] || fail "no checkpoint at the stop step"
  "$SHOG" pretrain "${common[@]}" --dtype $dt --out-dir "$W/split_$dt" --resume > /dev/null
  # Same steps, same losses, to the last bit (JSON prints doubles round-trip exactly).
  python3 - "$W/full_$dt/metrics.jsonl" "$W/split_$dt/metrics.jsonl" <<'PY' || fail "resumed $dt run differs"
import json, sys
def curve(p):
    rows = [json.loads(l) for l in open(p) if l.strip()]
    return [(r["step"], r["loss"]) for r in rows if "loss" in r], [(r["step"], r["val_loss"]) for r in rows if "val_loss" in r]
a, b = curve(sys.argv[1]), curve(sys.argv[2])
assert len(a[0]) == 12, a
assert a == b, (a, b)
print("resume identical over", len(a[0]), "steps;", "first/last loss", a[0][0][1], a[0][-1][1])
assert a[0][-1][1] < a[0][0][1], "loss did not decrease"
PY
  [ -f "$W/full_$dt/loss.svg" ] || fail "no loss plot"
  grep -q '"num_hidden_layers": 2' "$W/full_$dt/step_000012/config.json" || fail "config.json not HF-shaped"
done

# Muon: the same promise of an identical resumed curve; a resume that names the
# other optimizer, an unknown optimizer and Muon with ZeRO-1 are refused by key.
"$SHOG" pretrain "${common[@]}" --optimizer muon --out-dir "$W/muon_full" > /dev/null
"$SHOG" pretrain "${common[@]}" --optimizer muon --out-dir "$W/muon_split" --stop-after 5 > /dev/null
"$SHOG" pretrain "${common[@]}" --optimizer muon --out-dir "$W/muon_split" --resume > /dev/null
cmp <(grep -o '"loss":[^,]*' "$W/muon_full/metrics.jsonl") <(grep -o '"loss":[^,]*' "$W/muon_split/metrics.jsonl") \
  || fail "resumed Muon run differs"
grep -q '^optimizer = "muon"' "$W/muon_full/step_000012/run.toml" || fail "run.toml does not record the optimizer"
cmp -s <(grep -o '"loss":[^,]*' "$W/muon_full/metrics.jsonl") <(grep -o '"loss":[^,]*' "$W/full_bf16/metrics.jsonl") \
  && fail "Muon gave AdamW's curve"
set +e
"$SHOG" pretrain "${common[@]}" --out-dir "$W/muon_split" --resume --steps 14 2> "$W/err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "train.optimizer" "$W/err" && grep -q "muon" "$W/err" || fail "optimizer switch: rc=$rc $(cat "$W/err")"
[ "$(cat "$W/muon_split/latest")" = "step_000012" ] || fail "a refused resume moved latest"
set +e
"$SHOG" pretrain "${common[@]}" --optimizer sgd --out-dir "$W/sgd" 2> "$W/err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "train.optimizer" "$W/err" || fail "bad optimizer: rc=$rc $(cat "$W/err")"
set +e
"$SHOG" pretrain "${common[@]}" --optimizer muon --zero1 true --out-dir "$W/muz" 2> "$W/err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "train.zero1" "$W/err" || fail "muon with zero1: rc=$rc $(cat "$W/err")"

# A fresh run into a directory with checkpoints is refused (nothing overwritten).
if "$SHOG" pretrain "${common[@]}" --out-dir "$W/full_f32" 2> "$W/err"; then fail "overwrote a run"; fi
grep -q -- "--resume" "$W/err" || fail "unclear message: $(cat "$W/err")"

# Bad config: unknown key, wrong type, bad value -> exit 2 naming the key.
printf '[train]\nlearning_rate = 1e-3\n' > "$W/bad1.toml"
set +e
"$SHOG" pretrain --config "$W/bad1.toml" --train "$W/shards/train_000.bin" 2> "$W/err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "learning_rate" "$W/err" || fail "unknown key: rc=$rc $(cat "$W/err")"
printf '[train]\nsteps = "many"\n' > "$W/bad2.toml"
set +e
"$SHOG" pretrain --config "$W/bad2.toml" --train "$W/shards/train_000.bin" 2> "$W/err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "train.steps" "$W/err" || fail "wrong type: rc=$rc $(cat "$W/err")"
set +e
"$SHOG" pretrain "${common[@]}" --out-dir "$W/x" --dtype f16 2> "$W/err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "f16" "$W/err" || fail "bad dtype: rc=$rc $(cat "$W/err")"

# Corrupt data: a flipped byte in a shard -> exit 3 naming the file.
cp "$W/shards/train_000.bin" "$W/corrupt.bin"
printf '\xff\xff' | dd of="$W/corrupt.bin" bs=1 seek=100 conv=notrunc 2>/dev/null
set +e
"$SHOG" pretrain "${common[@]}" --train "$W/corrupt.bin" --out-dir "$W/y" 2> "$W/err"; rc=$?
set -e
[ $rc -eq 3 ] && grep -q "corrupt.bin" "$W/err" || fail "corrupt shard: rc=$rc $(cat "$W/err")"

# NaN: an absurd learning rate blows the weights up; the run stops with exit 5
# and the checkpoint written before it is untouched.
"$SHOG" pretrain "${common[@]}" --out-dir "$W/nan" --stop-after 2 --grad-clip 0 > /dev/null
sum_before=$(sha256sum "$W/nan/step_000002/model.safetensors")
set +e
"$SHOG" pretrain "${common[@]}" --out-dir "$W/nan" --resume --lr 1e30 --warmup-steps 0 --grad-clip 0 --schedule constant 2> "$W/err"; rc=$?
set -e
[ $rc -eq 5 ] || fail "NaN run: rc=$rc $(cat "$W/err")"
[ "$(cat "$W/nan/latest")" = "step_000002" ] || fail "latest moved"
[ "$(sha256sum "$W/nan/step_000002/model.safetensors")" = "$sum_before" ] || fail "checkpoint changed"
# Continued pretraining: a run started from full_f32's last checkpoint. The
# same seed draws the same first batch as the fresh run, so its first loss is
# the trained model's loss on that batch, far below the random model's; at a
# negligible learning rate one step leaves the loaded weights in place.
"$SHOG" pretrain "${common[@]}" --dtype f32 --init-from "$W/full_f32/step_000012" --steps 1 --warmup-steps 0 \
  --lr 1e-12 --out-dir "$W/cont" > /dev/null
/usr/bin/python3 - "$W/full_f32/metrics.jsonl" "$W/cont/metrics.jsonl" "$W/full_f32/step_000012/model.safetensors" \
  "$W/cont/step_000001/model.safetensors" "$SRC/tests/oracle" <<'PY' || fail "init_from did not start from the given weights"
import json, sys
sys.path.insert(0, sys.argv[5])
import numpy as np
from safetensors_np import load
def first_loss(p):
    return next(json.loads(l)["loss"] for l in open(p) if '"loss"' in l)
fresh, cont = first_loss(sys.argv[1]), first_loss(sys.argv[2])
assert cont < fresh - 0.3, (fresh, cont)
(a, _), (b, _) = load(sys.argv[3]), load(sys.argv[4])
assert a.keys() == b.keys(), (sorted(a), sorted(b))
worst = max(float(np.abs(a[k] - b[k]).max()) for k in a)
assert worst < 1e-6, worst
print("init_from: first loss", cont, "against a fresh run's", fresh, "; weights moved at most", worst)
PY
# A different shape is refused, naming the key, before any step.
set +e
"$SHOG" pretrain "${common[@]}" --init-from "$W/full_f32/step_000012" --n-layer 3 --out-dir "$W/cont3" 2> "$W/err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "num_hidden_layers" "$W/err" || fail "init_from shape: rc=$rc $(cat "$W/err")"
[ ! -e "$W/cont3/step_000001" ] || fail "a refused init_from wrote a checkpoint"
set +e
"$SHOG" pretrain "${common[@]}" --init-from "$W/no_such_run" --out-dir "$W/cont4" 2> "$W/err"; rc=$?
set -e
[ $rc -ne 0 ] && grep -q "no_such_run" "$W/err" || fail "init_from missing dir: rc=$rc $(cat "$W/err")"
echo "pretrain end-to-end: all checks passed"
