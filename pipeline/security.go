package pipeline

import "github.com/wsscope/wsscope/reassembly"

// keyReuse finds a Sec-WebSocket-Key sent by more than one connection of the
// run (handshake-key-reused, see reassembly.KeySet). Reuse is a property of
// the whole capture, so it is checked where connections are delivered, in
// output order (one goroutine): the finding does not depend on how the work
// was split among shards. Its memory is bounded by the KeySet's capacity
// (reassembly.DefaultMaxKeys).
type keyReuse struct {
	set *reassembly.KeySet
}

// check records pc's key and returns the finding when an earlier connection
// used it. It is called once per connection, right after Sink.ConnOpen.
func (k *keyReuse) check(pc *Conn) (Anomaly, bool) {
	if pc.Handshake == nil || !pc.Handshake.KeyValid {
		return Anomaly{}, false
	}
	if k.set == nil {
		k.set = reassembly.NewKeySet(0)
	}
	f, ok := k.set.Check(pc.Handshake, pc.ID)
	if !ok {
		return Anomaly{}, false
	}
	return Anomaly{Code: f.Code, Detail: f.Detail, Severity: f.Severity, From: "client",
		Packet: f.At.Packet, Time: f.At.Time}, true
}
