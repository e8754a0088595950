"""Unit tests: books.py (both data shapes, the gateway's rules) and futu.py."""

import datetime
import decimal
import math
import unittest

from orderbook_gateway import from_futu, to_update, validate_update
from orderbook_gateway.broadcast import settings_from_env


def levels(side):
    return [(l.price, l.volume, l.orders) for l in side]


class ToUpdateTest(unittest.TestCase):
    def test_array_levels_the_grpc_shape(self):
        u = to_update("AAPL", {"bids": [[189.5, 100, 3], [189.4, 0.5]],
                               "asks": [[189.6, 200, 2, {"detail": 1}]],
                               "timestamp": "2024-01-01T12:00:00Z", "source_seq": 42})
        self.assertEqual(u.symbol, "AAPL")
        self.assertEqual(levels(u.bids), [(189.5, 100, 3), (189.4, 0.5, 0)])
        self.assertEqual(levels(u.asks), [(189.6, 200, 2)])
        self.assertEqual(u.timestamp, "2024-01-01T12:00:00Z")
        self.assertEqual(u.source_seq, 42)

    def test_object_levels_with_aliases_and_quoted_numbers(self):
        u = to_update("MSFT", {"bids": [{"price": "410.20", "volume": "5", "orders": 2},
                                        {"p": 410.1, "size": 7},
                                        {"px": decimal.Decimal("410.0"), "qty": 1,
                                         "order_count": 4}],
                               "asks": [{"price": 410.3, "quantity": 9, "count": "3"}]})
        self.assertEqual(levels(u.bids), [(410.2, 5, 2), (410.1, 7, 0), (410.0, 1, 4)])
        self.assertEqual(levels(u.asks), [(410.3, 9, 3)])
        self.assertEqual(u.timestamp, "")

    def test_the_guides_curl_body(self):
        u = to_update("AAPL", {"bids": [], "asks": [], "timestamp": "2024-01-01T12:00:00Z"})
        self.assertEqual((len(u.bids), len(u.asks), u.timestamp),
                         (0, 0, "2024-01-01T12:00:00Z"))

    def test_one_side_only_and_capitalised_keys(self):
        u = to_update("X", {"Bid": [[1, 2, 3]]})
        self.assertEqual(levels(u.bids), [(1, 2, 3)])
        self.assertEqual(len(u.asks), 0)

    def test_datetime_timestamp_becomes_utc_iso(self):
        hk = datetime.timezone(datetime.timedelta(hours=8))
        u = to_update("X", {"bids": [], "timestamp":
                            datetime.datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=hk)})
        self.assertEqual(u.timestamp, "2024-03-01T02:00:00.123Z")

    def assertRefused(self, data, text, symbol="AAPL"):
        with self.assertRaises(ValueError) as cm:
            to_update(symbol, data)
        self.assertIn(text, str(cm.exception))

    def test_bad_shapes_are_clear_value_errors(self):
        self.assertRefused([1, 2], "must be a dict")
        self.assertRefused({"foo": 1}, "has neither bids nor asks")
        self.assertRefused({"bids": "189.5"}, "bids must be a list of levels")
        self.assertRefused({"bids": [[189.5]]}, "bids[0] must be [price, volume]")
        self.assertRefused({"bids": [5]}, "bids[0] must be a list")
        self.assertRefused({"asks": [{"price": 1}]}, "asks[0] needs a price and a volume")
        self.assertRefused({"bids": [["abc", 1]]}, "bids[0].price must be a number, got 'abc'")
        self.assertRefused({"bids": [[True, 1]]}, "bids[0].price must be a number")
        self.assertRefused({"bids": [[1, 1, -1]]}, "bids[0].orders must be in 0..4294967295")
        self.assertRefused({"bids": [[1, 1, 2.5]]}, "bids[0].orders must be an integer")
        self.assertRefused({"bids": [], "timestamp": 5}, "timestamp must be a string")
        self.assertRefused({"bids": [], "timestamp": datetime.datetime(2024, 1, 1)},
                           "timezone-aware")
        self.assertRefused({"bids": [], "source_seq": -1}, "source_seq must be in")

    def test_the_gateways_rules_with_its_texts(self):
        self.assertRefused({"bids": []}, 'symbol "A B" is invalid: 1-32 characters', "A B")
        self.assertRefused({"bids": []}, "is invalid", "")
        self.assertRefused({"bids": []}, "is invalid", "X" * 33)
        self.assertRefused({"bids": [[math.nan, 1]]}, "AAPL: bids[0].price is not finite")
        self.assertRefused({"bids": [[1, 1], [0, 1]]}, "AAPL: bids[1].price must be > 0")
        self.assertRefused({"asks": [[1, math.inf]]}, "AAPL: asks[0].volume is not finite")
        self.assertRefused({"asks": [[1, -1]]}, "AAPL: asks[0].volume is negative")
        self.assertRefused({"bids": [], "timestamp": "x" * 65},
                           "timestamp is longer than 64 characters")
        self.assertRefused({"bids": [], "timestamp": "2024\n"},
                           "timestamp has a control character at offset 4")
        with self.assertRaises(ValueError) as cm:
            to_update("AAPL", {"bids": [[1, 1]] * 3}, max_levels=2)
        self.assertIn("bids has 3 levels, limit is 2", str(cm.exception))
        # Volume 0 and the edges of the symbol rule are valid.
        to_update("BRK-B.US:x_1", {"bids": [[1, 0]]})
        to_update("X" * 32, {"bids": []})

    def test_validation_can_be_skipped(self):
        u = to_update("A B", {"bids": [[math.nan, 1]]}, validate=False)
        self.assertTrue(math.isnan(u.bids[0].price))
        with self.assertRaises(ValueError):
            validate_update(u)


