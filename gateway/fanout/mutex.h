#ifndef OBGW_GATEWAY_FANOUT_MUTEX_H_
#define OBGW_GATEWAY_FANOUT_MUTEX_H_

#include <mutex>

#include <absl/base/thread_annotations.h>

namespace obgw::gateway {

// A std::mutex that clang's -Wthread-safety checks: the data it guards is
// marked ABSL_GUARDED_BY(mutex), and MutexLock holds it for a scope.
//
// Why not absl::Mutex, which carries the same annotations: Debian builds
// Abseil without ThreadSanitizer, so TSan cannot see absl::Mutex lock and
// unlock and reports every access it guards as a race (seen in the TSan
// suite). std::mutex locks through pthread, which TSan intercepts.
// BasicLockable (lock, unlock), so std::condition_variable_any can wait on it.
class ABSL_LOCKABLE Mutex {
 public:
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mutex_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mutex_.unlock(); }

 private:
  std::mutex mutex_;
};

// Holds `mutex` from construction to destruction.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) ABSL_EXCLUSIVE_LOCK_FUNCTION(mutex) : mutex_(mutex) {
    mutex_.lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mutex_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mutex_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_MUTEX_H_
