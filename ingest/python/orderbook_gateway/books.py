"""Books in, OrderBookUpdate out: conversion and the gateway's validation rules.

to_update(symbol, data) accepts the two `data` shapes a REST publisher sends
(the guide's POST /broadcast/orderbook body) and turns them into the proto the
gRPC API takes:

  * levels as arrays: {"bids": [[price, volume, orders], ...], ...}; orders and
    anything after it (Futu's details) optional: [price, volume] is enough;
  * levels as objects: {"bids": [{"price": p, "volume": v, "orders": n}, ...]}
    with the aliases the browser library reads (docs/browser-client.md 4).

Numbers may be int, float, Decimal or numeric strings ("189.50"). Besides the
sides, "timestamp" (str or datetime), "source_time_ns", "send_time_ns" and
"source_seq" are carried; other keys have no field in the proto and are
ignored (documented in docs/integration.md).

validate_update() applies the gateway's own checks (ingest/update_validator.cc)
before a book is sent, with the same reason texts, so a bad book fails at the
caller with a ValueError instead of being dropped by the gateway later.

Pure functions; any thread.
"""

import datetime
import decimal
import math
import re

from orderbook_gateway._stubs import pb

# Most levels per side the gateway accepts by default (--max_levels).
MAX_LEVELS = 1000
# Longest display timestamp (proto: at most 64 characters).
MAX_TIMESTAMP_LENGTH = 64
_SYMBOL = re.compile(r"[A-Za-z0-9._:-]{1,32}\Z")
_UINT32_MAX = 2**32 - 1
_INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1

# Keys read for each side and each level field, in this order (the browser
# library's aliases, docs/browser-client.md 4).
_SIDE_KEYS = {"bids": ("bids", "Bids", "Bid", "bid"), "asks": ("asks", "Asks", "Ask", "ask")}
_PRICE_KEYS = ("price", "p", "px")
_VOLUME_KEYS = ("volume", "size", "quantity", "qty", "amount", "vol", "v")
_ORDERS_KEYS = ("orders", "order_count", "orderCount", "order_num", "num_orders", "count")


def is_valid_symbol(symbol):
    """The gateway's symbol rule: 1-32 characters of [A-Za-z0-9._:-]."""
    return isinstance(symbol, str) and _SYMBOL.match(symbol) is not None


