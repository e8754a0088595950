#include "gateway/ws/symbol_throttle.h"

namespace obgw::gateway {

SymbolThrottle::Verdict SymbolThrottle::Pass(const FramePtr& frame, Clock::time_point now) {
  Slot& slot = slots_[frame->symbol()];
  if (!slot.waiting && now >= slot.next_allowed) {
    slot.next_allowed = now + interval_;
    return Verdict{};
  }
  Verdict verdict{false, slot.waiting != nullptr, slot.next_allowed};
  slot.waiting = frame;
  return verdict;
}

std::optional<SymbolThrottle::Clock::time_point> SymbolThrottle::TakeDue(
    Clock::time_point now, std::vector<FramePtr>& out) {
  std::optional<Clock::time_point> next;
  for (auto& [symbol, slot] : slots_) {
    if (!slot.waiting) continue;
    if (now >= slot.next_allowed) {
      out.push_back(std::move(slot.waiting));
      slot.waiting = nullptr;
      slot.next_allowed = now + interval_;
    } else if (!next || slot.next_allowed < *next) {
      next = slot.next_allowed;
    }
  }
  return next;
}

}  // namespace obgw::gateway
