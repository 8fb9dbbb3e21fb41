#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "config/diagnostics.hpp"

namespace gslb::config {

/// Reads the YAML file at `path` and the zone file it names, validates both and cross-checks them
/// (services inside the zone, no service name with static A/AAAA, known site names...).
///
/// Every problem found goes to `diags` as FILE:LINE:COL (FILE as the user named it; the zone
/// file's path as written in the YAML). Loading carries on after an error so that all problems
/// are reported. Returns the configuration when there was no error, nullptr otherwise. Never
/// throws for bad input. Called on the control thread, at start and on SIGHUP.
std::shared_ptr<const Config> loadConfig(const std::string& path, Diagnostics& diags);

}  // namespace gslb::config
