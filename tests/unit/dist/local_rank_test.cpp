// The launcher's local rank from the environment (setenv), and the GPU each rank takes.
#include "tailedcore/dist/local_rank.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/nccl_comm.h"

namespace {

const std::vector<std::string> kVariables = {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID",
                                             "MPI_LOCALRANKID", "PMI_LOCAL_RANK"};

// Clears the launcher variables for each test and puts back what the process had
// (ctest may itself run under a launcher).
class LocalRankEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& name : kVariables) {
      const char* v = std::getenv(name.c_str());
      saved_.push_back(v ? std::optional<std::string>(v) : std::nullopt);
    }
    clear();
  }
  void TearDown() override {
    for (size_t i = 0; i < kVariables.size(); ++i) {
      if (saved_[i]) {
        setenv(kVariables[i].c_str(), saved_[i]->c_str(), 1);
      } else {
        unsetenv(kVariables[i].c_str());
      }
    }
  }
  static void clear() {
    for (const auto& name : kVariables) unsetenv(name.c_str());
  }
  static void set(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 1);
  }

 private:
  std::vector<std::optional<std::string>> saved_;
};

TEST_F(LocalRankEnv, NoLauncherIsMinusOne) {
  const auto r = tc::dist::local_rank_from_env();
  EXPECT_EQ(r.rank, -1);
  EXPECT_EQ(r.variable, "");
  EXPECT_EQ(tc::dist::launcher_local_rank(), -1);
}

TEST_F(LocalRankEnv, EachLauncherAlone) {
  int value = 0;
  for (const auto& name : kVariables) {
    clear();  // only this one set
    set(name, std::to_string(++value));
    const auto r = tc::dist::local_rank_from_env();
    EXPECT_EQ(r.rank, value) << name;
    EXPECT_EQ(r.variable, name);
  }
}

TEST_F(LocalRankEnv, OpenMpiThenSlurmThenHydraThenPmi) {
  set("PMI_LOCAL_RANK", "4");
  EXPECT_EQ(tc::dist::local_rank_from_env().variable, "PMI_LOCAL_RANK");
  set("MPI_LOCALRANKID", "3");
  EXPECT_EQ(tc::dist::local_rank_from_env().variable, "MPI_LOCALRANKID");
  set("SLURM_LOCALID", "2");
  EXPECT_EQ(tc::dist::launcher_local_rank(), 2);
  set("OMPI_COMM_WORLD_LOCAL_RANK", "0");  // rank 0 is a rank, not "unset"
  const auto r = tc::dist::local_rank_from_env();
  EXPECT_EQ(r.rank, 0);
  EXPECT_EQ(r.variable, "OMPI_COMM_WORLD_LOCAL_RANK");
}

TEST_F(LocalRankEnv, AnEmptyVariableCountsAsUnset) {
  set("OMPI_COMM_WORLD_LOCAL_RANK", "");
  set("SLURM_LOCALID", "5");
  EXPECT_EQ(tc::dist::launcher_local_rank(), 5);
}

TEST_F(LocalRankEnv, BadValuesAreOneLineErrorsNamingTheVariable) {
  for (const char* bad : {"x", "-1", "2a", " ", "1.5", "99999999999"}) {
    set("SLURM_LOCALID", bad);
    try {
      tc::dist::local_rank_from_env();
      FAIL() << "SLURM_LOCALID='" << bad << "' should be refused";
    } catch (const tc::Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("SLURM_LOCALID='" + std::string(bad) + "'"), std::string::npos) << m;
      EXPECT_NE(m.find("expected a non-negative integer"), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    }
  }
}

TEST(DeviceForLocalRank, RoundRobinOverTheVisibleDevices) {
  EXPECT_EQ(tc::dist::device_for_local_rank(0, 4), 0);
  EXPECT_EQ(tc::dist::device_for_local_rank(3, 4), 3);
  EXPECT_EQ(tc::dist::device_for_local_rank(5, 4), 1);
  EXPECT_EQ(tc::dist::device_for_local_rank(7, 1), 0);   // --gpus-per-task=1: one visible
  EXPECT_EQ(tc::dist::device_for_local_rank(-1, 8), 0);  // no launcher: device 0
  EXPECT_EQ(tc::dist::device_for_local_rank(2, 0), -1);  // no GPU
  EXPECT_THROW(tc::dist::device_for_local_rank(-2, 1), tc::Error);
  EXPECT_THROW(tc::dist::device_for_local_rank(0, -1), tc::Error);
}

TEST_F(LocalRankEnv, ThisRankDeviceFollowsTheLauncher) {
  set("OMPI_COMM_WORLD_LOCAL_RANK", "3");
  const int n = tc::dist::cuda_device_count();
  EXPECT_EQ(tc::dist::this_rank_device(), n > 0 ? 3 % n : -1) << n << " visible device(s)";
}

}  // namespace
