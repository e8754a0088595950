#include "gateway/fanout/message_inflater.h"

#include <algorithm>

namespace obgw::gateway {

MessageInflater::MessageInflater() {
  // Raw deflate (negative window bits: no zlib header) with the largest
  // window: it decodes what any smaller negotiated window produced.
  ready_ = inflateInit2(&zstream_, -15) == Z_OK;
}

MessageInflater::~MessageInflater() {
  if (ready_) inflateEnd(&zstream_);
}

MessageInflater::Result MessageInflater::Inflate(std::string_view compressed, std::size_t max_bytes,
                                                 std::string& out) {
  out.clear();
  if (!ready_) return Result::kCorrupt;
  // No context takeover: every message starts from a fresh dictionary.
  inflateReset(&zstream_);
  // RFC 7692 7.2.2: the sender removed the empty block's 00 00 FF FF; the
  // receiver appends it back.
  static constexpr unsigned char kTail[] = {0x00, 0x00, 0xFF, 0xFF};
  const std::string_view inputs[] = {
      compressed, std::string_view(reinterpret_cast<const char*>(kTail), sizeof(kTail))};
  bool ended = false;
  for (std::string_view input : inputs) {
    if (ended) break;
    zstream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    zstream_.avail_in = static_cast<uInt>(input.size());
    while (zstream_.avail_in > 0) {
      // Client messages are small: start at a few times their compressed
      // size and double.
      const std::size_t used = out.size();
      const std::size_t grow = std::max<std::size_t>(256, used == 0 ? 4 * compressed.size() : used);
      out.resize(used + grow);
      zstream_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      zstream_.avail_out = static_cast<uInt>(grow);
      const int result = inflate(&zstream_, Z_SYNC_FLUSH);
      out.resize(out.size() - zstream_.avail_out);
      if (max_bytes > 0 && out.size() > max_bytes) return Result::kTooBig;
      if (result == Z_STREAM_END) {
        ended = true;  // A final block: anything after it is ignored.
        break;
      }
      if (result != Z_OK && result != Z_BUF_ERROR) return Result::kCorrupt;
      if (result == Z_BUF_ERROR && zstream_.avail_out != 0) return Result::kCorrupt;
    }
  }
  return Result::kOk;
}

}  // namespace obgw::gateway
