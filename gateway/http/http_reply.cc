#include "gateway/http/http_reply.h"

#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace obgw::gateway {

HttpReply OkReply(std::string body) {
  HttpReply reply;
  reply.body = std::move(body);
  return reply;
}

HttpReply ErrorReply(boost::beast::http::status status, std::string_view code,
                     std::string_view detail) {
  boost::json::object body{{"detail", detail}, {"code", code}};
  HttpReply reply;
  reply.status = status;
  reply.body = boost::json::serialize(body);
  reply.error_code = code;
  return reply;
}

}  // namespace obgw::gateway
