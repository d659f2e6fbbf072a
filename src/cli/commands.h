// Subcommands of the `tailedcore` executable. Each parses its own options
// (Boost.Program_options), validates, runs, and returns the exit code; a
// tc::Error escaping one becomes the one-line error printed by main().
#pragma once

#include <string>
#include <vector>

namespace tc::cli {

using Args = std::vector<std::string>;  // the arguments after the subcommand name

int cmd_version(const Args& args);
int cmd_run(const Args& args);
int cmd_sweep(const Args& args);
int cmd_synth(const Args& args);
int cmd_nlt(const Args& args);
int cmd_visa(const Args& args);
int cmd_extract(const Args& args);
int cmd_tail(const Args& args);
int cmd_lof(const Args& args);
int cmd_coreset(const Args& args);
int cmd_compare(const Args& args);

}  // namespace tc::cli
