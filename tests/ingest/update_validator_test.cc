#include "ingest/update_validator.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace obgw::ingest {
namespace {

using orderbook::v1::OrderBookUpdate;
using orderbook::v1::PriceLevel;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

void AddLevels(google::protobuf::RepeatedPtrField<PriceLevel>* side, int count, double best,
               double step) {
  for (int i = 0; i < count; ++i) {
    PriceLevel* level = side->Add();
    level->set_price(best + step * i);
    level->set_volume(100.0 * (i + 1));
    level->set_orders(static_cast<std::uint32_t>(i + 1));
  }
}

// A well-formed 10-level book.
OrderBookUpdate GoodBook() {
  OrderBookUpdate update;
  update.set_symbol("AAPL");
  AddLevels(update.mutable_bids(), 10, 100.00, -0.01);
  AddLevels(update.mutable_asks(), 10, 100.01, 0.01);
  update.set_timestamp("2024-05-01T13:45:07.123Z");
  update.set_source_time_ns(1714571107123000000);
  update.set_send_time_ns(1714571107124000000);
  update.set_source_seq(42);
  return update;
}

void ExpectInvalid(const OrderBookUpdate& update, const std::string& reason) {
  absl::Status status = ValidateUpdate(update, ValidationLimits{});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message(), reason);
}

TEST(UpdateValidatorTest, AcceptsGoodTenLevelBook) {
  EXPECT_TRUE(ValidateUpdate(GoodBook(), ValidationLimits{}).ok());
}

TEST(UpdateValidatorTest, AcceptsMinimalAndEmptyBooks) {
  OrderBookUpdate update;
  update.set_symbol("HK.00700");
  EXPECT_TRUE(ValidateUpdate(update, ValidationLimits{}).ok());
  // Volume 0 and orders 0 are legal ("unknown" / emptied level).
  PriceLevel* level = update.add_bids();
  level->set_price(0.0001);
  level->set_volume(0);
  EXPECT_TRUE(ValidateUpdate(update, ValidationLimits{}).ok());
}

TEST(UpdateValidatorTest, DoesNotRequireBestFirstOrdering) {
  OrderBookUpdate update = GoodBook();
  update.mutable_bids()->SwapElements(0, 9);
  update.mutable_asks(0)->set_price(99.0);  // Crossed book.
  EXPECT_TRUE(ValidateUpdate(update, ValidationLimits{}).ok());
}

TEST(UpdateValidatorTest, LevelLimitBoundary) {
  OrderBookUpdate update;
  update.set_symbol("MSFT");
  AddLevels(update.mutable_bids(), 1000, 500.0, -0.01);
  AddLevels(update.mutable_asks(), 1000, 500.01, 0.01);
  EXPECT_TRUE(ValidateUpdate(update, ValidationLimits{}).ok());

  AddLevels(update.mutable_asks(), 1, 600.0, 0.01);
  ExpectInvalid(update, "asks has 1001 levels, limit is 1000");

  update.mutable_asks()->RemoveLast();
  AddLevels(update.mutable_bids(), 200, 1.0, 0.01);
  ExpectInvalid(update, "bids has 1200 levels, limit is 1000");
}

TEST(UpdateValidatorTest, CustomLevelLimit) {
  ValidationLimits limits;
  limits.max_levels = 5;
  absl::Status status = ValidateUpdate(GoodBook(), limits);
  EXPECT_EQ(status.message(), "bids has 10 levels, limit is 5");
}

TEST(UpdateValidatorTest, RejectsInvalidSymbols) {
  OrderBookUpdate update = GoodBook();
  update.set_symbol("A B");
  ExpectInvalid(update, "symbol \"A B\" is invalid: 1-32 characters of [A-Za-z0-9._:-]");
  update.set_symbol("");
  ExpectInvalid(update, "symbol \"\" is invalid: 1-32 characters of [A-Za-z0-9._:-]");
  update.set_symbol(std::string(33, 'X'));
  ExpectInvalid(update, "symbol \"" + std::string(33, 'X') +
                            "\" is invalid: 1-32 characters of [A-Za-z0-9._:-]");
  update.set_symbol(std::string(32, 'X'));
  EXPECT_TRUE(ValidateUpdate(update, ValidationLimits{}).ok());
}

TEST(UpdateValidatorTest, QuotesHostileSymbolsEscapedAndTruncated) {
  OrderBookUpdate update = GoodBook();
  update.set_symbol("a\"b\n\\");
  ExpectInvalid(update, "symbol \"a\\\"b\\n\\\\\" is invalid: 1-32 characters of [A-Za-z0-9._:-]");
  update.set_symbol(std::string(5000, '/'));
  absl::Status status = ValidateUpdate(update, ValidationLimits{});
  EXPECT_EQ(status.message(), "symbol \"" + std::string(40, '/') +
                                  "...\" is invalid: 1-32 characters of [A-Za-z0-9._:-]");
}

TEST(UpdateValidatorTest, RejectsNonFinitePrices) {
  OrderBookUpdate update = GoodBook();
  update.mutable_bids(3)->set_price(kNaN);
  ExpectInvalid(update, "bids[3].price is not finite");
  update = GoodBook();
  update.mutable_asks(9)->set_price(kInf);
  ExpectInvalid(update, "asks[9].price is not finite");
  update = GoodBook();
  update.mutable_asks(0)->set_price(-kInf);
  ExpectInvalid(update, "asks[0].price is not finite");
}

TEST(UpdateValidatorTest, RejectsNonPositivePrices) {
  OrderBookUpdate update = GoodBook();
  update.mutable_bids(0)->set_price(0);
  ExpectInvalid(update, "bids[0].price must be > 0");
  update.mutable_bids(0)->set_price(-1.5);
  ExpectInvalid(update, "bids[0].price must be > 0");
}

TEST(UpdateValidatorTest, RejectsBadVolumes) {
  OrderBookUpdate update = GoodBook();
  update.mutable_bids(0)->set_volume(-1);
  ExpectInvalid(update, "bids[0].volume is negative");
  update = GoodBook();
  update.mutable_asks(2)->set_volume(kNaN);
  ExpectInvalid(update, "asks[2].volume is not finite");
  update.mutable_asks(2)->set_volume(kInf);
  ExpectInvalid(update, "asks[2].volume is not finite");
}

TEST(UpdateValidatorTest, ReportsFirstProblem) {
  OrderBookUpdate update = GoodBook();
  update.mutable_asks(0)->set_price(kNaN);
  update.mutable_bids(5)->set_volume(-2);
  ExpectInvalid(update, "bids[5].volume is negative");
}

TEST(UpdateValidatorTest, RejectsBadTimestamps) {
  OrderBookUpdate update = GoodBook();
  update.set_timestamp(std::string(64, '1'));
  EXPECT_TRUE(ValidateUpdate(update, ValidationLimits{}).ok());
  update.set_timestamp(std::string(65, '1'));
  ExpectInvalid(update, "timestamp is longer than 64 characters");
  update.set_timestamp("2024-05-01\n13:45");
  ExpectInvalid(update, "timestamp has a control character at offset 10");
  update.set_timestamp(std::string("x\0y", 3));
  ExpectInvalid(update, "timestamp has a control character at offset 1");
  // Quotes, backslashes and non-ASCII are fine: the renderer escapes them.
  update.set_timestamp("\"quoted\" \\ 13時45分");
  EXPECT_TRUE(ValidateUpdate(update, ValidationLimits{}).ok());
}

}  // namespace
}  // namespace obgw::ingest
