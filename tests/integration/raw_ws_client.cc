#include "raw_ws_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace obgw::testing {
namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

int RawWsClient::Frame::close_code() const {
  if (payload.size() < 2) return 0;
  return (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
}

std::string RawWsClient::Frame::close_reason() const {
  return payload.size() > 2 ? payload.substr(2) : std::string();
}

RawWsClient::~RawWsClient() {
  if (fd_ >= 0) close(fd_);
}

bool RawWsClient::Connect(int port, std::string_view target, int receive_buffer, Duration timeout) {
  auto deadline = Clock::now() + timeout;
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  if (receive_buffer > 0) {
    // Before connect, so that the advertised window is small from the start.
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    error_ = std::string("connect: ") + std::strerror(errno);
    return false;
  }
  std::string request = "GET " + std::string(target) +
                        " HTTP/1.1\r\n"
                        "Host: 127.0.0.1:" +
                        std::to_string(port) +
                        "\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n" +
                        extra_headers_ + "\r\n";
  if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    error_ = std::string("send: ") + std::strerror(errno);
    return false;
  }
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore(deadline)) {
      error_ = "no complete response head: " + error_ + " (got: " + buffer_.substr(0, 200) + ")";
      return false;
    }
  }
  std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);  // Whatever follows is the first frames.
  // "HTTP/1.1 101 Switching Protocols"
  if (head.size() > 12) status_ = std::atoi(head.c_str() + 9);
  if (status_ != 101) {
    error_ = "handshake refused: " + head;
    return false;
  }
  return true;
}

bool RawWsClient::SendText(std::string_view text, Duration timeout) {
  return SendFrame(0x81, text, timeout);
}

bool RawWsClient::SendFrame(unsigned char first_byte, std::string_view text, Duration timeout) {
  std::string frame;
  frame.push_back(static_cast<char>(first_byte));
  const unsigned char mask_bit = 0x80;
  if (text.size() < 126) {
    frame.push_back(static_cast<char>(mask_bit | text.size()));
  } else if (text.size() <= 0xFFFF) {
    frame.push_back(static_cast<char>(mask_bit | 126));
    frame.push_back(static_cast<char>(text.size() >> 8));
    frame.push_back(static_cast<char>(text.size() & 0xFF));
  } else {
    frame.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) {
      frame.push_back(
          static_cast<char>((static_cast<std::uint64_t>(text.size()) >> (8 * i)) & 0xFF));
    }
  }
  const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
  frame.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < text.size(); ++i) {
    frame.push_back(static_cast<char>(text[i] ^ key[i % 4]));
  }
  auto deadline = Clock::now() + timeout;
  std::size_t sent = 0;
  while (sent < frame.size()) {
    pollfd p{fd_, POLLOUT, 0};
    if (poll(&p, 1, MillisLeft(deadline)) <= 0) {
      error_ = "send timed out";
      return false;
    }
    ssize_t n = send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      error_ = std::string("send: ") + std::strerror(errno);
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool RawWsClient::ReadMore(Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    int ready = poll(&p, 1, MillisLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      error_ = "read timed out";
      return false;
    }
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n == 0) {
      ended_ = true;
      error_ = "end of stream";
      return false;
    }
    if (n < 0) {
      ended_ = true;
      error_ = std::string("recv: ") + std::strerror(errno);
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<RawWsClient::Frame> RawWsClient::ReadFrame(Duration timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (buffer_.size() >= 2) {
      const auto* b = reinterpret_cast<const unsigned char*>(buffer_.data());
      std::size_t header = 2;
      std::uint64_t length = b[1] & 0x7F;
      bool masked = (b[1] & 0x80) != 0;
      bool complete_length = true;
      if (length == 126) {
        header = 4;
        complete_length = buffer_.size() >= header;
        if (complete_length) length = (std::uint64_t{b[2]} << 8) | b[3];
      } else if (length == 127) {
        header = 10;
        complete_length = buffer_.size() >= header;
        if (complete_length) {
          length = 0;
          for (int i = 0; i < 8; ++i) length = (length << 8) | b[2 + i];
        }
      }
      if (masked) header += 4;  // A server must not mask; tolerated here.
      if (complete_length && buffer_.size() >= header + length) {
        Frame frame;
        frame.fin = (b[0] & 0x80) != 0;
        frame.opcode = b[0] & 0x0F;
        frame.payload = buffer_.substr(header, length);
        if (masked) {
          const unsigned char* key = b + header - 4;
          for (std::size_t i = 0; i < frame.payload.size(); ++i) frame.payload[i] ^= key[i % 4];
        }
        buffer_.erase(0, header + length);
        return frame;
      }
    }
    if (!ReadMore(deadline)) return std::nullopt;
  }
}

bool RawWsClient::DrainUntilClosed(Duration timeout, std::size_t* bytes) {
  auto deadline = Clock::now() + timeout;
  if (bytes) *bytes = buffer_.size();
  buffer_.clear();
  while (!ended_) {
    if (!ReadMore(deadline)) break;
    if (bytes) *bytes += buffer_.size();
    buffer_.clear();
  }
  return ended_;
}

}  // namespace obgw::testing
