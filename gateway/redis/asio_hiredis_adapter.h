#ifndef OBGW_GATEWAY_REDIS_ASIO_HIREDIS_ADAPTER_H_
#define OBGW_GATEWAY_REDIS_ASIO_HIREDIS_ADAPTER_H_

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

struct redisAsyncContext;

namespace obgw::gateway {

// Drives one hiredis async context from an Asio io_context (hiredis 0.14
// ships adapters for libevent, libuv... but none for Asio): hiredis' event
// hooks (addRead, addWrite, ...) arm async_waits on the context's socket,
// registered with a posix::stream_descriptor, and their completions call
// redisAsyncHandleRead/Write.
//
// Owns nothing of the context: hiredis owns it and its fd. The cleanup hook
// (the context is being freed) detaches the adapter and release()s the fd, so
// the descriptor never closes it; waits still in flight complete with
// operation_aborted and find the adapter detached (they hold it alive).
//
// Threads: everything on the io_context's one thread.
class AsioHiredisAdapter : public std::enable_shared_from_this<AsioHiredisAdapter> {
 public:
  // Installs the hooks on `context` (connecting, not yet attached). Returns
  // null when the fd cannot be registered (the caller frees the context).
  static std::shared_ptr<AsioHiredisAdapter> Attach(boost::asio::io_context& io,
                                                    redisAsyncContext* context);

  explicit AsioHiredisAdapter(boost::asio::io_context& io) : socket_(io) {}

 private:
  static void AddRead(void* privdata);
  static void DelRead(void* privdata);
  static void AddWrite(void* privdata);
  static void DelWrite(void* privdata);
  static void Cleanup(void* privdata);

  void ArmRead();
  void ArmWrite();

  redisAsyncContext* context_ = nullptr;  // Null once hiredis cleaned up.
  boost::asio::posix::stream_descriptor socket_;
  bool reading_ = false;  // hiredis wants read events.
  bool writing_ = false;  // hiredis wants write events.
  bool read_armed_ = false;
  bool write_armed_ = false;
  // Keeps the adapter alive while it is attached (hiredis holds a raw pointer).
  std::shared_ptr<AsioHiredisAdapter> self_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_REDIS_ASIO_HIREDIS_ADAPTER_H_
