// Package synth turns recorded TCP connections into capture files.
//
// It is test infrastructure for wsscope (it is never linked into the wsscope
// binary): the ground truth for the decoder is what a real endpoint sent, so
// captures are made by letting real WebSocket libraries (gorilla/websocket,
// coder/websocket) talk over a loopback TCP connection whose bytes are
// recorded with a [Recorder], and then synthesising the packets that would
// have carried those bytes with [Write].
//
// Write produces a TCP three-way handshake with seeded initial sequence
// numbers (every other connection starts within a few KiB of 2^32 so sequence
// numbers wrap), data segmented at the MSS or at explicit sizes, ACKs, a FIN
// or RST close, interleaving of several connections, valid IPv4/IPv6/TCP
// checksums, several link types and file formats, and optional damage
// (reordering, duplication, drops, snaplen truncation, missing handshake).
// Timestamps are synthetic (see [BaseTime]) so output is deterministic for a
// given input and seed.
package synth
