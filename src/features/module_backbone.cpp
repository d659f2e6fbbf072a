#include "module_backbone.h"

#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"

namespace tc::features {

torch::jit::script::Module load_torchscript_file(const std::string& path) {
  try {
    return torch::jit::load(path);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    msg = msg.substr(0, msg.find('\n'));
    TC_FAIL(path, ": not a loadable TorchScript file (", msg, ")");
  }
}

std::string join_names(const std::vector<std::string>& v, size_t max) {
  std::ostringstream os;
  for (size_t i = 0; i < v.size() && i < max; ++i) os << (i ? ", " : "") << v[i];
  if (v.size() > max) os << " (+" << v.size() - max << " more)";
  return os.str();
}

std::map<std::string, at::Tensor> ModuleBackbone::forward(const at::Tensor& images,
                                                          const std::vector<std::string>& taps) {
  torch::NoGradGuard ng;
  return run_taps(images, taps);
}

std::map<std::string, at::Tensor> ModuleBackbone::state() {
  std::map<std::string, at::Tensor> s;
  for (const auto& p : net().named_parameters()) s[p.key()] = p.value();
  for (const auto& b : net().named_buffers()) s[b.key()] = b.value();
  return s;
}

void ModuleBackbone::load_torchscript(const std::string& path) {
  auto m = load_torchscript_file(path);
  std::map<std::string, torch::Tensor> theirs;
  for (const auto& p : m.named_parameters()) theirs[p.name] = p.value;
  for (const auto& b : m.named_buffers()) theirs[b.name] = b.value;
  auto ours = state();
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [k, v] : ours) {
    const auto it = theirs.find(k);
    if (it == theirs.end()) {
      missing.push_back(k);
    } else if (it->second.sizes() != v.sizes()) {
      std::ostringstream os;
      os << k << " " << it->second.sizes() << " (expected " << v.sizes() << ")";
      mismatched.push_back(os.str());
    }
  }
  for (const auto& [k, _] : theirs)
    if (!ours.count(k)) unexpected.push_back(k);
  TC_CHECK(missing.empty() && unexpected.empty() && mismatched.empty(), path,
           ": weights do not fit ", name_, ": missing [", join_names(missing), "], unexpected [",
           join_names(unexpected), "], wrong shape [", join_names(mismatched), "]");
  torch::NoGradGuard ng;
  for (auto& [k, v] : ours) v.copy_(theirs.at(k).to(v.dtype()));
  core::log_info("backbone ", name_, ": loaded ", ours.size(), " tensors from ", path);
}

void ModuleBackbone::recalibrate_batchnorm(const std::vector<at::Tensor>& batches) {
  torch::NoGradGuard ng;
  std::vector<torch::nn::BatchNorm2dImpl*> bns;
  for (auto& m : net().modules(false))
    if (auto* b = m->as<torch::nn::BatchNorm2dImpl>()) {
      b->options.momentum(c10::nullopt);  // cumulative average over all batches
      b->reset_running_stats();
      bns.push_back(b);
    }
  net().train();
  for (const auto& x : batches) run_all(x);
  net().eval();
  for (auto* b : bns) b->options.momentum(0.1);
}

}  // namespace tc::features
