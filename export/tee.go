package export

import (
	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

// Tee returns a Sink that passes every call to each of sinks in order.
func Tee(sinks ...pipeline.Sink) pipeline.Sink {
	if len(sinks) == 1 {
		return sinks[0]
	}
	return tee(sinks)
}

type tee []pipeline.Sink

func (t tee) ConnOpen(c *pipeline.Conn) {
	for _, s := range t {
		s.ConnOpen(c)
	}
}

func (t tee) Message(c *pipeline.Conn, m *wsdecode.Message) {
	for _, s := range t {
		s.Message(c, m)
	}
}

func (t tee) Anomaly(c *pipeline.Conn, a *pipeline.Anomaly) {
	for _, s := range t {
		s.Anomaly(c, a)
	}
}

func (t tee) ConnEnd(c *pipeline.Conn) {
	for _, s := range t {
		s.ConnEnd(c)
	}
}
