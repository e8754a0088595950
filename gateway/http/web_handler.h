#ifndef OBGW_GATEWAY_HTTP_WEB_HANDLER_H_
#define OBGW_GATEWAY_HTTP_WEB_HANDLER_H_

#include <memory>
#include <string>
#include <string_view>

#include "gateway/http/http_reply.h"

namespace obgw::gateway {

// GET (and HEAD) of the live page and the client library: the file the path
// names, embedded (gateway/web) or, with --web_root, read from that directory
// now. Public: the page has to load before it can ask for a token; its
// WebSocket goes through --allowed_origins and auth like any other. Answers
// at once, on the shard's thread.
void HandleWeb(Shard& shard, HttpRequest& request, std::shared_ptr<HttpResponder> responder);

// The reply for a file: 200 with `content`, or 304 when `if_none_match`
// names `etag`; with Content-Type, ETag, Cache-Control, nosniff and the
// page's Content-Security-Policy (which lets it connect to `host` over
// ws: and wss:). Pure; exposed for the unit tests.
HttpReply WebFileReply(std::string_view path, std::string_view content, std::string etag,
                       std::string_view if_none_match, std::string_view host);

// Whether an If-None-Match value names `etag` ("*", or one entry of the
// list; the weak comparison RFC 9110 section 13.1.2 asks for).
bool EtagMatches(std::string_view if_none_match, std::string_view etag);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_WEB_HANDLER_H_
