#!/usr/bin/env bash
# End to end: `shoggoth lora merge` on a model directory and a PEFT-format
# adapter, both written by an independent writer (Python + numpy,
# tests/oracle/safetensors_np.py; the adapter in BF16 as PEFT often saves
# it), gives W + (alpha / r) B A for every adapted matrix and leaves every
# other tensor bit for bit; bad adapters fail with the documented exit codes.
# Usage: lora_merge_test.sh <shoggoth binary> <source dir>
source "$(dirname "$0")/common.sh"
PY=/usr/bin/python3

$PY - "$W" "$SRC/tests/oracle" <<'EOF'
import json, os, sys
import numpy as np
w, oracle = sys.argv[1], sys.argv[2]
sys.path.insert(0, oracle)
import llama_ref, safetensors_np
cfg = {"vocab_size": 96, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
       "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 32,
       "rope_theta": 10000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": False}
os.makedirs(f"{w}/base")
json.dump(cfg, open(f"{w}/base/config.json", "w"))
rng = np.random.default_rng(1)
shapes = llama_ref.param_shapes(llama_ref.Config(cfg))
safetensors_np.save(f"{w}/base/model.safetensors",
                    {n: rng.normal(0, 0.05, s).astype(np.float32) for n, s in shapes.items()})
r, alpha = 4, 8
os.makedirs(f"{w}/adapter")
json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha, "lora_dropout": 0.05,
           "target_modules": ["v_proj", "q_proj", "down_proj"], "bias": "none", "fan_in_fan_out": False,
           "base_model_name_or_path": "base", "modules_to_save": None},
          open(f"{w}/adapter/adapter_config.json", "w"))
t = {}
for i in range(2):
    for mod in ("self_attn.q_proj", "self_attn.v_proj", "mlp.down_proj"):
        out, inp = shapes[f"model.layers.{i}.{mod}.weight"]
        t[f"base_model.model.model.layers.{i}.{mod}.lora_A.weight"] = rng.normal(0, 0.3, (r, inp)).astype(np.float32)
        t[f"base_model.model.model.layers.{i}.{mod}.lora_B.weight"] = rng.normal(0, 0.3, (out, r)).astype(np.float32)
safetensors_np.save(f"{w}/adapter/adapter_model.safetensors", t, dtypes={k: "BF16" for k in t})
EOF

"$SHOG" lora merge --model "$W/base" --adapter "$W/adapter" --out "$W/merged" > "$W/merge.log" \
  || fail "lora merge failed: $(cat "$W/merge.log")"
grep -q "rank 4" "$W/merge.log" || fail "merge report: $(cat "$W/merge.log")"
[ -f "$W/merged/config.json" ] || fail "no merged config.json"

$PY - "$W" "$SRC/tests/oracle" <<'EOF' || fail "merged weights are wrong"
import sys
import numpy as np
w, oracle = sys.argv[1], sys.argv[2]
sys.path.insert(0, oracle)
import safetensors_np
base, _ = safetensors_np.load(f"{w}/base/model.safetensors")
merged, _ = safetensors_np.load(f"{w}/merged/model.safetensors")
ad, _ = safetensors_np.load(f"{w}/adapter/adapter_model.safetensors")
assert set(base) == set(merged), "tensor names changed"
adapted = 0
for name, wb in base.items():
    a = ad.get("base_model.model." + name[:-len(".weight")] + ".lora_A.weight")
    if a is None:
        assert np.array_equal(wb, merged[name]), f"{name} changed"
        continue
    b = ad["base_model.model." + name[:-len(".weight")] + ".lora_B.weight"]
    ref = wb.astype(np.float64) + (8 / 4) * (b.astype(np.float64) @ a.astype(np.float64))
    err = np.abs(merged[name] - ref).max() / np.abs(ref).max()
    assert err < 1e-6, f"{name}: relative error {err}"
    adapted += 1
assert adapted == 6, adapted
EOF

# Errors: a tensor of the wrong shape (3, naming file and tensor), an
# unsupported PEFT option (6), no adapter directory (2).
cp -r "$W/adapter" "$W/bad"
$PY - "$W" "$SRC/tests/oracle" <<'EOF'
import sys
import numpy as np
w, oracle = sys.argv[1], sys.argv[2]
sys.path.insert(0, oracle)
import safetensors_np
t, _ = safetensors_np.load(f"{w}/bad/adapter_model.safetensors")
t["base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"] = np.zeros((4, 47), np.float32)
safetensors_np.save(f"{w}/bad/adapter_model.safetensors", t)
EOF
rc=0
"$SHOG" lora merge --model "$W/base" --adapter "$W/bad" --out "$W/m2" 2> "$W/err" || rc=$?
[ $rc -eq 3 ] || fail "wrong-shape tensor: exit $rc, expected 3"
grep -q "adapter_model.safetensors" "$W/err" && grep -q "layers.1.mlp.down_proj.lora_A.weight" "$W/err" \
  || fail "error does not name file and tensor: $(cat "$W/err")"
[ ! -e "$W/m2" ] || fail "a failed merge left an output directory"

sed -i 's/"bias": "none"/"bias": "all"/' "$W/adapter/adapter_config.json"
rc=0
"$SHOG" lora merge --model "$W/base" --adapter "$W/adapter" --out "$W/m3" 2> "$W/err" || rc=$?
[ $rc -eq 6 ] || fail "bias all: exit $rc, expected 6"

rc=0
"$SHOG" lora merge --model "$W/base" --adapter "$W/nowhere" --out "$W/m4" 2> "$W/err" || rc=$?
[ $rc -eq 2 ] || fail "missing adapter: exit $rc, expected 2"
echo "lora merge: ok"
