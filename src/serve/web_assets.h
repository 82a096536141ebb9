// Files of the web chat page, compiled into the binary at build time from
// src/serve/web/ (cmake/embed_file.cmake), so the server needs no asset
// directory and the page needs no build step.
#pragma once
#include <string_view>

namespace shog::web {
extern const std::string_view chat_html;  // src/serve/web/chat.html
}
