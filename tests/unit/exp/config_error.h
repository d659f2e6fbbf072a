// The error a config text gets on its way to a Plan: parse_config (keys,
// types, choices), then make_plan (each option struct's ranges, names to
// enums), as a run meets them before any work.
#pragma once

#include <string>
#include <vector>

#include "tailedcore/exp/config.h"
#include "tailedcore/exp/plan.h"
#include "testing.h"

namespace tc::testing {

/// "" when `yaml` (source "c.yaml") with `overrides` resolves to a Plan.
inline std::string config_error(const std::string& yaml,
                                const std::vector<std::string>& overrides = {}) {
  return error_of([&] { exp::make_plan(exp::parse_config(yaml, overrides, "c.yaml")); });
}

}  // namespace tc::testing
