#include "gateway/cluster/in_process_broker.h"

#include <chrono>

namespace obgw::gateway {

std::uint64_t InProcessBroker::EpochNow() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

bool InProcessBroker::Sequence(BookUpdate& update, StreamPosition last) {
  // A position from another epoch cannot come from this broker; the symbol's
  // sequence starts over in ours.
  std::uint64_t previous = last.epoch == epoch_ ? last.offset : 0;
  update.position = StreamPosition{previous + 1, epoch_};
  return true;
}

}  // namespace obgw::gateway
