#include "gateway/redis/asio_hiredis_adapter.h"

#include <hiredis/async.h>

namespace obgw::gateway {

std::shared_ptr<AsioHiredisAdapter> AsioHiredisAdapter::Attach(boost::asio::io_context& io,
                                                               redisAsyncContext* context) {
  auto adapter = std::make_shared<AsioHiredisAdapter>(io);
  boost::system::error_code error;
  adapter->socket_.assign(context->c.fd, error);
  if (error) return nullptr;
  adapter->context_ = context;
  adapter->self_ = adapter;
  context->ev.data = adapter.get();
  context->ev.addRead = &AddRead;
  context->ev.delRead = &DelRead;
  context->ev.addWrite = &AddWrite;
  context->ev.delWrite = &DelWrite;
  context->ev.cleanup = &Cleanup;
  return adapter;
}

void AsioHiredisAdapter::AddRead(void* privdata) {
  auto* adapter = static_cast<AsioHiredisAdapter*>(privdata);
  adapter->reading_ = true;
  adapter->ArmRead();
}

void AsioHiredisAdapter::DelRead(void* privdata) {
  static_cast<AsioHiredisAdapter*>(privdata)->reading_ = false;
}

void AsioHiredisAdapter::AddWrite(void* privdata) {
  auto* adapter = static_cast<AsioHiredisAdapter*>(privdata);
  adapter->writing_ = true;
  adapter->ArmWrite();
}

void AsioHiredisAdapter::DelWrite(void* privdata) {
  static_cast<AsioHiredisAdapter*>(privdata)->writing_ = false;
}

void AsioHiredisAdapter::Cleanup(void* privdata) {
  auto* adapter = static_cast<AsioHiredisAdapter*>(privdata);
  adapter->context_ = nullptr;
  adapter->reading_ = adapter->writing_ = false;
  // hiredis closes the fd right after this hook; release() deregisters it
  // and aborts the pending waits without closing it.
  if (adapter->socket_.is_open()) adapter->socket_.release();
  // Last: may destroy the adapter when no wait holds it.
  auto keep = std::move(adapter->self_);
}

void AsioHiredisAdapter::ArmRead() {
  if (read_armed_ || !reading_ || context_ == nullptr) return;
  read_armed_ = true;
  socket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& error) {
                       self->read_armed_ = false;
                       if (error || self->context_ == nullptr || !self->reading_) return;
                       // May run callbacks and free the context (Cleanup).
                       redisAsyncHandleRead(self->context_);
                       self->ArmRead();
                     });
}

void AsioHiredisAdapter::ArmWrite() {
  if (write_armed_ || !writing_ || context_ == nullptr) return;
  write_armed_ = true;
  socket_.async_wait(boost::asio::posix::stream_descriptor::wait_write,
                     [self = shared_from_this()](const boost::system::error_code& error) {
                       self->write_armed_ = false;
                       if (error || self->context_ == nullptr || !self->writing_) return;
                       redisAsyncHandleWrite(self->context_);
                       self->ArmWrite();
                     });
}

}  // namespace obgw::gateway
