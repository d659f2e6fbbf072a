#include "tailedcore/dist/comm_factory.h"

#include <mpi.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "tailedcore/core/check.h"
#include "tailedcore/core/names.h"
#include "tailedcore/dist/mpi_comm.h"
#include "tailedcore/dist/nccl_comm.h"

namespace tc::dist {
namespace {

std::unique_ptr<Comm> make_world_mpi(const CommRequest&) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  TC_CHECK(initialized,
           "communicator 'mpi': MPI is not initialised (start the job under mpirun or srun)");
  return make_mpi_comm(MPI_COMM_WORLD);
}

std::unique_ptr<Comm> make_nccl(const CommRequest& req) {
  TC_CHECK(req.bootstrap, "communicator 'nccl': needs a bootstrap communicator to carry its id");
  TC_CHECK(req.cuda_device >= 0, "communicator 'nccl': cuda_device = ", req.cuda_device,
           ": expected this rank's CUDA ordinal (>= 0)");
  return make_nccl_comm(*req.bootstrap, req.cuda_device);
}

struct Table {
  std::mutex mutex;
  std::map<std::string, CommMaker> makers{
      {"self", [](const CommRequest&) { return make_self_comm(); }},
      {"mpi", make_world_mpi},
      {"nccl", make_nccl},
  };
};

// A function-local table: registrations from other translation units' static
// initialisers run before or after this file's, in any order.
Table& table() {
  static Table t;
  return t;
}

}  // namespace

bool register_comm(const std::string& name, CommMaker maker) {
  auto& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  TC_CHECK(!name.empty() && maker, "register_comm: expected a name and a maker");
  TC_CHECK(t.makers.emplace(name, std::move(maker)).second, "register_comm: communicator '", name,
           "' is already registered");
  return true;
}

std::vector<std::string> comm_names() {
  auto& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  std::vector<std::string> names;
  for (const auto& [name, maker] : t.makers) names.push_back(name);
  return names;
}

std::unique_ptr<Comm> make_comm(const std::string& name, const CommRequest& request) {
  CommMaker maker;
  {
    auto& t = table();
    std::lock_guard<std::mutex> lock(t.mutex);
    const auto it = t.makers.find(name);
    if (it != t.makers.end()) maker = it->second;
  }
  TC_CHECK(maker, "communicator '", name, "' is unknown: expected one of ",
           core::join_names(comm_names()));
  return maker(request);
}

std::string choose_backend(const BackendFacts& f) {
  if (f.world_size > 1 && f.ranks_on_gpu && f.built_with_nccl) return "nccl";
  return f.launched_by_mpi ? "mpi" : "self";
}

}  // namespace tc::dist
