#include "tailedcore/dist/same_plan.h"

#include <torch/torch.h>

#include <cstring>
#include <sstream>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/core/hash.h"
#include "tailedcore/dist/comm.h"

namespace tc::dist {
namespace {

// root's text on every rank (length first: the others do not know it).
std::string broadcast_text(Comm& comm, const std::string& text, int root) {
  const int64_t n =
      comm.broadcast(torch::tensor({static_cast<int64_t>(text.size())}, torch::kInt64), root)
          .item<int64_t>();
  auto bytes = torch::zeros({std::max<int64_t>(n, 1)}, torch::kUInt8);
  if (comm.rank() == root && n > 0)
    std::memcpy(bytes.data_ptr<uint8_t>(), text.data(), static_cast<size_t>(n));
  bytes = comm.broadcast(bytes, root).contiguous();
  return std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()),
                     static_cast<size_t>(n));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string shown(const std::vector<std::string>& lines, size_t i) {
  return i < lines.size() ? "'" + lines[i] + "'" : "(nothing: its plan ends here)";
}

}  // namespace

void check_same_plan(Comm& comm, const std::string& plan, const std::string& what) {
  if (comm.size() == 1) return;
  const uint64_t digest = core::fnv1a(plan);
  int64_t word;
  std::memcpy(&word, &digest, sizeof word);
  const auto all = comm.allgather(torch::tensor({word}, torch::kInt64)).contiguous();
  const int64_t* d = all.data_ptr<int64_t>();
  int differs = -1;
  for (int r = 1; r < comm.size() && differs < 0; ++r)
    if (d[r] != d[0]) differs = r;
  if (differs < 0) return;
  // Every rank learns the first difference of the lowest differing rank, so
  // every rank stops with the same line.
  const std::string reference = broadcast_text(comm, plan, 0);
  std::string message;
  if (comm.rank() == differs) {
    const auto mine = lines_of(plan), theirs = lines_of(reference);
    size_t i = 0;
    while (i < mine.size() && i < theirs.size() && mine[i] == theirs[i]) ++i;
    message = what + ": rank " + std::to_string(differs) +
              " runs another plan than rank 0: first at " + shown(mine, i) +
              " (rank 0: " + shown(theirs, i) +
              "); start every rank with the same config, overrides and data";
  }
  TC_FAIL(broadcast_text(comm, message, differs));
}

}  // namespace tc::dist
