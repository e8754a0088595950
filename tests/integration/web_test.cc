// The page and the client library over HTTP (issue 12): every file of
// gateway/web/static/ served byte-identical from the binary, with its type
// and ETag; 304, HEAD, the cache and security headers; --web_root from disk;
// path traversal refused; other methods 405; the existing routes unchanged.
#include <openssl/sha.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"

namespace obgw::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// The ETag the gateway gives `content`, computed here independently: the
// first 128 bits of its SHA-256, quoted.
std::string ExpectedEtag(std::string_view content) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest;
  SHA256(reinterpret_cast<const unsigned char*>(content.data()), content.size(), digest.data());
  char hex[33];
  for (int i = 0; i < 16; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return "\"" + std::string(hex, 32) + "\"";
}

std::string ExpectedType(const std::string& path) {
  static const std::vector<std::pair<std::string, std::string>> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".d.ts", "application/typescript; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"},
      {".map", "application/json"},
  };
  for (const auto& [suffix, type] : kTypes) {
    if (path.ends_with(suffix)) return type;
  }
  return "";
}

// A fresh directory under the test's temp dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    path_ = fs::path(base != nullptr ? base : "/tmp") /
            ("obgw-web-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

void ExpectWebHeaders(const HttpResponse& response) {
  EXPECT_EQ(response.Header("cache-control"), "no-cache") << response.Describe();
  EXPECT_EQ(response.Header("x-content-type-options"), "nosniff") << response.Describe();
  std::string csp = response.Header("content-security-policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos) << csp;
}

TEST(WebTest, EveryEmbeddedFileIsServedByteIdenticalWithTypeAndEtag) {
  OBGW_START_GATEWAY(gw, {});
  fs::path root = fs::path(OBGW_SOURCE_DIR) / "gateway/web/static";
  ASSERT_TRUE(fs::is_directory(root)) << root;
  int served = 0;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::string url = "/" + fs::relative(entry.path(), root).generic_string();
    std::string content = ReadFile(entry.path());
    HttpResponse response = HttpGet(gw->http_port(), url);
    ASSERT_EQ(response.status, 200) << url << ": " << response.Describe();
    EXPECT_EQ(response.body, content) << url << " is not the file in the source tree";
    EXPECT_EQ(response.Header("etag"), ExpectedEtag(content)) << url;
    std::string type = ExpectedType(url);
    if (!type.empty()) {
      EXPECT_EQ(response.Header("content-type"), type) << url;
    }
    ExpectWebHeaders(response);
    ++served;
  }
  EXPECT_GT(served, 0);
}

TEST(WebTest, RootIsIndexHtmlAndCspAllowsWebSocketToTheSameHost) {
  OBGW_START_GATEWAY(gw, {});
  fs::path index = fs::path(OBGW_SOURCE_DIR) / "gateway/web/static/index.html";
  if (!fs::exists(index)) GTEST_SKIP() << "no index.html in gateway/web/static yet";
  HttpResponse root = HttpGet(gw->http_port(), "/");
  ASSERT_EQ(root.status, 200) << root.Describe();
  EXPECT_EQ(root.body, ReadFile(index));
  EXPECT_EQ(root.Header("content-type"), "text/html; charset=utf-8");
  HttpResponse named = HttpGet(gw->http_port(), "/index.html");
  EXPECT_EQ(named.body, root.body);
  EXPECT_EQ(named.Header("etag"), root.Header("etag"));
  std::string host = "127.0.0.1:" + std::to_string(gw->http_port());
  std::string csp = root.Header("content-security-policy");
  EXPECT_NE(csp.find("ws://" + host), std::string::npos) << csp;
  EXPECT_NE(csp.find("wss://" + host), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
}

TEST(WebTest, IfNoneMatchIs304AndHeadHasHeadersWithoutBody) {
  TempDir dir;
  WriteFile(dir.path() / "app.js", "export const x = 1;\n");
  OBGW_START_GATEWAY(gw, {"--web_root=" + dir.path().string()});
  HttpResponse full = HttpGet(gw->http_port(), "/app.js");
  ASSERT_EQ(full.status, 200) << full.Describe();
  std::string etag = full.Header("etag");
  EXPECT_EQ(etag, ExpectedEtag("export const x = 1;\n"));

  for (const std::string& condition : {etag, "\"other\", " + etag, "W/" + etag, std::string("*")}) {
    HttpResponse cached =
        HttpRequest(gw->http_port(), "GET", "/app.js", {}, {{"If-None-Match", condition}});
    EXPECT_EQ(cached.status, 304) << condition << ": " << cached.Describe();
    EXPECT_TRUE(cached.body.empty());
    EXPECT_EQ(cached.Header("etag"), etag);
    EXPECT_EQ(cached.Header("cache-control"), "no-cache");
  }
  HttpResponse stale =
      HttpRequest(gw->http_port(), "GET", "/app.js", {}, {{"If-None-Match", "\"older\""}});
  EXPECT_EQ(stale.status, 200) << stale.Describe();
  EXPECT_EQ(stale.body, full.body);

  HttpResponse head = HttpRequest(gw->http_port(), "HEAD", "/app.js");
  EXPECT_EQ(head.status, 200) << head.Describe();
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.Header("content-length"), std::to_string(full.body.size()));
  EXPECT_EQ(head.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(head.Header("etag"), etag);
  ExpectWebHeaders(head);
}

TEST(WebTest, WebRootIsReadOnEveryRequest) {
  TempDir dir;
  WriteFile(dir.path() / "index.html", "<p>one</p>");
  OBGW_START_GATEWAY(gw, {"--web_root=" + dir.path().string()});
  HttpResponse first = HttpGet(gw->http_port(), "/");
  ASSERT_EQ(first.status, 200) << first.Describe();
  EXPECT_EQ(first.body, "<p>one</p>");

  // An edit shows on the next request, with a new ETag: no restart.
  WriteFile(dir.path() / "index.html", "<p>two</p>");
  HttpResponse second = HttpGet(gw->http_port(), "/index.html");
  EXPECT_EQ(second.body, "<p>two</p>");
  EXPECT_NE(second.Header("etag"), first.Header("etag"));

  // A file added later, in a subfolder, of each type.
  WriteFile(dir.path() / "client/lib.d.ts", "export {};\n");
  WriteFile(dir.path() / "img/logo.svg", "<svg/>");
  WriteFile(dir.path() / "data.json", "{}");
  EXPECT_EQ(HttpGet(gw->http_port(), "/client/lib.d.ts").Header("content-type"),
            "application/typescript; charset=utf-8");
  EXPECT_EQ(HttpGet(gw->http_port(), "/img/logo.svg").Header("content-type"), "image/svg+xml");
  EXPECT_EQ(HttpGet(gw->http_port(), "/data.json").body, "{}");

  // Gone from disk: the usual JSON 404.
  fs::remove(dir.path() / "data.json");
  HttpResponse gone = HttpGet(gw->http_port(), "/data.json");
  EXPECT_EQ(gone.status, 404) << gone.Describe();
  ExpectErrorBody(gone, "not_found");
  // A directory is not a file.
  EXPECT_EQ(HttpGet(gw->http_port(), "/img").status, 404);
}

TEST(WebTest, TraversalOutOfTheWebRootIsRefused) {
  TempDir outside;
  WriteFile(outside.path() / "secret.txt", "secret");
  TempDir dir;
  WriteFile(dir.path() / "index.html", "<p>page</p>");
  WriteFile(dir.path() / ".env", "TOKEN=1");
  fs::create_directory_symlink(outside.path(), dir.path() / "out");
  fs::create_symlink(outside.path() / "secret.txt", dir.path() / "link.txt");
  OBGW_START_GATEWAY(gw, {"--web_root=" + dir.path().string()});
  int port = gw->http_port();
  std::string up = "/../" + outside.path().filename().string() + "/secret.txt";

  // Sent byte for byte: no client-side normalisation of the dots.
  for (std::string target :
       {up, "/%2e%2e/" + outside.path().filename().string() + "/secret.txt",
        std::string("/%2E%2E%2fetc%2fpasswd"), std::string("/..%5c..%5cetc%5cpasswd"),
        std::string("/index.html%00.js"), std::string("/./index.html"), std::string("/.env"),
        std::string("/%2eenv")}) {
    HttpResponse response = RawHttpExchange(
        port, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(response.status, 400) << target << ": " << response.Describe();
    ExpectErrorBody(response, "invalid_path");
    EXPECT_EQ(response.body.find("secret"), std::string::npos);
  }
  HttpResponse authority =
      RawHttpExchange(port, "GET //etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(authority.status, 400) << authority.Describe();
  // A raw backslash in the target.
  HttpResponse backslash = RawHttpExchange(
      port, "GET /..\\..\\etc\\passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(backslash.status == 400 || backslash.status == 0) << backslash.Describe();
  // Symlinks pointing out of the root: refused whatever their name.
  for (const char* target : {"/out/secret.txt", "/link.txt"}) {
    HttpResponse response = HttpGet(port, target);
    EXPECT_EQ(response.status, 404) << target << ": " << response.Describe();
    EXPECT_EQ(response.body.find("secret\""), std::string::npos);
  }
  // The same traversal attempts against the embedded set.
  OBGW_START_GATEWAY(embedded, {});
  for (std::string target :
       {std::string("/../gateway/main.cc"), std::string("/%2e%2e/CMakeLists.txt"),
        std::string("/client/../../README.md")}) {
    HttpResponse response =
        RawHttpExchange(embedded->http_port(),
                        "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(response.status, 400) << target << ": " << response.Describe();
  }
  EXPECT_EQ(HttpGet(port, "/").body, "<p>page</p>");
}

TEST(WebTest, OtherMethodsAre405AndUnknownPathsKeepTheJson404) {
  OBGW_START_GATEWAY(gw, {});
  int port = gw->http_port();
  for (std::string_view method : {"POST", "PUT", "DELETE", "PATCH"}) {
    for (std::string_view target : {"/", "/index.html", "/client/orderbook-client.js"}) {
      if (target != "/" &&
          !fs::exists(fs::path(OBGW_SOURCE_DIR) / "gateway/web/static" / target.substr(1))) {
        continue;
      }
      HttpResponse response = HttpRequest(port, method, target, "{}");
      EXPECT_EQ(response.status, 405) << method << " " << target << ": " << response.Describe();
      EXPECT_EQ(response.Header("allow"), "GET, HEAD");
      ExpectErrorBody(response, "method_not_allowed");
    }
  }
  for (std::string_view target : {"/nope.js", "/client/", "/client/missing.js"}) {
    HttpResponse response = HttpGet(port, target);
    EXPECT_TRUE(response.status == 404 || response.status == 400) << target << response.Describe();
    EXPECT_EQ(response.Header("content-type"), "application/json") << target;
  }
  HttpResponse missing = HttpGet(port, "/nope.js");
  EXPECT_EQ(missing.status, 404);
  ExpectErrorBody(missing, "not_found");
  // The existing routes answer as before.
  EXPECT_EQ(HttpGet(port, "/health").status, 200);
  EXPECT_EQ(HttpGet(port, "/health").Header("content-type"), "application/json");
  EXPECT_EQ(HttpGet(port, "/stats").status, 200);
  EXPECT_EQ(HttpGet(port, "/metrics").status, 200);
  EXPECT_EQ(HttpGet(port, "/broadcast/orderbook?symbol=A").status, 405);
  EXPECT_EQ(HttpGet(port, "/ws/alice").status, 426);
}

TEST(WebTest, WebRootThatIsNotADirectoryStopsTheGateway) {
  std::string error;
  auto gw = StartGateway({"--web_root=/nonexistent/obgw-web"}, &error);
  EXPECT_EQ(gw, nullptr);
}

}  // namespace
}  // namespace obgw::testing
