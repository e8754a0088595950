#include "gateway/web/web_files.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "gateway/http/web_handler.h"

namespace obgw::gateway::web {
namespace {

namespace fs = std::filesystem;

class ReadFromRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("obgw-web-unit-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_ / "root/sub");
    fs::create_directories(base_ / "root-old");
    std::ofstream(base_ / "root/index.html") << "page";
    std::ofstream(base_ / "root/sub/a.js") << "js";
    std::ofstream(base_ / "root-old/secret") << "secret";
    std::ofstream(base_ / "secret") << "secret";
    fs::create_symlink(base_ / "secret", base_ / "root/out");
    fs::create_directory_symlink(base_ / "root-old", base_ / "root/old");
    fs::create_symlink(base_ / "root/sub/a.js", base_ / "root/in.js");
    root_ = *ResolveWebRoot((base_ / "root").string());
  }
  void TearDown() override { fs::remove_all(base_); }

  fs::path base_;
  fs::path root_;
};

TEST_F(ReadFromRootTest, ReadsFilesUnderTheRoot) {
  EXPECT_EQ(ReadFromRoot(root_, "index.html"), "page");
  EXPECT_EQ(ReadFromRoot(root_, "sub/a.js"), "js");
  // A symlink that stays inside the root is followed.
  EXPECT_EQ(ReadFromRoot(root_, "in.js"), "js");
}

TEST_F(ReadFromRootTest, RefusesWhatIsNotAFileUnderTheRoot) {
  EXPECT_EQ(ReadFromRoot(root_, "missing"), std::nullopt);
  EXPECT_EQ(ReadFromRoot(root_, "sub"), std::nullopt);  // a directory
  EXPECT_EQ(ReadFromRoot(root_, "out"), std::nullopt);  // symlink out
  // A sibling whose name starts with the root's ("root-old") is not under it.
  EXPECT_EQ(ReadFromRoot(root_, "old/secret"), std::nullopt);
  // Even if ".." got past RelativeWebPath, the resolved path is checked.
  EXPECT_EQ(ReadFromRoot(root_, "../secret"), std::nullopt);
}

TEST_F(ReadFromRootTest, ResolveWebRootWantsADirectory) {
  EXPECT_EQ(ResolveWebRoot((base_ / "secret").string()), std::nullopt);
  EXPECT_EQ(ResolveWebRoot((base_ / "nope").string()), std::nullopt);
  EXPECT_EQ(ResolveWebRoot((base_ / "root/../root").string()), root_);
}

TEST(EtagTest, StrongQuotedAndContentBased) {
  // SHA-256("") starts e3b0c44298fc1c149afbf4c8996fb924.
  EXPECT_EQ(EtagOf(""), "\"e3b0c44298fc1c149afbf4c8996fb924\"");
  EXPECT_NE(EtagOf("a"), EtagOf("b"));
}

TEST(EmbeddedFilesTest, SortedFindableAndTaggedByContent) {
  std::span<const EmbeddedFile> files = EmbeddedFiles();
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(files[i - 1].path, files[i].path);
    }
    EXPECT_EQ(FindEmbedded(files[i].path), &files[i]);
    EXPECT_EQ(files[i].etag, EtagOf(files[i].data)) << files[i].path;
  }
  EXPECT_EQ(FindEmbedded("/no-such-file.js"), nullptr);
  EXPECT_EQ(FindEmbedded("/"), FindEmbedded("/index.html"));
}

TEST(EtagMatchesTest, ListWildcardAndWeakComparison) {
  EXPECT_TRUE(EtagMatches("\"x\"", "\"x\""));
  EXPECT_TRUE(EtagMatches("\"a\", \"x\"", "\"x\""));
  EXPECT_TRUE(EtagMatches("W/\"x\"", "\"x\""));
  EXPECT_TRUE(EtagMatches(" * ", "\"x\""));
  EXPECT_FALSE(EtagMatches("\"y\"", "\"x\""));
  EXPECT_FALSE(EtagMatches("x", "\"x\""));
  EXPECT_FALSE(EtagMatches("", "\"x\""));
}

TEST(WebFileReplyTest, HeadersAnd304) {
  HttpReply full = WebFileReply("app.js", "code", "\"e\"", "", "h:1");
  EXPECT_EQ(full.status, boost::beast::http::status::ok);
  EXPECT_EQ(full.body, "code");
  HttpReply cached = WebFileReply("app.js", "code", "\"e\"", "\"e\"", "h:1");
  EXPECT_EQ(cached.status, boost::beast::http::status::not_modified);
  EXPECT_TRUE(cached.body.empty());
  std::string csp;
  for (const auto& [name, value] : full.named_headers) {
    if (name == "Content-Security-Policy") csp = value;
  }
  EXPECT_NE(csp.find("connect-src 'self' ws://h:1 wss://h:1"), std::string::npos) << csp;
  // A Host that could inject into the header gets no ws: source.
  HttpReply odd = WebFileReply("app.js", "code", "\"e\"", "", "evil; script-src *");
  for (const auto& [name, value] : odd.named_headers) {
    if (name == "Content-Security-Policy") {
      EXPECT_EQ(value.find("evil"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace obgw::gateway::web
