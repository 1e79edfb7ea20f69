//go:build !unix

package tui

// Elsewhere, message index blocks are ordinary Go memory.

func allocMsgBlock() []msgRec { return make([]msgRec, blockLen) }

func freeMsgBlocks([][]msgRec) {}

func offheapMapped() (mapped, inUse int64) { return 0, 0 }