def _number(value, where):
    if isinstance(value, bool) or value is None:
        raise ValueError("%s must be a number, got %r" % (where, value))
    if isinstance(value, (int, float, decimal.Decimal)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError("%s must be a number, got %r" % (where, value)) from None
    raise ValueError("%s must be a number, got %s" % (where, type(value).__name__))


def _count(value, where, maximum):
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError("%s must be an integer, got %r" % (where, value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise ValueError("%s must be an integer, got %r" % (where, value))
    if value < 0 or value > maximum:
        raise ValueError("%s must be in 0..%d, got %d" % (where, maximum, value))
    return value


def _first(level, keys):
    for key in keys:
        if key in level:
            return level[key]
    return None


def _level(level, where):
    if isinstance(level, dict):
        price = _first(level, _PRICE_KEYS)
        volume = _first(level, _VOLUME_KEYS)
        if price is None or volume is None:
            raise ValueError("%s needs a price and a volume (keys %s / %s)"
                             % (where, "/".join(_PRICE_KEYS[:1]), "/".join(_VOLUME_KEYS[:3])))
        orders = _first(level, _ORDERS_KEYS)
    elif isinstance(level, (list, tuple)):
        if len(level) < 2:
            raise ValueError("%s must be [price, volume] or [price, volume, orders, ...], "
                             "got %d element(s)" % (where, len(level)))
        price, volume = level[0], level[1]
        orders = level[2] if len(level) > 2 else None
    else:
        raise ValueError("%s must be a list [price, volume, orders] or an object with price and "
                         "volume, got %s" % (where, type(level).__name__))
    return pb.PriceLevel(price=_number(price, where + ".price"),
                         volume=_number(volume, where + ".volume"),
                         orders=_count(orders, where + ".orders", _UINT32_MAX))


def _side(data, side):
    for key in _SIDE_KEYS[side]:
        if key in data:
            levels = data[key]
            if levels is None:
                return []
            if isinstance(levels, (str, bytes, dict)) or not hasattr(levels, "__iter__"):
                raise ValueError("%s must be a list of levels, got %s"
                                 % (side, type(levels).__name__))
            return [_level(level, "%s[%d]" % (side, i)) for i, level in enumerate(levels)]
    return None


def format_timestamp(value):
    """datetime → ISO 8601 in UTC with milliseconds and Z; str unchanged."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError("timestamp datetime must be timezone-aware, got a naive one")
        utc = value.astimezone(datetime.timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (utc.microsecond // 1000)
    if isinstance(value, str):
        return value
    raise ValueError("timestamp must be a string or a datetime, got %s" % type(value).__name__)


def to_update(symbol, data, max_levels=MAX_LEVELS, validate=True):
    """Builds the OrderBookUpdate for `symbol` from a REST-shaped `data` dict.

    Raises ValueError (naming the symbol and the field) when `data` has a
    shape no publisher sends or breaks a gateway rule (validate=True).
    """
    if not isinstance(data, dict):
        raise ValueError("orderbook_data for %r must be a dict (a JSON object), got %s"
                         % (symbol, type(data).__name__))
    try:
        bids = _side(data, "bids")
        asks = _side(data, "asks")
        if bids is None and asks is None:
            raise ValueError("has neither bids nor asks (keys: %s)"
                             % ", ".join(sorted(map(str, data))[:10]))
        update = pb.OrderBookUpdate(symbol=symbol if isinstance(symbol, str) else "",
                                    bids=bids or [], asks=asks or [])
        if data.get("timestamp") is not None:
            update.timestamp = format_timestamp(data["timestamp"])
        for key, maximum in (("source_time_ns", _INT64_MAX), ("send_time_ns", _INT64_MAX),
                             ("source_seq", _UINT64_MAX)):
            if data.get(key) is not None:
                setattr(update, key, _count(data[key], key, maximum))
    except ValueError as e:
        raise ValueError("orderbook_data for %r: %s" % (symbol, e)) from None
    if not isinstance(symbol, str):
        raise ValueError("symbol must be a string, got %s" % type(symbol).__name__)
    if validate:
        validate_update(update, max_levels)
    return update


def check_update(update, max_levels=MAX_LEVELS):
    """The gateway's reason for refusing `update` (its exact text), or None."""
    if not is_valid_symbol(update.symbol):
        return 'symbol "%s" is invalid: 1-32 characters of [A-Za-z0-9._:-]' % update.symbol[:40]
    for side, levels in (("bids", update.bids), ("asks", update.asks)):
        if len(levels) > max_levels:
            return "%s has %d levels, limit is %d" % (side, len(levels), max_levels)
        for i, level in enumerate(levels):
            if not math.isfinite(level.price):
                return "%s[%d].price is not finite" % (side, i)
            if level.price <= 0:
                return "%s[%d].price must be > 0" % (side, i)
            if not math.isfinite(level.volume):
                return "%s[%d].volume is not finite" % (side, i)
            if level.volume < 0:
                return "%s[%d].volume is negative" % (side, i)
    timestamp = update.timestamp.encode("utf-8")  # the gateway counts bytes
    if len(timestamp) > MAX_TIMESTAMP_LENGTH:
        return "timestamp is longer than %d characters" % MAX_TIMESTAMP_LENGTH
    for i, byte in enumerate(timestamp):
        if byte < 0x20:
            return "timestamp has a control character at offset %d" % i
    return None


def validate_update(update, max_levels=MAX_LEVELS):
    """Raises ValueError("<symbol>: <gateway reason>") when the gateway would refuse it."""
    reason = check_update(update, max_levels)
    if reason is not None:
        raise ValueError("%s: %s" % (update.symbol or "<empty symbol>", reason))
