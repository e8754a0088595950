#include "gateway/http/transport_detector.h"

#include <cassert>
#include <utility>

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/detect_ssl.hpp>

#include "gateway/http/http_session.h"
#include "gateway/server/shard.h"
#include "gateway/tls/tls_context.h"

namespace obgw::gateway {

namespace beast = boost::beast;

TransportDetector::TransportDetector(boost::asio::ip::tcp::socket socket, Shard& shard,
                                     const TlsContext& tls)
    : stream_(std::move(socket)), shard_(shard), tls_(tls) {}

void TransportDetector::Run() {
  assert(shard_.InThisThread());
  // The same bound as a TLS handshake: a silent client is dropped as one.
  stream_.expires_after(shard_.config().tls_handshake_timeout);
  beast::async_detect_ssl(
      stream_, buffer_,
      beast::bind_front_handler(&TransportDetector::OnDetect, shared_from_this()));
}

void TransportDetector::OnDetect(beast::error_code ec, bool tls) {
  assert(shard_.InThisThread());
  if (ec) {
    if (ec == beast::error::timeout) {
      shard_.stats().tls_handshake_timeout.fetch_add(1, std::memory_order_relaxed);
    }
    return;  // The peer left (or was too slow) before saying anything.
  }
  if (tls) {
    std::shared_ptr<boost::asio::ssl::context> context = tls_.Current();
    std::make_shared<TlsHttpSession>(TlsStream(std::move(stream_), *context), shard_,
                                     std::move(buffer_))
        ->Run();
  } else {
    std::make_shared<PlainHttpSession>(std::move(stream_), shard_, std::move(buffer_))->Run();
  }
}

}  // namespace obgw::gateway
