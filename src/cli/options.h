// Option parsing shared by the subcommands.
#pragma once

#include <boost/program_options.hpp>
#include <iostream>

#include "commands.h"
#include "tailedcore/core/runtime.h"

namespace tc::cli {

/// The value of every --threads option: default 0 (auto), range-checked
/// (core::check_thread_count) when the options are parsed, before any work.
inline boost::program_options::typed_value<int>* threads_value(int* n) {
  return boost::program_options::value(n)->default_value(0)->notifier(
      [](int v) { core::check_thread_count(v, "--threads"); });
}

/// Parses args into vm; returns false after printing help when --help was given.
/// Unknown options and missing required ones throw with Boost's one-line message.
inline bool parse_options(const boost::program_options::options_description& desc, const Args& args,
                          boost::program_options::variables_map& vm) {
  namespace po = boost::program_options;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace tc::cli
