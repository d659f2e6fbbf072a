#include "tailedcore/dist/world.h"

#include <mpi.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/comm_factory.h"
#include "tailedcore/dist/local_rank.h"
#include "tailedcore/dist/mpi_comm.h"
#include "tailedcore/dist/nccl_comm.h"

namespace tc::dist {
namespace {

std::shared_ptr<Comm> g_world;
std::once_flag g_once;

void finalize_mpi() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) {
    g_world.reset();
    MPI_Finalize();
  }
}

// Every rank's host (64 bytes, NUL-terminated) and two int32 words, in rank order.
std::vector<RankPlace> gather_places(Comm& world, int word0, int word1) {
  constexpr int64_t kHost = 64, kBytes = kHost + 8;
  const std::string host = core::host_name().substr(0, kHost - 1);
  auto mine = torch::zeros({kBytes}, torch::kUInt8);
  std::memcpy(mine.data_ptr<uint8_t>(), host.data(), host.size());
  const int32_t words[2] = {word0, word1};
  std::memcpy(mine.data_ptr<uint8_t>() + kHost, words, sizeof words);
  const auto all = world.allgather(mine).contiguous();
  std::vector<RankPlace> out(world.size());
  for (int r = 0; r < world.size(); ++r) {
    const auto* row = all.data_ptr<uint8_t>() + r * kBytes;
    out[r].host = reinterpret_cast<const char*>(row);
    int32_t got[2];
    std::memcpy(got, row + kHost, sizeof got);
    out[r].cuda_device = got[0];
    out[r].visible_gpus = got[1];
  }
  return out;
}

// rank -> host -> local rank, logged once by rank 0 (what ran where).
void log_rank_map(Comm& world) {
  const auto places =
      gather_places(world, std::max(0, launcher_local_rank()), 0);  // 0 without a launcher
  if (world.rank() != 0) return;
  std::ostringstream os;
  for (int r = 0; r < world.size(); ++r)
    os << (r ? ", " : "") << "r" << r << "@" << places[r].host << "/local" << places[r].cuda_device;
  core::log_info("ranks: ", os.str());
}

}  // namespace

bool launched_by_mpi() {
  for (const char* v :
       {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

std::shared_ptr<Comm> init_world(int* argc, char*** argv) {
  std::call_once(g_once, [&] {
    BackendFacts facts;
    facts.launched_by_mpi = launched_by_mpi();
    const std::string backend = choose_backend(facts);
    if (backend == "mpi") {
      int provided = 0;
      check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
      std::atexit(finalize_mpi);
    }
    g_world = make_comm(backend);
    core::set_log_rank(g_world->rank(), g_world->size());
    if (g_world->size() > 1) log_rank_map(*g_world);
  });
  return g_world;
}

std::string gpu_sharing(const std::vector<RankPlace>& places) {
  std::map<std::pair<std::string, int>, std::vector<int>> by_gpu;  // (host, device) -> ranks
  for (int r = 0; r < static_cast<int>(places.size()); ++r)
    if (places[r].cuda_device >= 0) by_gpu[{places[r].host, places[r].cuda_device}].push_back(r);
  for (const auto& [where, ranks] : by_gpu) {
    if (ranks.size() < 2) continue;
    std::ostringstream os;
    int on_host = 0;
    for (const auto& p : places) on_host += p.host == where.first ? 1 : 0;
    os << "host " << where.first << ": " << on_host << " ranks on " << places[ranks[0]].visible_gpus
       << " GPU(s), ranks";
    for (size_t i = 0; i < ranks.size(); ++i) os << (i ? "," : " ") << ranks[i];
    os << " all on cuda:" << where.second << ": NCCL needs one rank per GPU (start at most "
       << places[ranks[0]].visible_gpus << " ranks on " << where.first
       << ", e.g. srun --gpus-per-task=1, or set model.device: cpu)";
    return os.str();
  }
  return "";
}

std::unique_ptr<Comm> make_device_comm(Comm& world, int cuda_device) {
  if (world.size() == 1) return nullptr;  // SelfComm works on any device's tensors
  const auto places = gather_places(world, cuda_device, cuda_device_count());
  int on_gpu = 0;
  for (const auto& p : places) on_gpu += p.cuda_device >= 0 ? 1 : 0;
  TC_CHECK(on_gpu == 0 || on_gpu == world.size(), on_gpu, " of ", world.size(),
           " ranks resolved model.device to a GPU and the others to the CPU: expected one kind of "
           "device "
           "for all ranks (set model.device: cuda or cpu, and give every rank a GPU)");
  BackendFacts facts{launched_by_mpi(), world.size(), on_gpu == world.size(), built_with_cuda()};
  const std::string backend = choose_backend(facts);
  if (backend == world.backend()) return nullptr;
  // Before ncclCommInitRank, whose own error for two ranks on one GPU names neither.
  const std::string shared = gpu_sharing(places);
  TC_CHECK(shared.empty(), shared);
  auto comm = make_comm(backend, {&world, cuda_device});
  core::log_info("collectives: ", backend, " over ", world.size(), " ranks (", world.backend(),
                 " bootstrap)");
  return comm;
}

int run_guarded(Comm& comm, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    if (comm.size() == 1) throw;  // one process: main() prints it as usual
    comm.abort(e.what(), 1);
  } catch (...) {
    if (comm.size() == 1) throw;
    comm.abort("unknown exception", 1);
  }
  return 1;  // not reached: abort ends the job
}

}  // namespace tc::dist