# Futu's get_order_book / OrderBookHandlerBase data, as the OpenAPI documents it.
HK_BOOK = {
    "code": "HK.00700", "name": "TENCENT",
    "svr_recv_time_bid": "2024-03-01 10:15:30.123",
    "svr_recv_time_ask": "2024-03-01 10:15:30.120",
    "Bid": [(380.2, 12000, 15, {}), (380.0, 53400, 41, {})],
    "Ask": [(380.4, 9000, 8, {}), (380.6, 21000, 17, {})],
}
US_BOOK = {
    "code": "US.AAPL", "name": "Apple",
    "svr_recv_time_bid": "2024-07-01 09:30:00.500",  # EDT, UTC-4
    "svr_recv_time_ask": "2024-07-01 09:30:00.750",
    "Bid": [(189.5, 300, 3, [{"orderid": 1, "volume": 100}])],
    "Ask": [(189.52, 100, 1, [])],
}


class FromFutuTest(unittest.TestCase):
    def test_hk_book(self):
        u = from_futu(HK_BOOK)
        self.assertEqual(u.symbol, "HK.00700")
        self.assertEqual(levels(u.bids), [(380.2, 12000, 15), (380.0, 53400, 41)])
        self.assertEqual(levels(u.asks), [(380.4, 9000, 8), (380.6, 21000, 17)])
        # The newer side (bid, .123) in Hong Kong time (UTC+8).
        self.assertEqual(u.timestamp, "2024-03-01T02:15:30.123Z")
        expected = datetime.datetime(2024, 3, 1, 2, 15, 30, 123000, tzinfo=datetime.timezone.utc)
        self.assertEqual(u.source_time_ns, int(expected.timestamp()) * 10**9 + 123000000)

    def test_us_book_in_new_york_time_with_dst(self):
        u = from_futu(US_BOOK)
        self.assertEqual(u.timestamp, "2024-07-01T13:30:00.750Z")
        winter = dict(US_BOOK, svr_recv_time_bid="2024-01-02 09:30:00",
                      svr_recv_time_ask="")
        self.assertEqual(from_futu(winter).timestamp, "2024-01-02T14:30:00.000Z")

    def test_symbol_choices(self):
        self.assertEqual(from_futu(US_BOOK, strip_market=True).symbol, "AAPL")
        self.assertEqual(from_futu(HK_BOOK, strip_market=True).symbol, "00700")
        self.assertEqual(from_futu(HK_BOOK, symbol="TCEHY").symbol, "TCEHY")

    def test_object_with_attributes_and_no_times(self):
        class Book:
            code = "SH.600519"
            Bid = [(1700.0, 100, 2, None)]
            Ask = []
            svr_recv_time_bid = ""
            svr_recv_time_ask = ""
        u = from_futu(Book())
        self.assertEqual((u.symbol, u.source_time_ns, u.timestamp), ("SH.600519", 0, ""))
        self.assertEqual(levels(u.bids), [(1700.0, 100, 2)])

    def test_explicit_time_zone(self):
        book = dict(HK_BOOK, code="XX.1", svr_recv_time_ask="")
        with self.assertRaises(ValueError) as cm:
            from_futu(book)
        self.assertIn("no known time zone for market 'XX'", str(cm.exception))
        self.assertEqual(from_futu(book, tz="UTC").timestamp, "2024-03-01T10:15:30.123Z")

    def test_bad_futu_input(self):
        for book, text in (
                ({"Bid": []}, "needs its 'code'"),
                (dict(HK_BOOK, Bid="380.2"), "Bid must be a list of"),
                (dict(HK_BOOK, Bid=[380.2]), "Bid[0] must be a tuple"),
                (dict(HK_BOOK, Ask=[("x", 1, 1, {})]), "Ask[0].price must be a number"),
                (dict(HK_BOOK, svr_recv_time_bid="10:15"), "svr_recv_time_bid '10:15' is not"),
                (dict(HK_BOOK, Bid=[(-1.0, 1, 1, {})]), "bids[0].price must be > 0"),
        ):
            with self.subTest(text=text), self.assertRaises(ValueError) as cm:
                from_futu(book)
            self.assertIn(text, str(cm.exception))


class SettingsFromEnvTest(unittest.TestCase):
    def test_the_guides_env_alone(self):
        self.assertEqual(settings_from_env({}),
                         {"target": "websocket_middleware:50051", "tls": False,
                          "root_certificates": None, "token": None, "batch": 64})
        s = settings_from_env({"WEBSOCKET_URL": "https://gw.example:8443"})
        self.assertEqual((s["target"], s["tls"]), ("gw.example:50051", True))
        self.assertEqual(settings_from_env({"WEBSOCKET_URL": "http://[::1]:8002"})["target"],
                         "[::1]:50051")

    def test_explicit_settings_win(self):
        s = settings_from_env({"WEBSOCKET_URL": "https://a:1", "ORDERBOOK_GATEWAY_GRPC": "b:2",
                               "ORDERBOOK_GATEWAY_TLS": "0", "PUBLISH_TOKEN": "t" * 20,
                               "ORDERBOOK_GATEWAY_BATCH": "32"})
        self.assertEqual(s, {"target": "b:2", "tls": False, "root_certificates": None,
                             "token": "t" * 20, "batch": 32})
        s = settings_from_env({"ORDERBOOK_GATEWAY_TLS_ROOT_CERT": "/etc/ca.pem"})
        self.assertEqual((s["tls"], s["root_certificates"]), (True, "/etc/ca.pem"))
        with self.assertRaises(ValueError):
            settings_from_env({"ORDERBOOK_GATEWAY_BATCH": "many"})


if __name__ == "__main__":
    unittest.main()
