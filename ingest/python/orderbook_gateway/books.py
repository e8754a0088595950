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
_PLAIN = (float, int)

# Keys read for each side and each level field, in this order (the browser
# library's aliases, docs/browser-client.md 4).
_SIDE_KEYS = {"bids": ("bids", "Bids", "Bid", "bid"), "asks": ("asks", "Asks", "Ask", "ask")}
_PRICE_KEYS = ("price", "p", "px")
_VOLUME_KEYS = ("volume", "size", "quantity", "qty", "amount", "vol", "v")
_ORDERS_KEYS = ("orders", "order_count", "orderCount", "order_num", "num_orders", "count")


class _Refused(ValueError):
    """A book the gateway would refuse (raised as ValueError to the caller)."""


def is_valid_symbol(symbol):
    """The gateway's symbol rule: 1-32 characters of [A-Za-z0-9._:-]."""
    return isinstance(symbol, str) and _SYMBOL.match(symbol) is not None


def _number(value, where):
    if type(value) is float or type(value) is int:  # the common case, first
        return float(value)
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
    if type(value) is int and 0 <= value <= maximum:  # the common case, first
        return value
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


def _level(level, side, i):
    """(price, volume, orders) of one level; error texts name `side[i]`."""
    if type(level) is list or type(level) is tuple or isinstance(level, (list, tuple)):
        if len(level) < 2:
            raise ValueError("%s[%d] must be [price, volume] or [price, volume, orders, ...], "
                             "got %d element(s)" % (side, i, len(level)))
        price, volume = level[0], level[1]
        orders = level[2] if len(level) > 2 else None
    elif isinstance(level, dict):
        price = _first(level, _PRICE_KEYS)
        volume = _first(level, _VOLUME_KEYS)
        if price is None or volume is None:
            raise ValueError("%s[%d] needs a price and a volume (keys %s / %s)"
                             % (side, i, "/".join(_PRICE_KEYS[:1]), "/".join(_VOLUME_KEYS[:3])))
        orders = _first(level, _ORDERS_KEYS)
    else:
        raise ValueError("%s[%d] must be a list [price, volume, orders] or an object with price "
                         "and volume, got %s" % (side, i, type(level).__name__))
    # The common case (int or float, orders absent or a small int) costs no formatting.
    price = float(price) if type(price) in _PLAIN else _number(price, "%s[%d].price" % (side, i))
    volume = (float(volume) if type(volume) in _PLAIN
              else _number(volume, "%s[%d].volume" % (side, i)))
    if orders is None:
        orders = 0
    elif not (type(orders) is int and 0 <= orders <= _UINT32_MAX):
        orders = _count(orders, "%s[%d].orders" % (side, i), _UINT32_MAX)
    return price, volume, orders


def _side(data, side):
    for key in _SIDE_KEYS[side]:
        if key in data:
            levels = data[key]
            if levels is None:
                return []
            if isinstance(levels, (str, bytes, dict)) or not hasattr(levels, "__iter__"):
                raise ValueError("%s must be a list of levels, got %s"
                                 % (side, type(levels).__name__))
            return [_level(level, side, i) for i, level in enumerate(levels)]
    return None


def build_update(symbol, bids, asks):
    """An OrderBookUpdate from (price, volume, orders) tuples."""
    update = pb.OrderBookUpdate(symbol=symbol)
    for side, levels in ((update.bids, bids), (update.asks, asks)):
        for price, volume, orders in levels:
            side.add(price=price, volume=volume, orders=orders)
    return update


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
        timestamp = data.get("timestamp")
        timestamp = "" if timestamp is None else format_timestamp(timestamp)
        if validate and isinstance(symbol, str):
            reason = _check(symbol, bids or (), asks or (), timestamp, max_levels)
            if reason is not None:
                raise _Refused("%s: %s" % (symbol or "<empty symbol>", reason))
        update = build_update(symbol if isinstance(symbol, str) else "", bids or (), asks or ())
        if timestamp:
            update.timestamp = timestamp
        for key, maximum in (("source_time_ns", _INT64_MAX), ("send_time_ns", _INT64_MAX),
                             ("source_seq", _UINT64_MAX)):
            if data.get(key) is not None:
                setattr(update, key, _count(data[key], key, maximum))
    except _Refused:
        raise
    except ValueError as e:
        raise ValueError("orderbook_data for %r: %s" % (symbol, e)) from None
    if not isinstance(symbol, str):
        raise ValueError("symbol must be a string, got %s" % type(symbol).__name__)
    return update


def _check_side(side, levels, max_levels):
    if len(levels) > max_levels:
        return "%s has %d levels, limit is %d" % (side, len(levels), max_levels)
    isfinite = math.isfinite
    for i, (price, volume, _) in enumerate(levels):
        if not (isfinite(price) and price > 0 and isfinite(volume) and volume >= 0):
            if not isfinite(price):
                return "%s[%d].price is not finite" % (side, i)
            if price <= 0:
                return "%s[%d].price must be > 0" % (side, i)
            if not isfinite(volume):
                return "%s[%d].volume is not finite" % (side, i)
            return "%s[%d].volume is negative" % (side, i)
    return None


def _check(symbol, bids, asks, timestamp, max_levels):
    """The gateway's checks, in its order, on (price, volume, orders) tuples."""
    if not is_valid_symbol(symbol):
        return 'symbol "%s" is invalid: 1-32 characters of [A-Za-z0-9._:-]' % symbol[:40]
    reason = _check_side("bids", bids, max_levels) or _check_side("asks", asks, max_levels)
    if reason:
        return reason
    timestamp = timestamp.encode("utf-8")  # the gateway counts bytes
    if len(timestamp) > MAX_TIMESTAMP_LENGTH:
        return "timestamp is longer than %d characters" % MAX_TIMESTAMP_LENGTH
    for i, byte in enumerate(timestamp):
        if byte < 0x20:
            return "timestamp has a control character at offset %d" % i
    return None


def check_update(update, max_levels=MAX_LEVELS):
    """The gateway's reason for refusing `update` (its exact text), or None."""
    return _check(update.symbol, [(l.price, l.volume, l.orders) for l in update.bids],
                  [(l.price, l.volume, l.orders) for l in update.asks], update.timestamp,
                  max_levels)


def validate_update(update, max_levels=MAX_LEVELS):
    """Raises ValueError("<symbol>: <gateway reason>") when the gateway would refuse it."""
    reason = check_update(update, max_levels)
    if reason is not None:
        raise ValueError("%s: %s" % (update.symbol or "<empty symbol>", reason))
