// orderbook.proto as buf-style consumers see it: compiled by protoc with
// --include_source_info (CMake does it), every message, field, service and
// RPC has a leading comment (buf lint COMMENTS), the package is versioned and
// matches the file's directory (PACKAGE_VERSION_SUFFIX,
// PACKAGE_DIRECTORY_MATCH), and proto/buf.yaml names the module.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

namespace {

using google::protobuf::FileDescriptorProto;
using google::protobuf::FileDescriptorSet;

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

FileDescriptorProto OrderbookProto() {
  FileDescriptorSet set;
  EXPECT_TRUE(set.ParseFromString(ReadFile(OBGW_PROTO_DESCRIPTOR)));
  EXPECT_EQ(set.file_size(), 1);
  return set.file_size() == 1 ? set.file(0) : FileDescriptorProto();
}

// The leading comment at `path` (descriptor.proto's SourceCodeInfo paths).
std::string CommentAt(const FileDescriptorProto& file, const std::vector<int>& path) {
  for (const auto& location : file.source_code_info().location()) {
    if (std::vector<int>(location.path().begin(), location.path().end()) == path) {
      return location.leading_comments();
    }
  }
  return {};
}

// Field numbers in descriptor.proto.
constexpr int kMessageType = 4;  // FileDescriptorProto.message_type
constexpr int kField = 2;        // DescriptorProto.field
constexpr int kService = 6;      // FileDescriptorProto.service
constexpr int kMethod = 2;       // ServiceDescriptorProto.method

TEST(ProtoDocTest, EveryMessageFieldServiceAndRpcIsCommented) {
  FileDescriptorProto file = OrderbookProto();
  ASSERT_TRUE(file.has_source_code_info()) << "protoc --include_source_info";
  ASSERT_GT(file.message_type_size(), 0);
  int checked = 0;
  for (int m = 0; m < file.message_type_size(); ++m) {
    const auto& message = file.message_type(m);
    EXPECT_NE(CommentAt(file, {kMessageType, m}), "") << "message " << message.name();
    ++checked;
    for (int f = 0; f < message.field_size(); ++f) {
      EXPECT_NE(CommentAt(file, {kMessageType, m, kField, f}), "")
          << message.name() << "." << message.field(f).name();
      ++checked;
    }
  }
  ASSERT_EQ(file.service_size(), 1);
  for (int s = 0; s < file.service_size(); ++s) {
    EXPECT_NE(CommentAt(file, {kService, s}), "") << "service " << file.service(s).name();
    ++checked;
    for (int r = 0; r < file.service(s).method_size(); ++r) {
      EXPECT_NE(CommentAt(file, {kService, s, kMethod, r}), "")
          << "rpc " << file.service(s).method(r).name();
      ++checked;
    }
  }
  // 4 messages with 3 + 7 + 1 + 3 fields, 1 service with 2 RPCs.
  EXPECT_EQ(checked, 4 + 14 + 1 + 2);
}

TEST(ProtoDocTest, PackageIsVersionedAndMatchesTheDirectory) {
  FileDescriptorProto file = OrderbookProto();
  EXPECT_EQ(file.name(), "orderbook/v1/orderbook.proto");
  EXPECT_EQ(file.package(), "orderbook.v1");
  EXPECT_EQ(file.syntax(), "proto3");
}

TEST(ProtoDocTest, BufYamlNamesTheModuleAndItsRules) {
  std::string yaml = ReadFile(OBGW_BUF_YAML);
  EXPECT_NE(yaml.find("version: v1"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("name: "), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("lint:"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("breaking:"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("- COMMENTS"), std::string::npos) << yaml;
}

}  // namespace
