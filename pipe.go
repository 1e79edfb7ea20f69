package main

import (
	"context"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/pipeline"
)

// runPipeline analyses src and delivers the results to sink.
func runPipeline(ctx context.Context, src capture.Source, opts pipeline.Options, sink pipeline.Sink) (pipeline.Stats, error) {
	return pipeline.Run(ctx, src, opts, sink)
}
