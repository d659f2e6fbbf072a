// Ranks started with different configs or data (a wrapper script, a Slurm
// array mistake) would otherwise meet in mismatched collectives and hang or
// fail with MPI_ERR_TRUNCATE. Each rank describes what it is about to run as
// lines of text ("key: value"); before the first collective of the work, the
// ranks agree that every description is rank 0's.
//
// Contract: collective over comm (one all-gather of an 8-byte digest when the
// ranks agree; two broadcasts more when they do not).
#pragma once

#include <string>

namespace tc::dist {

class Comm;

/// Returns when every rank's `plan` equals rank 0's. Otherwise every rank
/// throws the same one line: `what`, the lowest rank that differs and the
/// first line where it differs from rank 0's (both shown).
void check_same_plan(Comm& comm, const std::string& plan, const std::string& what);

}  // namespace tc::dist
