#ifndef OBGW_GATEWAY_FANOUT_THREAD_AFFINITY_H_
#define OBGW_GATEWAY_FANOUT_THREAD_AFFINITY_H_

#include <atomic>
#include <thread>

namespace obgw::gateway {

// The thread an object runs on, so that its thread-bound methods can check
// their caller in debug builds, as Envoy asserts dispatcher.isThreadSafe():
//   assert(shard.InThisThread());
// Bound by the owning thread when it starts running the object; before that
// (construction, tests driving the object without its thread) any caller is
// the owner. Safe to query from any thread.
class ThreadAffinity {
 public:
  // On the thread that will run the object from now on.
  void BindToThisThread() { owner_.store(std::this_thread::get_id(), std::memory_order_release); }
  // When the thread is gone (joined): the object is back with its owner.
  void Unbind() { owner_.store(std::thread::id(), std::memory_order_release); }

  bool InThisThread() const {
    std::thread::id owner = owner_.load(std::memory_order_acquire);
    return owner == std::thread::id() || owner == std::this_thread::get_id();
  }

 private:
  std::atomic<std::thread::id> owner_{};
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_THREAD_AFFINITY_H_
