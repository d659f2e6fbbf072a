// Moving a backbone to the rank's device, once (DESIGN.md "Devices"): every
// parameter and buffer (Backbone::state) is replaced in place by its copy on
// `device`, so the module's own forward then runs there. Inputs must be put on
// the same device by the caller; outputs stay there.
#pragma once

#include <c10/core/Device.h>

namespace tc::features {

class Backbone;

/// No-op when everything is already on `device` (the CPU case: nothing is copied).
void move_to_device(Backbone& backbone, const c10::Device& device);

}  // namespace tc::features
