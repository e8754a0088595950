#include "gateway/http/web_handler.h"

#include <optional>
#include <utility>

#include <boost/url/parse.hpp>

#include "gateway/server/shard.h"
#include "gateway/web/web_files.h"
#include "gateway/web/web_path.h"

namespace obgw::gateway {
namespace {

namespace http = boost::beast::http;

// Strips optional whitespace (RFC 9110 section 5.6.3) from both ends.
std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Whether `host` (the request's Host) is only host[:port] characters, so it
// can go into a header as is; anything else gets no ws:/wss: source.
bool IsPlainHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

// Scripts, styles and images of the page's own origin only (no inline script,
// no eval); fetch (/health) to the same origin; the WebSocket to this host
// (ws: on http, wss: behind TLS: 'self' alone does not cover ws: in every
// browser). No plugins, no framing (clickjacking), no <base> rewrites.
std::string ContentSecurityPolicy(std::string_view host) {
  std::string connect = "connect-src 'self'";
  if (IsPlainHost(host)) {
    connect += " ws://";
    connect += host;
    connect += " wss://";
    connect += host;
  }
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
         connect +
         "; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";
}

}  // namespace

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  if (Trim(if_none_match) == "*") return true;
  while (!if_none_match.empty()) {
    std::size_t comma = if_none_match.find(',');
    std::string_view candidate = Trim(if_none_match.substr(0, comma));
    if (candidate.starts_with("W/")) candidate.remove_prefix(2);
    if (!candidate.empty() && candidate == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

HttpReply WebFileReply(std::string_view path, std::string_view content, std::string etag,
                       std::string_view if_none_match, std::string_view host) {
  HttpReply reply;
  // The content is copied into the reply only when it is sent: a 304 (the
  // common answer to a page reload) copies nothing.
  if (!if_none_match.empty() && EtagMatches(if_none_match, etag)) {
    reply.status = http::status::not_modified;
  } else {
    reply.body = std::string(content);
  }
  reply.headers.emplace_back(http::field::content_type, std::string(web::ContentTypeFor(path)));
  reply.headers.emplace_back(http::field::etag, std::move(etag));
  // no-cache, not max-age: the browser keeps the copy but asks each time (a
  // 304 costs one round trip and no body), so a deploy is seen on the next
  // load with no stale page or library mixed with a new gateway.
  reply.headers.emplace_back(http::field::cache_control, "no-cache");
  reply.named_headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.named_headers.emplace_back("Content-Security-Policy", ContentSecurityPolicy(host));
  return reply;
}

void HandleWeb(Shard& shard, HttpRequest& request, std::shared_ptr<HttpResponder> responder) {
  // The router parsed and checked the same target before routing here.
  auto url = boost::urls::parse_origin_form(request.target());
  std::string path = url ? std::string(url->path()) : std::string();
  std::optional<std::string> relative = web::RelativeWebPath(path);
  if (!relative) {
    return responder->Respond(
        ErrorReply(http::status::bad_request, "invalid_path", "not a file path"));
  }
  std::string_view if_none_match = request[http::field::if_none_match];
  std::string_view host = request[http::field::host];
  const std::string& root = shard.config().web_root;
  if (!root.empty()) {
    std::optional<std::string> content = web::ReadFromRoot(root, *relative);
    if (!content)
      return responder->Respond(ErrorReply(http::status::not_found, "not_found", "Not Found"));
    std::string etag = web::EtagOf(*content);
    return responder->Respond(
        WebFileReply(*relative, *content, std::move(etag), if_none_match, host));
  }
  const web::EmbeddedFile* file = web::FindEmbedded("/" + *relative);
  if (file == nullptr) {
    return responder->Respond(ErrorReply(http::status::not_found, "not_found", "Not Found"));
  }
  responder->Respond(
      WebFileReply(file->path, file->data, std::string(file->etag), if_none_match, host));
}

}  // namespace obgw::gateway
