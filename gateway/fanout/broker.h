#ifndef OBGW_GATEWAY_FANOUT_BROKER_H_
#define OBGW_GATEWAY_FANOUT_BROKER_H_

#include <cstdint>
#include <string>

#include "gateway/fanout/book_update.h"

namespace obgw::gateway {

// The seam between this node's hub and the rest of the cluster, after
// Centrifuge's broker.go: a broker kept apart from the hub. It puts the books
// of each symbol into one order for the whole cluster (one seq per symbol,
// whichever node accepted the book), keeps the last book of each symbol (the
// snapshot a node that just started needs) and knows which symbols this node
// wants, so a cluster node only receives the symbols its clients follow.
//
// Why the interface is declared here and implemented in gateway/cluster: the
// hub calls it for every book, and gateway/fanout may not include
// gateway/cluster (dependencies point down). A typed interface costs one
// virtual call per book and states the hub's contract in one place; wiring
// the hub to the broker with callbacks in gateway/node would spread that
// contract over several type-erased functions for the same cost.
// Implementations: InProcessBroker (one node, gateway/cluster); a Redis broker
// for a cluster comes later.
//
// Threads: the hub calls Sequence, Follow and Unfollow on its own thread, and
// none of them may block it (a Redis broker hands the work to its own thread).
// epoch() may be called from any thread.
class Broker {
 public:
  virtual ~Broker() = default;

  // Gives `update`, a book accepted on this node (update.position is zero),
  // its place in its symbol's stream. `last` is the position of the last book
  // of that symbol the hub routed (zero before the first).
  //
  // Returns true when the broker orders books itself: update.position now
  // holds the book's position and the hub routes it at once. Returns false
  // when the book went to the cluster to be ordered: the broker took it (it
  // may move from `update`, including its on_routed, which it must keep and
  // run) and it comes back later, position set, through the hub's
  // UpdateQueue, as do the books other nodes accepted; the hub routes a book
  // that arrives with a position without calling Sequence again.
  virtual bool Sequence(BookUpdate& update, StreamPosition last) = 0;

  // The first subscriber of `symbol` on this node came (Follow) or the last
  // one left (Unfollow). A cluster broker receives a symbol's books only while
  // it is followed, and on Follow sends its last book, if the hub may not have
  // it, through the UpdateQueue.
  virtual void Follow(const std::string& symbol) = 0;
  virtual void Unfollow(const std::string& symbol) = 0;

  // Changes only when a symbol's seq could restart, so a client that sees a
  // new epoch knows to drop what it had. Sent with every snapshot and
  // subscription confirmation.
  virtual std::uint64_t epoch() const = 0;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_BROKER_H_
