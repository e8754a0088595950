"""from_futu: a Futu OpenAPI order book → OrderBookUpdate.

Futu's OrderBookHandlerBase / OpenQuoteContext.get_order_book give a dict:

    {"code": "HK.00700", "name": "TENCENT",
     "svr_recv_time_bid": "2024-03-01 10:15:30.123",
     "svr_recv_time_ask": "2024-03-01 10:15:30.120",
     "Bid": [(380.2, 12000, 15, {...details...}), ...],     # best first
     "Ask": [(380.4, 9000, 8, {...}), ...]}

Decisions (docs/integration.md "Futu"):
  * symbol: Futu's code verbatim ("HK.00700", "US.AAPL"), which the gateway
    accepts and which stays unambiguous across markets; strip_market=True
    sends "00700" / "AAPL"; symbol="X" overrides.
  * levels: (price, volume, order_count) of each tuple, in Futu's order; the
    fourth element (per-order details) has no field in the proto: dropped.
  * time: svr_recv_time_* are the Futu server's receive times, as market-local
    wall-clock strings ("YYYY-MM-DD HH:MM:SS[.fff]", possibly empty). They are
    read in the market's time zone (HK Asia/Hong_Kong, US America/New_York,
    SH/SZ Asia/Shanghai, SG Asia/Singapore, JP Asia/Tokyo; tz= overrides, and
    is needed for other markets), and the newer of the two becomes the book's
    time: source_time_ns (nanoseconds since the epoch) and timestamp (ISO 8601
    UTC, milliseconds, e.g. "2024-03-01T02:15:30.123Z"). Both empty: neither
    field is set.

Accepts the dict or any object with these attributes. Raises ValueError for a
missing code, a side that is not a list of tuples, a bad number or an
unparsable time. Pure function; any thread.
"""

import datetime
import zoneinfo

from orderbook_gateway import books

# Futu market prefix → the time zone its svr_recv_time strings are in.
MARKET_TIME_ZONES = {
    "HK": "Asia/Hong_Kong",
    "US": "America/New_York",
    "SH": "Asia/Shanghai",
    "SZ": "Asia/Shanghai",
    "SG": "Asia/Singapore",
    "JP": "Asia/Tokyo",
}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _field(book, name):
    if isinstance(book, dict):
        return book.get(name)
    return getattr(book, name, None)


def _levels(book, side):
    levels = _field(book, side)
    if levels is None:
        return []
    if isinstance(levels, (str, bytes, dict)) or not hasattr(levels, "__iter__"):
        raise ValueError("%s must be a list of (price, volume, order_count, details) tuples, "
                         "got %s" % (side, type(levels).__name__))
    out = []
    for i, level in enumerate(levels):
        where = "%s[%d]" % (side, i)
        if not isinstance(level, (list, tuple)) or len(level) < 2:
            raise ValueError("%s must be a tuple (price, volume, order_count, details), got %r"
                             % (where, level))
        out.append(books._level(level[:3], side, i))
    return out


def _parse_time(text, zone, name):
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if not isinstance(text, str):
        raise ValueError("%s must be a string like '2024-03-01 10:15:30.123', got %r"
                         % (name, text))
    for fmt in _TIME_FORMATS:
        try:
            local = datetime.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=zone)
    raise ValueError("%s %r is not 'YYYY-MM-DD HH:MM:SS[.fff]'" % (name, text))


def _nanoseconds(moment):
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def from_futu(book, *, symbol=None, strip_market=False, tz=None, max_levels=books.MAX_LEVELS,
              validate=True):
    """The OrderBookUpdate for a Futu order book (see the module doc)."""
    code = _field(book, "code")
    if not isinstance(code, str) or not code:
        raise ValueError("a Futu order book needs its 'code' (e.g. 'HK.00700'), got %r" % (code,))
    market, dot, ticker = code.partition(".")
    if symbol is None:
        symbol = ticker if strip_market and dot else code
    if tz is None:
        name = MARKET_TIME_ZONES.get(market.upper()) if dot else None
        if name is None and (_field(book, "svr_recv_time_bid") or
                             _field(book, "svr_recv_time_ask")):
            raise ValueError("%s: no known time zone for market %r: pass tz=" % (code, market))
        zone = zoneinfo.ZoneInfo(name) if name else datetime.timezone.utc
    else:
        zone = zoneinfo.ZoneInfo(tz) if isinstance(tz, str) else tz
    try:
        update = books.build_update(symbol, _levels(book, "Bid"), _levels(book, "Ask"))
        times = [t for t in (_parse_time(_field(book, "svr_recv_time_bid"), zone,
                                         "svr_recv_time_bid"),
                             _parse_time(_field(book, "svr_recv_time_ask"), zone,
                                         "svr_recv_time_ask")) if t is not None]
    except ValueError as e:
        raise ValueError("Futu order book %s: %s" % (code, e)) from None
    if times:
        newest = max(times)
        update.source_time_ns = _nanoseconds(newest)
        update.timestamp = books.format_timestamp(newest)
    if validate:
        books.validate_update(update, max_levels)
    return update
