#pragma once

// The dashboard's one HTML page, embedded in the binary: its style and script are inline, it
// loads nothing else (no fonts, no scripts, no images) and works offline. It draws
// /api/v1/status and fetches it again every 2 seconds.

#include <string_view>

namespace gslb::server {

/// The page served at GET /.
std::string_view dashboardPage();

}  // namespace gslb::server
