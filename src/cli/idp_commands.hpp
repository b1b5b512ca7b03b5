#pragma once
// `users` and `keys` under `hub` and `spoke` (the realm of an instance's identity provider).
#include <CLI/CLI.hpp>

namespace dive::cli {

// fam: the `hub` or `spoke` command; a spoke's subcommands take the instance CODE first.
void add_idp_subcommands(CLI::App* fam, bool hub);

}  // namespace dive::cli
