#!/usr/bin/env bash
# ctest entry (args: <shoggoth binary> <source dir>): tokenizer ids vs
# js-tiktoken, tiktoken (WASM) and @lenml/tokenizers. Needs the npm registry.
exec bash "$2/tests/tokenizer/conformance/run.sh" "$1" "$2"
