# cmake -DIN=file -DOUT=file.cpp -DSYMBOL=name -P embed_file.cmake
# Writes a C++ source defining shog::web::<SYMBOL> (a std::string_view over
# the file's bytes), so an asset ships inside the binary.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/embed_file.cmake; do not edit.\n#include <string_view>\nnamespace shog::web {\nstatic const unsigned char ${SYMBOL}_bytes[] = {\n${body}0};\nextern const std::string_view ${SYMBOL}(reinterpret_cast<const char*>(${SYMBOL}_bytes), ${bytes});\n}  // namespace shog::web\n")
file(RENAME "${OUT}.tmp" "${OUT}")
