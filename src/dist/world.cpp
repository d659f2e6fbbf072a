#include "tailedcore/dist/world.h"

#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/runtime.h"
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

// rank -> host -> local rank, logged once by rank 0 (what ran where).
void log_rank_map(Comm& world) {
  const std::string host = core::host_name().substr(0, 63);  // 64 bytes a rank, NUL-terminated
  auto mine = torch::zeros({66}, torch::kUInt8);
  std::memcpy(mine.data_ptr<uint8_t>(), host.data(), host.size());
  mine[64] = static_cast<uint8_t>(std::max(0, launcher_local_rank()));  // 0 without a launcher
  auto all = world.allgather(mine).view({world.size(), 66});
  if (world.rank() != 0) return;
  std::ostringstream os;
  for (int r = 0; r < world.size(); ++r) {
    const auto row = all[r];
    os << (r ? ", " : "") << "r" << r << "@" << reinterpret_cast<const char*>(row.data_ptr<uint8_t>())
       << "/local" << static_cast<int>(row[64].item<uint8_t>());
  }
  core::log_info("ranks: ", os.str());
}

}  // namespace

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

std::shared_ptr<Comm> init_world(int* argc, char*** argv) {
  std::call_once(g_once, [&] {
    if (!launched_by_mpi()) {
      g_world = make_self_comm();
      return;
    }
    int provided = 0;
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    std::atexit(finalize_mpi);
    g_world = make_mpi_comm(MPI_COMM_WORLD);
    core::set_log_rank(g_world->rank(), g_world->size());
    if (g_world->size() > 1) log_rank_map(*g_world);
  });
  return g_world;
}

std::unique_ptr<Comm> make_device_comm(Comm& world, int cuda_device) {
  if (world.size() == 1) return nullptr;  // SelfComm works on any device's tensors
  const int64_t on_gpu = world.allreduce(torch::tensor({int64_t{cuda_device >= 0 ? 1 : 0}}), ReduceOp::kSum)
                             .item<int64_t>();
  TC_CHECK(on_gpu == 0 || on_gpu == world.size(), on_gpu, " of ", world.size(),
           " ranks resolved model.device to a GPU and the others to the CPU: expected one kind of device "
           "for all ranks (set model.device: cuda or cpu, and give every rank a GPU)");
  if (on_gpu == 0 || !built_with_cuda()) return nullptr;
  auto comm = make_nccl_comm(world, cuda_device);
  core::log_info("collectives: NCCL over ", world.size(), " ranks (MPI bootstrap)");
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
