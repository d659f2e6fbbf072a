#include "tailedcore/data/loader.h"

#include <torch/torch.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <opencv2/core.hpp>
#include <thread>

#include "tailedcore/core/check.h"

namespace tc::data {
namespace {

// Batches decoded ahead of the one being consumed.
constexpr int64_t kPrefetchBatches = 2;

struct Decoded {
  torch::Tensor image, mask;
  std::string error;
  bool ready = false;
};

// A worker's failure as the one line the consumer rethrows (a LibTorch or
// OpenCV message may carry a backtrace or a trailing newline).
std::string one_line(const std::string& msg) {
  std::string s = msg.substr(0, msg.find('\n'));
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "image decoding failed" : s;
}

Decoded decode_record(const ImageRecord& r, const TransformOptions& opts, bool with_masks) {
  Decoded d;
  try {
    const cv::Mat rgb = decode_rgb(r.path);
    const cv::Mat resized = resize_and_crop(rgb, opts);
    d.image = to_normalized_tensor(resized);
    if (with_masks) {
      if (r.mask_path.empty()) {
        d.mask = torch::empty({resized.rows, resized.cols}, torch::kUInt8);
        std::memset(d.mask.data_ptr<uint8_t>(), 0, resized.total());  // no ATen fill in a worker
      } else {
        const cv::Mat m = decode_gray(r.mask_path);
        TC_CHECK(m.cols == rgb.cols && m.rows == rgb.rows, r.mask_path, ": mask is ", m.cols, "x",
                 m.rows, " but its image ", r.path, " is ", rgb.cols, "x", rgb.rows,
                 ": expected the same size");
        d.mask = binarize_mask(resize_and_crop(m, opts));
      }
    }
  } catch (const std::exception& e) {
    d.error = one_line(e.what());
    const bool names_file =
        d.error.find(r.path) != std::string::npos ||
        (!r.mask_path.empty() && d.error.find(r.mask_path) != std::string::npos);
    if (!names_file) d.error = r.path + ": " + d.error;
  } catch (...) {
    d.error = r.path + ": image decoding failed";
  }
  d.ready = true;
  return d;
}

}  // namespace

struct BatchLoader::Impl {
  std::vector<ImageRecord> records;
  TransformOptions opts;
  int64_t batch_size;
  bool with_masks;
  std::vector<Decoded> slots;
  std::mutex mutex;
  std::condition_variable cv_ready, cv_window;
  int64_t next_to_claim = 0;  // next record a worker decodes
  int64_t window_end = 0;     // workers decode records below this
  int64_t next_begin = 0;     // first record of the next batch
  bool stop = false;
  std::vector<std::thread> workers;

  // Decoding uses no ATen operator and no parallel OpenCV call (see
  // transforms.cpp), so these threads add no thread pool beside LibTorch's.
  void work() {
    for (;;) {
      int64_t i;
      {
        std::unique_lock<std::mutex> lock(mutex);
        cv_window.wait(lock, [&] { return stop || next_to_claim < window_end; });
        if (stop) return;
        i = next_to_claim++;
      }
      Decoded d = decode_record(records[i], opts, with_masks);
      {
        std::lock_guard<std::mutex> lock(mutex);
        slots[i] = std::move(d);
      }
      cv_ready.notify_all();
    }
  }
};

BatchLoader::BatchLoader(std::vector<ImageRecord> records, TransformOptions opts,
                         int64_t batch_size, bool with_masks, int workers)
    : impl_(std::make_unique<Impl>()) {
  TC_CHECK(batch_size >= 1, "batch size ", batch_size, ": expected >= 1");
  impl_->records = std::move(records);
  impl_->opts = opts;
  impl_->batch_size = batch_size;
  impl_->with_masks = with_masks;
  impl_->slots.resize(impl_->records.size());
  const int64_t n = static_cast<int64_t>(impl_->records.size());
  impl_->window_end = std::min(n, (1 + kPrefetchBatches) * batch_size);
  for (int w = 0; w < std::max(1, workers); ++w)
    impl_->workers.emplace_back([this] { impl_->work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stop = true;
  }
  impl_->cv_window.notify_all();
  for (auto& t : impl_->workers) t.join();
}

std::optional<Batch> BatchLoader::next() {
  const int64_t n = static_cast<int64_t>(impl_->records.size());
  const int64_t begin = impl_->next_begin;
  if (begin >= n) return std::nullopt;
  const int64_t limit = std::min(n, begin + impl_->batch_size);
  int64_t end = begin;
  std::vector<Decoded> got;
  {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    // Images kept at their own size differ (VisA's classes at `full`), and a
    // batch is one tensor: it ends before the first image of another size.
    for (; end < limit; ++end) {
      impl_->cv_ready.wait(lock, [&] { return impl_->slots[end].ready; });
      const auto& first = impl_->slots[begin];
      const auto& d = impl_->slots[end];
      if (end > begin && d.error.empty() && first.error.empty() &&
          d.image.sizes() != first.image.sizes())
        break;
    }
    for (int64_t i = begin; i < end; ++i) got.push_back(std::move(impl_->slots[i]));
    impl_->next_begin = end;
    impl_->window_end = std::min(n, end + (1 + kPrefetchBatches) * impl_->batch_size);
  }
  impl_->cv_window.notify_all();
  Batch b;
  std::vector<torch::Tensor> images, masks;
  for (int64_t i = begin; i < end; ++i) {
    auto& d = got[i - begin];
    if (!d.error.empty()) throw Error(d.error);
    images.push_back(d.image);
    if (impl_->with_masks) masks.push_back(d.mask);
    b.indices.push_back(i);
  }
  b.images = torch::stack(images);
  if (impl_->with_masks) b.masks = torch::stack(masks);
  return b;
}

}  // namespace tc::data
